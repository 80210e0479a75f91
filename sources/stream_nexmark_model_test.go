package sources

import (
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// The builder-based generator the column generator (stream_nexmark_gen.go) replaced, kept as
// the reference for TestNexmarkGeneratorMatchesModel: one event at a time, each value appended
// through an Arrow builder, written straight from the model's description.

// nexBuilders accumulates the declared columns of one record.
type nexBuilders struct {
	s     *NexmarkStream
	ints  []*array.Int64Builder // by nexColumns index (nil when not declared or not BIGINT)
	times []*array.TimestampBuilder
	strs  []*array.StringBuilder
	buf   []byte
	rows  int
}

func newNexBuilders(s *NexmarkStream) *nexBuilders {
	n := len(nexColumns[s.kind])
	g := &nexBuilders{s: s, ints: make([]*array.Int64Builder, n), times: make([]*array.TimestampBuilder, n), strs: make([]*array.StringBuilder, n)}
	for _, idx := range s.fields {
		switch t := nexColumns[s.kind][idx].typ; t.ID() {
		case arrow.INT64:
			g.ints[idx] = array.NewInt64Builder(s.mem)
		case arrow.TIMESTAMP:
			g.times[idx] = array.NewTimestampBuilder(s.mem, t.(*arrow.TimestampType))
		default:
			g.strs[idx] = array.NewStringBuilder(s.mem)
		}
	}
	g.reserve()
	return g
}

func (g *nexBuilders) release() {
	for i := range g.ints {
		if g.ints[i] != nil {
			g.ints[i].Release()
		}
		if g.times[i] != nil {
			g.times[i].Release()
		}
		if g.strs[i] != nil {
			g.strs[i].Release()
		}
	}
}

// int and time append without a capacity check: reserve made room for batch_size rows.
func (g *nexBuilders) int(i int, v int64) {
	if b := g.ints[i]; b != nil {
		b.UnsafeAppend(v)
	}
}

func (g *nexBuilders) time(i int, us int64) {
	if b := g.times[i]; b != nil {
		b.UnsafeAppend(arrow.Timestamp(us))
	}
}

// reserve makes room for a whole batch in the fixed-width builders (after creation and flush).
func (g *nexBuilders) reserve() {
	for i := range g.ints {
		if g.ints[i] != nil {
			g.ints[i].Reserve(g.s.batchRows)
		}
		if g.times[i] != nil {
			g.times[i].Reserve(g.s.batchRows)
		}
	}
}

// str appends the string text builds into the scratch buffer, if column i is declared.
func (g *nexBuilders) str(i int, build func(b []byte) []byte) {
	if b := g.strs[i]; b != nil {
		g.buf = build(g.buf[:0])
		b.BinaryBuilder.Append(g.buf)
	}
}

// wanted reports whether column i is declared (to skip building strings nobody reads).
func (g *nexBuilders) wanted(i int) bool { return g.strs[i] != nil }

// appendNexExtra appends random lowercase letters so that an event of size bytes results, given
// the bytes its other fields take (8 per BIGINT or TIMESTAMP, the length of each string), as the
// reference generator counts them.
func appendNexExtra(b []byte, r *nexRand, size, used int) []byte {
	return appendNexLetters(b, r, size-used)
}

// appendNexLetters appends n random lowercase letters, twelve from each 64-bit draw.
func appendNexLetters(b []byte, r *nexRand, n int) []byte {
	for n > 0 {
		x := r.next()
		for k := 0; k < 12 && n > 0; k, n = k+1, n-1 {
			b = append(b, nexLetters[x%26])
			x /= 26
		}
	}
	return b
}

// add generates event id (of the stream's kind) into the builders.
func (g *nexBuilders) add(id int64) {
	s := g.s
	r := newNexRand(s.seed, id)
	ts := s.startUs + int64(float64(id)*s.interUs)
	switch s.kind {
	case nexPerson:
		pid := nexFirstPerson + nexLastPerson(id)
		first, last := nexFirstNames[r.intn(int64(len(nexFirstNames)))], nexLastNames[r.intn(int64(len(nexLastNames)))]
		city, state := nexCities[r.intn(int64(len(nexCities)))], nexStates[r.intn(int64(len(nexStates)))]
		card := r.intn(10_000_000_000_000_000)
		g.int(0, pid)
		g.str(1, func(b []byte) []byte { return append(append(append(b, first...), ' '), last...) })
		g.str(2, func(b []byte) []byte { return append(append(append(append(b, last...), '@'), first...), ".com"...) })
		g.str(3, func(b []byte) []byte {
			v := strconv.AppendInt(nil, card, 10)
			for len(v) < 16 {
				v = append([]byte{'0'}, v...)
			}
			return append(append(append(append(append(append(append(b, v[0:4]...), ' '), v[4:8]...), ' '), v[8:12]...), ' '), v[12:16]...)
		})
		g.str(4, func(b []byte) []byte { return append(b, city...) })
		g.str(5, func(b []byte) []byte { return append(b, state...) })
		g.time(6, ts)
		if g.wanted(7) {
			used := 8 + (len(first) + 1 + len(last)) + (len(last) + 1 + len(first) + 4) + 19 + len(city) + len(state) + 8
			g.str(7, func(b []byte) []byte { return appendNexExtra(b, &r, 200, used) })
		}
	case nexAuction:
		aid := nexFirstAuction + nexLastAuction(id)
		initial := logUniformCentsModel(&r)
		reserve := initial + logUniformCentsModel(&r)
		seller := nexFirstPerson + r.person(id, r.intn(4) > 0)
		category := nexFirstCategory + r.intn(nexCategories)
		// About nexInFlight auctions open at a time: one opens every 50/3 events.
		length := int64(float64(nexInFlight*nexProportion/nexAuctionProp) * s.interUs)
		expires := ts + max(1, r.intn(2*max(length, 1)))
		g.int(0, aid)
		g.str(1, func(b []byte) []byte { return strconv.AppendInt(append(b, "item-"...), aid, 10) })
		g.str(2, func(b []byte) []byte { return strconv.AppendInt(append(b, "description of item "...), aid, 10) })
		g.int(3, initial)
		g.int(4, reserve)
		g.time(5, ts)
		g.time(6, expires)
		g.int(7, seller)
		g.int(8, category)
		if g.wanted(9) {
			digits := decimalDigits(aid)
			used := 8 + (5 + digits) + (20 + digits) + 6*8
			g.str(9, func(b []byte) []byte { return appendNexExtra(b, &r, 500, used) })
		}
	case nexBid:
		auction := nexFirstAuction + r.auction(id, r.intn(2) == 0)
		// A hot bidder is one past a hot seller's id, so hot bidders and sellers differ.
		bidder := nexFirstPerson + nexLastPerson(id)/nexHotRatio*nexHotRatio + 1
		if r.intn(4) == 0 {
			bidder = nexFirstPerson + r.person(id, false)
		}
		price := logUniformCentsModel(&r)
		// The channel is one of four names or (one time in five) "channel-N"; its url carries a
		// random path. Both are drawn whether or not they are declared, so the draws that follow
		// (the padding) do not depend on the columns.
		channel := r.intn(int64(len(nexChannels)) + 1)
		channelNo := r.intn(10_000)
		var path [5]byte
		appendNexLetters(path[:0], &r, len(path))
		g.int(0, auction)
		g.int(1, bidder)
		g.int(2, price)
		g.str(3, func(b []byte) []byte {
			if channel < int64(len(nexChannels)) {
				return append(b, nexChannels[channel]...)
			}
			return strconv.AppendInt(append(b, "channel-"...), channelNo, 10)
		})
		g.str(4, func(b []byte) []byte {
			b = append(append(b, "https://www.nexmark.com/"...), path[:]...)
			return strconv.AppendInt(append(b, "/item.htm?query=1&channel_id="...), channel, 10)
		})
		g.time(5, ts)
		if g.wanted(6) {
			channelLen := 8 + decimalDigits(channelNo)
			if channel < int64(len(nexChannels)) {
				channelLen = len(nexChannels[channel])
			}
			used := 4*8 + channelLen + 24 + 5 + 29 + 1
			g.str(6, func(b []byte) []byte { return appendNexExtra(b, &r, 100, used) })
		}
	}
	g.rows++
}

// flush builds the record of the rows so far in declared column order and hands it to emit.
func (g *nexBuilders) flush(emit func(arrow.RecordBatch) error) error {
	arrs := make([]arrow.Array, len(g.s.fields))
	for j, idx := range g.s.fields {
		switch {
		case g.ints[idx] != nil:
			arrs[j] = g.ints[idx].NewArray()
		case g.times[idx] != nil:
			arrs[j] = g.times[idx].NewArray()
		default:
			// The next batch's strings need about as much room as this one's.
			data := g.strs[idx].DataLen()
			arrs[j] = g.strs[idx].NewArray()
			g.strs[idx].Reserve(g.s.batchRows)
			g.strs[idx].ReserveData(data)
		}
	}
	rec := array.NewRecordBatch(g.s.schema, arrs, int64(g.rows))
	for _, a := range arrs {
		a.Release()
	}
	g.rows = 0
	g.reserve()
	err := emit(rec)
	rec.Release()
	return err
}

// readEventsModel is readEvents through the builders.
func (s *NexmarkStream) readEventsModel(a, b int64, emit func(arrow.RecordBatch) error) error {
	g := newNexBuilders(s)
	defer g.release()
	lo, hi := nexKindOffsets(s.kind)
	for group := a / nexProportion; group*nexProportion < b; group++ {
		for off := lo; off < hi; off++ {
			id := group*nexProportion + off
			if id < a || id >= b {
				continue
			}
			g.add(id)
			if g.rows == s.batchRows {
				if err := g.flush(emit); err != nil {
					return err
				}
			}
		}
	}
	if g.rows > 0 {
		return g.flush(emit)
	}
	return nil
}

// logUniformCentsModel is nexRand.logUniformCents as first written, with math.Round.
func logUniformCentsModel(r *nexRand) int64 {
	x := r.float() * 6
	k := int(x)
	f := (x - float64(k)) * 1024
	j := int(f)
	frac := nexPow10Frac[j] + (nexPow10Frac[j+1]-nexPow10Frac[j])*(f-float64(j))
	return int64(math.Round(nexPow10Int[k]*frac)) * 100
}
