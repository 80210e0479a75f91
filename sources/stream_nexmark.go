package sources

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/exec"
)

// NexmarkStream is the "nexmark" connector: the events of the Nexmark benchmark (an online auction:
// people register, open auctions and bid), generated deterministically from a seed, one of the
// three event types per source:
//
//	CREATE SOURCE bid (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR,
//	    date_time TIMESTAMP, extra VARCHAR, WATERMARK FOR date_time AS date_time - INTERVAL '4 seconds')
//	  WITH (connector = 'nexmark', event_type = 'bid', number_of_events = '10000000');
//
// Options: event_type (person, auction or bid; required), seed (default 1; sources with the same
// seed and events_per_second see the same event sequence, so person, auction and bid sources join
// consistently), events_per_second (event time advances 1/events_per_second per event; default
// 10,000,000), number_of_events (the stream ends after this many events of all types; default
// endless), max_events_per_trigger (events of all types per epoch; default 1,000,000), start_time
// (the first event's time; default 2024-01-01 00:00:00), batch_size (rows per record, default
// 65,536). The declared columns must be columns of the event type (any subset, any order) with
// their types:
//
//	person:  id, name, email_address, credit_card, city, state, date_time, extra
//	auction: id, item_name, description, initial_bid, reserve, date_time, expires, seller, category, extra
//	bid:     auction, bidder, price, channel, url, date_time, extra
//
// (ids and prices BIGINT, date_time and expires TIMESTAMP, the rest VARCHAR). The model is the
// reference generator's: of every 50 events (by event id) 1 is a person, 3 are auctions and 46
// are bids; person ids start at 1000 and about the last 1,000 people are active (sellers and
// bidders are drawn among them), auction ids start at 1000 and bids go to the last ~100 auctions
// (in flight); half the bids go to a hot auction and three quarters of the sellers and bidders
// are hot people; prices are log-uniform between 1 and 10^6 dollars (in cents); extra pads events
// to about 200 (person), 500 (auction) and 100 (bid) bytes. Each event's random choices depend
// only on the seed and its event id, so any range is reproduced exactly on replay. Offsets are
// {"events": N}, the number of events (of all types) consumed.
type NexmarkStream struct {
	name      string
	schema    *arrow.Schema
	mem       memory.Allocator
	kind      nexKind
	fields    []int // for each declared column, its index in nexColumns[kind]
	seed      uint64
	interUs   float64 // event time between two events, microseconds
	startUs   int64
	total     int64 // 0: endless
	maxEvents int64
	batchRows int
	// parallelism > 1 generates a Read's range in pieces on that many goroutines
	// (stream_nexmark_parallel.go).
	parallelism int
}

type nexKind uint8

const (
	nexPerson nexKind = iota
	nexAuction
	nexBid
)

// nexColumn is one column of an event type.
type nexColumn struct {
	name string
	typ  arrow.DataType
}

var nexColumns = [...][]nexColumn{
	nexPerson: {{"id", exec.Int64}, {"name", exec.String}, {"email_address", exec.String}, {"credit_card", exec.String},
		{"city", exec.String}, {"state", exec.String}, {"date_time", exec.Timestamp}, {"extra", exec.String}},
	nexAuction: {{"id", exec.Int64}, {"item_name", exec.String}, {"description", exec.String}, {"initial_bid", exec.Int64},
		{"reserve", exec.Int64}, {"date_time", exec.Timestamp}, {"expires", exec.Timestamp}, {"seller", exec.Int64},
		{"category", exec.Int64}, {"extra", exec.String}},
	nexBid: {{"auction", exec.Int64}, {"bidder", exec.Int64}, {"price", exec.Int64}, {"channel", exec.String},
		{"url", exec.String}, {"date_time", exec.Timestamp}, {"extra", exec.String}},
}

var nexKindNames = map[string]nexKind{"person": nexPerson, "auction": nexAuction, "bid": nexBid}

// The reference model's constants.
const (
	nexProportion    = 50 // events per group: 1 person, 3 auctions, 46 bids
	nexPersonProp    = 1
	nexAuctionProp   = 3
	nexFirstPerson   = 1000
	nexFirstAuction  = 1000
	nexFirstCategory = 10
	nexCategories    = 5
	nexInFlight      = 100  // auctions bids are drawn among
	nexActivePeople  = 1000 // people sellers and bidders are drawn among
	nexIDLead        = 10   // ids drawn slightly past the newest one (not yet seen)
	nexHotRatio      = 100  // hot ids are multiples of this below the newest
)

// NewNexmarkStream opens the nexmark connector; see NexmarkStream.
func NewNexmarkStream(cfg StreamConfig) (*NexmarkStream, error) {
	cfg = cfg.withDefaults()
	if err := cfg.CheckOptions("event_type", "seed", "events_per_second", "number_of_events", "max_events_per_trigger", "start_time", "batch_size"); err != nil {
		return nil, err
	}
	kindName := strings.ToLower(strings.TrimSpace(cfg.Option("event_type", "")))
	kind, ok := nexKindNames[kindName]
	if !ok {
		return nil, fmt.Errorf("source %s: the nexmark connector needs event_type = 'person', 'auction' or 'bid', got '%s'", cfg.Name, cfg.Option("event_type", ""))
	}
	s := &NexmarkStream{name: cfg.Name, schema: cfg.Schema, mem: cfg.Mem, kind: kind, parallelism: cfg.Parallelism}
	cols := nexColumns[kind]
	for _, f := range cfg.Schema.Fields() {
		idx := -1
		for i, c := range cols {
			if strings.EqualFold(c.name, f.Name) {
				idx = i
			}
		}
		if idx < 0 {
			var names []string
			for _, c := range cols {
				names = append(names, c.name)
			}
			return nil, fmt.Errorf("source %s: a nexmark %s has no column %q (columns: %s)", cfg.Name, kindName, f.Name, strings.Join(names, ", "))
		}
		if !arrow.TypeEqual(f.Type, cols[idx].typ) {
			return nil, fmt.Errorf("source %s: nexmark column %s is %s, declared %s", cfg.Name, cols[idx].name, exec.TypeName(cols[idx].typ), exec.TypeName(f.Type))
		}
		s.fields = append(s.fields, idx)
	}
	seed, err := cfg.optionInt("seed", 1, math.MinInt64, math.MaxInt64, "an integer")
	if err != nil {
		return nil, err
	}
	s.seed = uint64(seed)
	rate, err := cfg.optionFloat("events_per_second", 10_000_000, 1e-3, 1e12, "a positive number")
	if err != nil {
		return nil, err
	}
	s.interUs = 1e6 / rate
	if s.total, err = cfg.optionInt("number_of_events", 0, 1, 1<<62, "a positive integer"); err != nil {
		return nil, err
	}
	if s.maxEvents, err = cfg.optionInt("max_events_per_trigger", 1_000_000, 1, 1<<62, "a positive integer"); err != nil {
		return nil, err
	}
	batch, err := cfg.optionInt("batch_size", DefaultBatchSize, 1, 1<<24, "a positive integer")
	if err != nil {
		return nil, err
	}
	s.batchRows = int(batch)
	if s.startUs, err = exec.ParseTimestamp(cfg.Option("start_time", "2024-01-01 00:00:00")); err != nil {
		return nil, fmt.Errorf("source %s: start_time: %v", cfg.Name, err)
	}
	return s, nil
}

// Schema returns the declared schema.
func (s *NexmarkStream) Schema() *arrow.Schema { return s.schema }

// Latest offers max_events_per_trigger more events, up to number_of_events.
func (s *NexmarkStream) Latest(ctx context.Context, from Offset) (Offset, error) {
	start, err := parseCountOffset(s.name, "events", from)
	if err != nil {
		return nil, err
	}
	end := start + s.maxEvents
	if s.total > 0 {
		end = min(end, max(start, s.total))
	}
	return latestCount("events", from, start, end), nil
}

// Backlogged: a generator always has more events until number_of_events (sources.Limited).
func (s *NexmarkStream) Backlogged() bool { return true }

// Freeze: the stream ends by itself only with number_of_events.
func (s *NexmarkStream) Freeze(ctx context.Context) error {
	if s.total == 0 {
		return fmt.Errorf("source %s: a nexmark source never runs out; give it number_of_events to use trigger = 'available_now'", s.name)
	}
	return nil
}

// Commit validates end; generated events need no buffering.
func (s *NexmarkStream) Commit(end Offset) error {
	_, err := parseCountOffset(s.name, "events", end)
	return err
}

// Close has nothing to release.
func (s *NexmarkStream) Close() error { return nil }

// Read generates the events of the stream's type among event ids [from, to) as records of at
// most batch_size rows.
func (s *NexmarkStream) Read(ctx context.Context, from, to Offset, emit func(arrow.RecordBatch) error) error {
	a, b, err := parseRange(s.name, "events", from, to)
	if err != nil {
		return err
	}
	if s.parallelism > 1 && b-a > s.taskEvents() {
		return s.readParallel(ctx, a, b, emit)
	}
	return s.readEvents(ctx, a, b, emit)
}

// readEvents generates the events of the stream's type among event ids [a, b).
func (s *NexmarkStream) readEvents(ctx context.Context, a, b int64, emit func(arrow.RecordBatch) error) error {
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
				if err := ctx.Err(); err != nil {
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

// nexKindOffsets is the range of offsets within a group of 50 events that have kind k.
func nexKindOffsets(k nexKind) (lo, hi int64) {
	switch k {
	case nexPerson:
		return 0, nexPersonProp
	case nexAuction:
		return nexPersonProp, nexPersonProp + nexAuctionProp
	}
	return nexPersonProp + nexAuctionProp, nexProportion
}

// nexRand is the random source of one event: a splitmix64 sequence seeded by the stream's seed
// and the event id, so that an event is the same whichever range generates it.
type nexRand struct{ state uint64 }

func newNexRand(seed uint64, id int64) nexRand {
	return nexRand{state: seed*0x9E3779B97F4A7C15 ^ uint64(id)*0xD1B54A32D192ED03}
}

func (r *nexRand) next() uint64 {
	r.state += 0x9E3779B97F4A7C15
	z := r.state
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// intn is uniform in [0, n) for n > 0 (Lemire's multiply-shift; the tiny bias is irrelevant here).
func (r *nexRand) intn(n int64) int64 {
	hi, _ := mulHi(r.next(), uint64(n))
	return int64(hi)
}

func mulHi(a, b uint64) (uint64, uint64) {
	const mask32 = 1<<32 - 1
	a0, a1 := a&mask32, a>>32
	b0, b1 := b&mask32, b>>32
	w0 := a0 * b0
	t := a1*b0 + w0>>32
	w1 := t&mask32 + a0*b1
	return a1*b1 + t>>32 + w1>>32, a * b
}

func (r *nexRand) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// logUniformCents is a price log-uniform between 1 and 10^6 dollars, in cents: 10^(6u) from a
// table of 10^(i/1024) with linear interpolation (math.Pow was a third of the generator's time).
func (r *nexRand) logUniformCents() int64 {
	x := r.float() * 6
	k := int(x)
	f := (x - float64(k)) * 1024
	j := int(f)
	frac := nexPow10Frac[j] + (nexPow10Frac[j+1]-nexPow10Frac[j])*(f-float64(j))
	return int64(math.Round(nexPow10Int[k]*frac)) * 100
}

var (
	nexPow10Int  = [...]float64{1, 10, 100, 1000, 10000, 100000, 1000000}
	nexPow10Frac = func() (t [1025]float64) {
		for i := range t {
			t[i] = math.Pow(10, float64(i)/1024)
		}
		return t
	}()
)

// decimalDigits is the length of v >= 0 in decimal.
func decimalDigits(v int64) int {
	n := 1
	for v >= 10 {
		v /= 10
		n++
	}
	return n
}

// lastPerson is the base-0 id of the newest person at event id (every group starts with one).
func nexLastPerson(id int64) int64 { return id / nexProportion }

// nexLastAuction is the base-0 id of the newest auction at or before event id (-1: none yet).
func nexLastAuction(id int64) int64 {
	group, off := id/nexProportion, id%nexProportion
	switch {
	case off < nexPersonProp:
		return group*nexAuctionProp - 1
	case off < nexPersonProp+nexAuctionProp:
		return group*nexAuctionProp + off - nexPersonProp
	}
	return group*nexAuctionProp + nexAuctionProp - 1
}

// person picks a base-0 person id among the active people (hot: a multiple of nexHotRatio).
func (r *nexRand) person(id int64, hot bool) int64 {
	last := nexLastPerson(id)
	if hot {
		return last / nexHotRatio * nexHotRatio
	}
	active := min(last+1, nexActivePeople)
	return last + 1 - active + r.intn(active+nexIDLead)
}

// auction picks a base-0 auction id among those in flight (hot: a multiple of nexHotRatio).
func (r *nexRand) auction(id int64, hot bool) int64 {
	last := max(nexLastAuction(id), 0)
	if hot {
		return last / nexHotRatio * nexHotRatio
	}
	lo := max(last-nexInFlight, 0)
	return lo + r.intn(last-lo+1+nexIDLead)
}

var (
	nexFirstNames = []string{"Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"}
	nexLastNames  = []string{"Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"}
	nexCities     = []string{"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"}
	nexStates     = []string{"AZ", "CA", "ID", "OR", "WA", "WY"}
	nexChannels   = []string{"Google", "Facebook", "Baidu", "Apple"}
	nexLetters    = "abcdefghijklmnopqrstuvwxyz"
)

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
		initial := r.logUniformCents()
		reserve := initial + r.logUniformCents()
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
		price := r.logUniformCents()
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

// eventTime is the event time of event id.
func (s *NexmarkStream) eventTime(id int64) time.Time {
	return time.UnixMicro(s.startUs + int64(float64(id)*s.interUs)).UTC()
}
