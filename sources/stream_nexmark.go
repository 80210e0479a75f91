package sources

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
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
	fields    []int  // for each declared column, its index in nexColumns[kind]
	unused    []bool // declared columns no reader uses (StreamConfig.Used): generated as NULLs
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
	if cfg.Used != nil {
		if len(cfg.Used) != len(s.fields) {
			return nil, fmt.Errorf("source %s: internal error: %d used-column flags for %d columns", cfg.Name, len(cfg.Used), len(s.fields))
		}
		s.unused = make([]bool, len(s.fields))
		for j, u := range cfg.Used {
			s.unused[j] = !u
		}
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
	g := newNexGen(s)
	lo, hi := nexKindOffsets(s.kind)
	ids := make([]int64, 0, min(int64(s.batchRows), (b-a)*(hi-lo)/nexProportion+hi-lo))
	flush := func() error {
		rec := g.record(ids)
		err := emit(rec)
		rec.Release()
		ids = ids[:0]
		return err
	}
	for group := a / nexProportion; group*nexProportion < b; group++ {
		for off := lo; off < hi; off++ {
			id := group*nexProportion + off
			if id < a || id >= b {
				continue
			}
			ids = append(ids, id)
			if len(ids) == s.batchRows {
				if err := flush(); err != nil {
					return err
				}
				if err := ctx.Err(); err != nil {
					return err
				}
			}
		}
	}
	if len(ids) > 0 {
		return flush()
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

func mulHi(a, b uint64) (uint64, uint64) { return bits.Mul64(a, b) }

func (r *nexRand) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// logUniformCents is a price log-uniform between 1 and 10^6 dollars, in cents: 10^(6u) from a
// table of 10^(i/1024) with linear interpolation (math.Pow was a third of the generator's time).
func (r *nexRand) logUniformCents() int64 {
	x := r.float() * 6
	k := int(x)
	f := (x - float64(k)) * 1024
	j := int(f)
	frac := nexPow10Frac[j] + (nexPow10Frac[j+1]-nexPow10Frac[j])*(f-float64(j))
	// v >= 1 and far below 2^52, so v + 0.5 is exact and truncating it rounds half away from
	// zero, as math.Round does, at a fraction of its cost.
	v := nexPow10Int[k] * frac
	return int64(v+0.5) * 100
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

// eventTime is the event time of event id.
func (s *NexmarkStream) eventTime(id int64) time.Time {
	return time.UnixMicro(s.startUs + int64(float64(id)*s.interUs)).UTC()
}
