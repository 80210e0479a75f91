package watermark

// Generator is the watermark of one input: the maximum event time seen so far minus the declared
// delay (Spark's withWatermark). Until the first event it is MinTime: nothing is late yet.
type Generator struct {
	delay   int64
	maxSeen Time
	seen    bool
}

// NewGenerator returns a generator for an input declared with WATERMARK FOR col AS col - delay.
// delay is in microseconds and must not be negative.
func NewGenerator(delay int64) *Generator {
	return &Generator{delay: delay, maxSeen: MinTime}
}

// Delay returns the declared delay in microseconds.
func (g *Generator) Delay() int64 { return g.delay }

// Observe records an event time.
func (g *Generator) Observe(t Time) {
	if !g.seen || t > g.maxSeen {
		g.maxSeen = t
		g.seen = true
	}
}

// Seen reports whether any event has been observed.
func (g *Generator) Seen() bool { return g.seen }

// MaxEventTime is the largest event time observed (MinTime if none).
func (g *Generator) MaxEventTime() Time { return g.maxSeen }

// Current is max event time minus delay, or MinTime before any event.
func (g *Generator) Current() Time {
	if !g.seen {
		return MinTime
	}
	if g.maxSeen < MinTime+Time(g.delay) {
		return MinTime
	}
	return g.maxSeen - Time(g.delay)
}

// Restore sets the generator's state from a checkpoint.
func (g *Generator) Restore(maxSeen Time, seen bool) { g.maxSeen, g.seen = maxSeen, seen }

// Tracker combines the generators of a query's inputs into the global watermark: the minimum
// over inputs (Spark's default multi-watermark policy), computed at the end of an epoch with
// Advance and used by the next epoch, never moving backwards.
type Tracker struct {
	inputs  []*Generator
	current Time
}

// NewTracker tracks the given inputs; with none, the watermark stays MinTime.
func NewTracker(inputs ...*Generator) *Tracker {
	return &Tracker{inputs: inputs, current: MinTime}
}

// Current is the watermark in force for the running epoch.
func (t *Tracker) Current() Time { return t.current }

// Advance computes the watermark for the next epoch from what the inputs have seen. It returns the
// new watermark, which is never below the previous one.
func (t *Tracker) Advance() Time {
	if len(t.inputs) == 0 {
		return t.current
	}
	next := MaxTime
	for _, g := range t.inputs {
		next = min(next, g.Current())
	}
	if next > t.current {
		t.current = next
	}
	return t.current
}

// Restore sets the watermark from a checkpoint (the commit of the last epoch).
func (t *Tracker) Restore(wm Time) { t.current = wm }
