package watermark

import "testing"

func TestGeneratorAndTrackerFollowSparkRules(t *testing.T) {
	minute := int64(60e6)
	a := NewGenerator(10 * minute)
	b := NewGenerator(0)
	tr := NewTracker(a, b)
	if got := tr.Advance(); got != MinTime {
		t.Fatalf("no events yet: watermark %v, want -inf", got)
	}
	a.Observe(Time(100 * minute))
	if got := tr.Advance(); got != MinTime {
		t.Fatalf("input b has seen nothing: the minimum is still -inf, got %v", got)
	}
	b.Observe(Time(50 * minute))
	if got := tr.Advance(); got != Time(50*minute) {
		t.Fatalf("min(100m-10m, 50m-0) = 50m, got %v", got)
	}
	a.Observe(Time(20 * minute)) // late event: max seen stays 100m
	b.Observe(Time(200 * minute))
	if got := tr.Advance(); got != Time(90*minute) {
		t.Fatalf("min(90m, 200m) = 90m, got %v", got)
	}
	// The watermark never goes backwards, even if a generator is restored to an older state.
	a.Restore(Time(30*minute), true)
	if got := tr.Advance(); got != Time(90*minute) {
		t.Fatalf("watermark moved backwards to %v", got)
	}
}

func TestGeneratorDelayNearMinTimeDoesNotOverflow(t *testing.T) {
	g := NewGenerator(1000)
	g.Observe(MinTime + 10)
	if g.Current() != MinTime {
		t.Fatalf("got %v", g.Current())
	}
}
