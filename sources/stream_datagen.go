package sources

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/exec"
)

const (
	// datagenBatchRows is the largest record Read emits.
	datagenBatchRows = 1 << 16
	// defaultUnboundedRows is how many rows each Latest offers at rows_per_second = unbounded.
	defaultUnboundedRows = 1_000_000
	// maxDatagenRate bounds rows_per_second so the offset arithmetic cannot overflow.
	maxDatagenRate = 1_000_000_000
	// stringTableMax is the largest key range whose strings are precomputed.
	stringTableMax = 1 << 16
	// unboundedStepUs is the event-time step between rows at rows_per_second = unbounded.
	unboundedStepUs = 1000
)

// DatagenStream is the "datagen" connector (like Spark's rate source): it generates rows at a
// fixed rate, each row's values a pure function of (seed, column name, row number), so a replay of
// a range returns the same rows.
//
// Options:
//
//	rows_per_second       positive integer (default 1), or 0 / 'unbounded': as fast as possible
//	max_rows_per_trigger  caps the rows of one batch (default: unlimited with a rate, 1,000,000
//	                      when unbounded, where every Latest offers that many more rows)
//	number_of_rows        the stream ends after this many rows (default: endless)
//	seed                  integer (default 0)
//	start_time            TIMESTAMP text, the event time of row 0 (default 2024-01-01 00:00:00)
//	fields.<col>.kind     sequence | random | timestamp | values
//	fields.<col>.min/max  the range of sequence and random values (numbers, inclusive)
//	fields.<col>.values   comma-separated list (implies kind = values), spaces trimmed; for VARCHAR the text
//	                      as written, for other types converted like CSV fields (empty is NULL)
//	fields.<col>.null_rate  the probability (0..1) that a value is NULL (default 0)
//
// With a rate, the stream starts at the first Latest and row i is due i/rows_per_second seconds
// later; Latest returns the rows due by the clock (StreamConfig.Clock), capped by
// max_rows_per_trigger. A first Latest from a non-zero offset (a restart) continues from there as
// if the earlier rows had been produced at the rate.
//
// Kinds by type (the first is the default), min/max in the units shown:
//
//	BIGINT     random [min,max] (default 0..999), or sequence min+i when the column is named
//	           value, seq or id; values
//	DOUBLE     random [min,max) (default 0..1); sequence min+i; values
//	DECIMAL    random [min,max] (default 0..999, within the precision); sequence min+i; values
//	VARCHAR    random 'k'+[min,max] (default k0..k999); sequence 'k'+(min+i); values
//	BOOLEAN    random; values
//	TIMESTAMP  timestamp: the event time, start_time + i/rows_per_second seconds (start_time +
//	           i milliseconds when unbounded); random start_time + [min,max] seconds (default
//	           0..86400); values
//	DATE       timestamp: the event time's date; random start date + [min,max] days (default
//	           0..365); values
//	INTERVAL   random [min,max] seconds (default 0..3600), microsecond precision; values
//
// Random values come from splitmix64 over (seed, column, i): no generator state is shared, so
// batches can be generated in any order.
type DatagenStream struct {
	name    string
	schema  *arrow.Schema
	mem     memory.Allocator
	clock   func() time.Time
	rate    int64 // rows per second; 0: unbounded
	maxRows int64 // per batch; 0: unlimited
	total   int64 // number_of_rows: the stream ends after this many rows; 0: endless
	startUs int64
	cols    []*genColumn

	mu      sync.Mutex
	started bool
	t0      time.Time // when row 0 was due

	backlog atomic.Bool // the last Latest was capped by max_rows_per_trigger (see Backlogged)
}

// Backlogged reports whether the last Latest offered fewer rows than were due (sources.Limited).
func (s *DatagenStream) Backlogged() bool { return s.backlog.Load() }

type genKind uint8

const (
	genRandom genKind = iota
	genSequence
	genTimestamp
	genValues
)

var genKindNames = map[string]genKind{"random": genRandom, "sequence": genSequence, "timestamp": genTimestamp, "values": genValues}

// genColumn generates one column. lo and hi hold the inclusive range in the column's integer unit
// (BIGINT value, DECIMAL unscaled value, VARCHAR key number, TIMESTAMP and INTERVAL microseconds,
// DATE days); flo and fhi the DOUBLE range.
type genColumn struct {
	name     string
	typ      arrow.DataType
	kind     genKind
	key      uint64 // hashing key of the values
	nullKey  uint64 // hashing key of the NULL decisions
	nullRate uint64 // a row is NULL when its null hash < nullRate; 0: never
	lo, hi   int64
	flo, fhi float64
	strs     []string // VARCHAR: the values list, or 'k'+n for every n in [lo,hi] when small
	maxLen   int      // longest string in strs
	// packed/lens hold strs as little-endian words when every value has at most 8 bytes (built
	// on first use; a column is generated by one Read at a time).
	packOnce sync.Once
	packed   []uint64
	lens     []uint8
	vals     arrow.Array // values kind of non-VARCHAR columns (owned)
}

// NewDatagenStream parses the options; see DatagenStream.
func NewDatagenStream(cfg StreamConfig) (*DatagenStream, error) {
	cfg = cfg.withDefaults()
	allowed := []string{"rows_per_second", "max_rows_per_trigger", "number_of_rows", "seed", "start_time"}
	for _, f := range cfg.Schema.Fields() {
		for _, a := range []string{"kind", "min", "max", "values", "null_rate"} {
			allowed = append(allowed, "fields."+strings.ToLower(f.Name)+"."+a)
		}
	}
	if err := cfg.CheckOptions(allowed...); err != nil {
		return nil, err
	}
	s := &DatagenStream{name: cfg.Name, schema: cfg.Schema, mem: cfg.Mem, clock: cfg.Clock}
	switch r := strings.ToLower(strings.TrimSpace(cfg.Option("rows_per_second", "1"))); r {
	case "unbounded", "0":
		s.rate = 0
	default:
		n, err := strconv.ParseInt(r, 10, 64)
		if err != nil || n < 0 || n > maxDatagenRate {
			return nil, fmt.Errorf("source %s: rows_per_second must be a positive integer up to %d or 'unbounded', got '%s'",
				cfg.Name, maxDatagenRate, cfg.Options["rows_per_second"])
		}
		s.rate = n
	}
	def := int64(0)
	if s.rate == 0 {
		def = defaultUnboundedRows
	}
	var err error
	if s.maxRows, err = cfg.optionInt("max_rows_per_trigger", def, 1, math.MaxInt64/2, "a positive integer"); err != nil {
		return nil, err
	}
	if s.total, err = cfg.optionInt("number_of_rows", 0, 1, math.MaxInt64/2, "a positive integer"); err != nil {
		return nil, err
	}
	seed, err := cfg.optionInt("seed", 0, math.MinInt64, math.MaxInt64, "an integer")
	if err != nil {
		return nil, err
	}
	s.startUs, err = exec.ParseTimestamp(cfg.Option("start_time", "2024-01-01 00:00:00"))
	if err != nil {
		return nil, fmt.Errorf("source %s: start_time: %v", cfg.Name, err)
	}
	for _, f := range cfg.Schema.Fields() {
		g, err := newGenColumn(cfg, f, uint64(seed))
		if err != nil {
			s.Close()
			return nil, err
		}
		s.cols = append(s.cols, g)
	}
	return s, nil
}

// kindsByType lists the kinds each type supports, the default first.
func kindsByType(t arrow.DataType) []string {
	switch t.ID() {
	case arrow.INT64, arrow.FLOAT64, arrow.DECIMAL128, arrow.STRING:
		return []string{"random", "sequence", "values"}
	case arrow.BOOL, arrow.DURATION:
		return []string{"random", "values"}
	case arrow.TIMESTAMP, arrow.DATE32:
		return []string{"timestamp", "random", "values"}
	}
	return nil
}

func newGenColumn(cfg StreamConfig, f arrow.Field, seed uint64) (*genColumn, error) {
	prefix := "fields." + strings.ToLower(f.Name) + "."
	opt := func(a string) (string, bool) { v, ok := cfg.Options[prefix+a]; return v, ok }
	kinds := kindsByType(f.Type)
	if kinds == nil {
		return nil, fmt.Errorf("source %s: column %s: datagen cannot generate type %s", cfg.Name, f.Name, exec.TypeName(f.Type))
	}
	g := &genColumn{name: f.Name, typ: f.Type}
	g.key = splitmix64(splitmix64(seed) ^ fnv64(f.Name))
	g.nullKey = splitmix64(g.key ^ 0x6e756c6c5f726174)

	kind := kinds[0]
	if f.Type.ID() == arrow.INT64 {
		switch strings.ToLower(f.Name) {
		case "value", "seq", "id":
			kind = "sequence"
		}
	}
	if _, hasValues := opt("values"); hasValues {
		kind = "values" // a values list implies kind = 'values'
	}
	if v, ok := opt("kind"); ok {
		kind = strings.ToLower(strings.TrimSpace(v))
		found := false
		for _, k := range kinds {
			found = found || k == kind
		}
		if !found {
			return nil, fmt.Errorf("source %s: %skind must be one of %s for a %s column, got '%s'",
				cfg.Name, prefix, strings.Join(kinds, ", "), exec.TypeName(f.Type), v)
		}
	}
	g.kind = genKindNames[kind]

	rate, err := cfg.optionFloat(prefix+"null_rate", 0, 0, 1, "a number between 0 and 1")
	if err != nil {
		return nil, err
	}
	if rate >= 1 {
		g.nullRate = math.MaxUint64
	} else {
		g.nullRate = uint64(rate * (1 << 64))
	}

	_, hasValues := opt("values")
	switch {
	case g.kind == genValues && !hasValues:
		return nil, fmt.Errorf("source %s: %skind 'values' needs option %svalues", cfg.Name, prefix, prefix)
	case g.kind != genValues && hasValues:
		return nil, fmt.Errorf("source %s: %svalues needs %skind = 'values'", cfg.Name, prefix, prefix)
	case g.kind == genValues:
		if _, ok := opt("min"); ok {
			return nil, fmt.Errorf("source %s: %smin does not apply to kind 'values'", cfg.Name, prefix)
		}
		if _, ok := opt("max"); ok {
			return nil, fmt.Errorf("source %s: %smax does not apply to kind 'values'", cfg.Name, prefix)
		}
		return g, g.parseValues(cfg, prefix)
	}
	if err := g.parseRange(cfg, prefix); err != nil {
		return nil, err
	}
	if g.typ.ID() == arrow.STRING && g.kind == genRandom && g.hi-g.lo < stringTableMax {
		for n := g.lo; n <= g.hi; n++ {
			g.strs = append(g.strs, "k"+strconv.FormatInt(n, 10))
			g.maxLen = max(g.maxLen, len(g.strs[len(g.strs)-1]))
		}
	}
	return g, nil
}

// parseRange reads min and max into lo/hi (or flo/fhi) in the column's unit.
func (g *genColumn) parseRange(cfg StreamConfig, prefix string) error {
	minV, hasMin := cfg.Options[prefix+"min"]
	maxV, hasMax := cfg.Options[prefix+"max"]
	if (hasMin || hasMax) && (g.kind == genTimestamp || g.typ.ID() == arrow.BOOL) {
		return fmt.Errorf("source %s: %smin/max do not apply to a %s column of kind %s",
			cfg.Name, prefix, exec.TypeName(g.typ), map[genKind]string{genTimestamp: "timestamp", genRandom: "random"}[g.kind])
	}
	num := func(key, v string) (float64, error) {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("source %s: %s%s must be a number, got '%s'", cfg.Name, prefix, key, v)
		}
		return f, nil
	}
	// scale converts a user number to the integer unit; defLo/defHi are in user units.
	var scale, defLo, defHi float64
	integral := false
	switch g.typ.ID() {
	case arrow.FLOAT64:
		g.flo, g.fhi = 0, 1
		var err error
		if hasMin {
			if g.flo, err = num("min", minV); err != nil {
				return err
			}
		}
		if hasMax {
			if g.fhi, err = num("max", maxV); err != nil {
				return err
			}
		}
		if g.flo > g.fhi {
			return fmt.Errorf("source %s: %smin (%g) is greater than %smax (%g)", cfg.Name, prefix, g.flo, prefix, g.fhi)
		}
		return nil
	case arrow.BOOL:
		return nil
	case arrow.INT64, arrow.STRING:
		scale, defLo, defHi, integral = 1, 0, 999, true
	case arrow.DATE32:
		scale, defLo, defHi, integral = 1, 0, 365, true
	case arrow.TIMESTAMP:
		scale, defLo, defHi = 1e6, 0, 86400
	case arrow.DURATION:
		scale, defLo, defHi = 1e6, 0, 3600
	case arrow.DECIMAL128:
		d := g.typ.(*arrow.Decimal128Type)
		scale = math.Pow10(int(d.Scale))
		limit := math.Min((math.Pow10(int(d.Precision))-1)/scale, 9e18/scale)
		defLo, defHi = 0, math.Min(999, math.Floor(limit))
		if defHi < 1 {
			defHi = limit
		}
	}
	lo, hi := defLo, defHi
	var err error
	if hasMin {
		if lo, err = num("min", minV); err != nil {
			return err
		}
	}
	if hasMax {
		if hi, err = num("max", maxV); err != nil {
			return err
		}
	}
	for _, p := range []struct {
		key string
		v   float64
	}{{"min", lo}, {"max", hi}} {
		if integral && p.v != math.Trunc(p.v) {
			return fmt.Errorf("source %s: %s%s must be an integer for a %s column, got %g", cfg.Name, prefix, p.key, exec.TypeName(g.typ), p.v)
		}
		if math.Abs(p.v*scale) > 9e18 {
			return fmt.Errorf("source %s: %s%s %g is out of range", cfg.Name, prefix, p.key, p.v)
		}
	}
	if lo > hi {
		return fmt.Errorf("source %s: %smin (%g) is greater than %smax (%g)", cfg.Name, prefix, lo, prefix, hi)
	}
	g.lo, g.hi = int64(math.Round(lo*scale)), int64(math.Round(hi*scale))
	if d, ok := g.typ.(*arrow.Decimal128Type); ok {
		for _, v := range []int64{g.lo, g.hi} {
			if !decimal128.FromI64(v).FitsInPrecision(d.Precision) {
				return fmt.Errorf("source %s: %smin/max: %s does not fit %s", cfg.Name, prefix,
					decimal128.FromI64(v).ToString(d.Scale), exec.TypeName(g.typ))
			}
		}
	}
	return nil
}

// parseValues reads the values list: VARCHAR keeps the texts, other types convert them through
// the CSV decoder (the same text rules as files).
func (g *genColumn) parseValues(cfg StreamConfig, prefix string) error {
	list := strings.Split(cfg.Options[prefix+"values"], ",")
	for i := range list {
		list[i] = strings.TrimSpace(list[i])
	}
	if g.typ.ID() == arrow.STRING {
		g.strs = list
		for _, s := range list {
			g.maxLen = max(g.maxLen, len(s))
		}
		return nil
	}
	schema := arrow.NewSchema([]arrow.Field{{Name: g.name, Type: g.typ, Nullable: true}}, nil)
	lines := make([]string, len(list))
	for i, v := range list {
		lines[i] = v
		if v == "" {
			lines[i] = `""` // a blank line would be skipped; a quoted empty field is NULL
		}
	}
	d, err := NewCSVDecoder(strings.NewReader(strings.Join(lines, "\n")+"\n"), schema,
		DecodeOptions{Delimiter: 0x1f, BatchSize: len(list) + 1, Mem: cfg.Mem})
	if err != nil {
		return fmt.Errorf("source %s: %svalues: %v", cfg.Name, prefix, err)
	}
	defer d.Close()
	var recErr *RecordError
	rec, err := d.Next()
	switch {
	case errors.As(err, &recErr):
		return fmt.Errorf("source %s: %svalues: value %d: %s", cfg.Name, prefix, recErr.Line, recErr.Reason)
	case err != nil:
		return fmt.Errorf("source %s: %svalues: %v", cfg.Name, prefix, err)
	}
	defer rec.Release()
	if rec.NumRows() != int64(len(list)) {
		return fmt.Errorf("source %s: %svalues: decoded %d of %d values", cfg.Name, prefix, rec.NumRows(), len(list))
	}
	g.vals = rec.Column(0)
	g.vals.Retain()
	return nil
}

// Schema returns the declared schema.
func (s *DatagenStream) Schema() *arrow.Schema { return s.schema }

// Latest returns {"rows": N}: from + max_rows_per_trigger when unbounded, else the rows due by
// now, capped at from + max_rows_per_trigger.
func (s *DatagenStream) Latest(ctx context.Context, from Offset) (Offset, error) {
	start, err := parseCountOffset(s.name, "rows", from)
	if err != nil {
		return nil, err
	}
	if s.rate == 0 {
		end := s.bound(start + s.maxRows)
		s.backlog.Store(end > start && end == start+s.maxRows)
		return latestCount("rows", from, start, end), nil
	}
	now := s.clock()
	s.mu.Lock()
	if !s.started {
		s.started = true
		s.t0 = now.Add(-(time.Duration(start/s.rate)*time.Second + time.Duration((start%s.rate)*int64(time.Second)/s.rate)))
	}
	t0 := s.t0
	s.mu.Unlock()
	us := now.Sub(t0).Microseconds()
	due := int64(0)
	if us > 0 {
		due = us/1e6*s.rate + (us%1e6)*s.rate/1e6
	}
	end := max(due, start)
	capped := s.maxRows > 0 && end-start > s.maxRows
	if capped {
		end = start + s.maxRows
	}
	s.backlog.Store(capped && s.bound(end) == end)
	return latestCount("rows", from, start, max(start, s.bound(end))), nil
}

// bound caps an offset at number_of_rows, after which the stream has no new data (so an
// available_now query over it finishes).
func (s *DatagenStream) bound(end int64) int64 {
	if s.total > 0 && end > s.total {
		end = s.total
	}
	return end
}

// Freeze: a generator never runs out by itself, so available_now needs number_of_rows (the rows
// then come at the configured rate until that many were produced); without it Freeze refuses.
func (s *DatagenStream) Freeze(ctx context.Context) error {
	if s.total == 0 {
		return fmt.Errorf("source %s: a datagen source never runs out; give it number_of_rows to use trigger = 'available_now'", s.name)
	}
	return nil
}

// Read generates rows [from, to) in records of at most 65,536 rows allocated from the configured
// allocator; emit borrows each record. Any range may be read, any number of times, with the same
// result.
func (s *DatagenStream) Read(ctx context.Context, from, to Offset, emit func(arrow.RecordBatch) error) error {
	a, b, err := parseRange(s.name, "rows", from, to)
	if err != nil {
		return err
	}
	arrs := make([]arrow.Array, len(s.cols))
	for first := a; first < b; first += datagenBatchRows {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := int(min(b-first, datagenBatchRows))
		for j, g := range s.cols {
			arrs[j] = g.generate(s, first, n)
		}
		rec := array.NewRecordBatch(s.schema, arrs, int64(n))
		for _, arr := range arrs {
			arr.Release()
		}
		err := emit(rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// Commit validates end; generated rows need no buffering.
func (s *DatagenStream) Commit(end Offset) error {
	_, err := parseCountOffset(s.name, "rows", end)
	return err
}

// Close releases the parsed values lists.
func (s *DatagenStream) Close() error {
	for _, g := range s.cols {
		if g.vals != nil {
			g.vals.Release()
			g.vals = nil
		}
	}
	return nil
}

// eventTime is row i's event time in microseconds.
func (s *DatagenStream) eventTime(i int64) int64 {
	if s.rate == 0 {
		return s.startUs + i*unboundedStepUs
	}
	return s.startUs + i/s.rate*1e6 + (i%s.rate)*1e6/s.rate
}

// eventTimes fills out with the event times of rows first, first+1, ...: the same values as
// eventTime, without two divisions per row when the rate divides a second evenly.
func (s *DatagenStream) eventTimes(first int64, out []int64) {
	if s.rate == 0 {
		for j := range out {
			out[j] = s.startUs + (first+int64(j))*unboundedStepUs
		}
		return
	}
	if 1_000_000%s.rate != 0 {
		for j := range out {
			out[j] = s.eventTime(first + int64(j))
		}
		return
	}
	step := 1_000_000 / s.rate
	q, r := first/s.rate, first%s.rate
	base := s.startUs + q*1_000_000
	for j := range out {
		out[j] = base + r*step
		if r++; r == s.rate {
			r = 0
			base += 1_000_000
		}
	}
}

// splitmix64 is the finalizer of the SplitMix64 generator: a bijective 64-bit mix.
func splitmix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// rowHash is SplitMix64's i-th output for the state key: a pure function of (key, i).
func rowHash(key uint64, i int64) uint64 {
	return splitmix64(key + uint64(i+1)*0x9e3779b97f4a7c15)
}

func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// pick maps a hash uniformly onto [0, n) (n == 0 means 2^64).
func pick(h, n uint64) uint64 {
	if n == 0 {
		return h
	}
	hi, _ := bits.Mul64(h, n)
	return hi
}

// newBuffer allocates a buffer of size bytes from mem.
func newBuffer(mem memory.Allocator, size int) *memory.Buffer {
	b := memory.NewResizableBuffer(mem)
	b.Resize(size)
	return b
}

// generate builds rows [first, first+n) of the column; the caller owns the array.
func (g *genColumn) generate(s *DatagenStream, first int64, n int) arrow.Array {
	mem := s.mem
	var validity *memory.Buffer
	nulls := 0
	var valid []byte
	if g.nullRate > 0 || (g.vals != nil && g.vals.NullN() > 0) {
		validity = newBuffer(mem, int(bitutil.BytesForBits(int64(n))))
		valid = validity.Bytes()
		bitutil.SetBitsTo(valid, 0, int64(n), true)
		if g.nullRate > 0 {
			for j := 0; j < n; j++ {
				if rowHash(g.nullKey, first+int64(j)) < g.nullRate {
					bitutil.ClearBit(valid, j)
					nulls++
				}
			}
		}
	}
	// For the values kind, idx[j] is row j's position in the list.
	var idx []int32
	if g.kind == genValues {
		idx = make([]int32, n)
		m := uint64(max(len(g.strs), 1))
		if g.vals != nil {
			m = uint64(g.vals.Len())
		}
		for j := range idx {
			idx[j] = int32(pick(rowHash(g.key, first+int64(j)), m))
		}
		if g.vals != nil && g.vals.NullN() > 0 {
			for j, k := range idx {
				if g.vals.IsNull(int(k)) && bitutil.BitIsSet(valid, j) {
					bitutil.ClearBit(valid, j)
					nulls++
				}
			}
		}
	}
	var bufs []*memory.Buffer
	switch g.typ.ID() {
	case arrow.STRING:
		bufs = g.genStrings(mem, first, n, idx)
	case arrow.BOOL:
		vb := newBuffer(mem, int(bitutil.BytesForBits(int64(n))))
		out := vb.Bytes()
		clear(out)
		if idx != nil {
			vals := g.vals.(*array.Boolean)
			for j, k := range idx {
				if vals.Value(int(k)) {
					bitutil.SetBit(out, j)
				}
			}
		} else {
			for j := 0; j < n; j++ {
				if rowHash(g.key, first+int64(j))>>63 == 1 {
					bitutil.SetBit(out, j)
				}
			}
		}
		bufs = []*memory.Buffer{vb}
	case arrow.FLOAT64:
		vb := newBuffer(mem, n*8)
		out := arrow.Float64Traits.CastFromBytes(vb.Bytes())[:n]
		switch {
		case idx != nil:
			vals := g.vals.(*array.Float64).Float64Values()
			for j, k := range idx {
				out[j] = vals[k]
			}
		case g.kind == genSequence:
			for j := range out {
				out[j] = g.flo + float64(first+int64(j))
			}
		default:
			w := g.fhi - g.flo
			for j := range out {
				out[j] = g.flo + float64(rowHash(g.key, first+int64(j))>>11)*(1.0/(1<<53))*w
			}
		}
		bufs = []*memory.Buffer{vb}
	case arrow.DATE32:
		vb := newBuffer(mem, n*4)
		out := arrow.Int32Traits.CastFromBytes(vb.Bytes())[:n]
		switch {
		case idx != nil:
			vals := g.vals.(*array.Date32).Date32Values()
			for j, k := range idx {
				out[j] = int32(vals[k])
			}
		case g.kind == genTimestamp:
			for j := range out {
				out[j] = int32(floorDiv(s.eventTime(first+int64(j)), 86_400_000_000))
			}
		default:
			day := floorDiv(s.startUs, 86_400_000_000)
			span := uint64(g.hi - g.lo + 1)
			for j := range out {
				out[j] = int32(day + g.lo + int64(pick(rowHash(g.key, first+int64(j)), span)))
			}
		}
		bufs = []*memory.Buffer{vb}
	case arrow.DECIMAL128:
		vb := newBuffer(mem, n*16)
		out := arrow.Decimal128Traits.CastFromBytes(vb.Bytes())[:n]
		if idx != nil {
			vals := g.vals.(*array.Decimal128)
			for j, k := range idx {
				out[j] = vals.Value(int(k))
			}
		} else {
			scaled := make([]int64, n)
			g.genInt64(first, scaled)
			for j, v := range scaled {
				out[j] = decimal128.FromI64(v)
			}
		}
		bufs = []*memory.Buffer{vb}
	default: // INT64, TIMESTAMP, DURATION: int64 values
		vb := newBuffer(mem, n*8)
		out := arrow.Int64Traits.CastFromBytes(vb.Bytes())[:n]
		if idx != nil {
			raw := arrow.Int64Traits.CastFromBytes(g.vals.Data().Buffers()[1].Bytes())[g.vals.Data().Offset():]
			for j, k := range idx {
				out[j] = raw[k]
			}
		} else if g.kind == genTimestamp {
			s.eventTimes(first, out)
		} else {
			g.genInt64(first, out)
			if g.typ.ID() == arrow.TIMESTAMP { // random offsets from start_time
				for j := range out {
					out[j] += s.startUs
				}
			}
		}
		bufs = []*memory.Buffer{vb}
	}
	data := array.NewData(g.typ, n, append([]*memory.Buffer{validity}, bufs...), nil, nulls, 0)
	arr := array.MakeFromData(data)
	data.Release()
	for _, b := range append([]*memory.Buffer{validity}, bufs...) {
		if b != nil {
			b.Release()
		}
	}
	return arr
}

// genInt64 fills out with rows first, first+1, ... of the sequence (lo + i, in the column's integer
// unit; a DECIMAL sequence advances by one whole unit, 10^scale) or of random values in [lo, hi].
func (g *genColumn) genInt64(first int64, out []int64) {
	if g.kind == genSequence {
		step := int64(1)
		if d, ok := g.typ.(*arrow.Decimal128Type); ok {
			step = int64(math.Pow10(int(d.Scale)))
		}
		for j := range out {
			out[j] = g.lo + (first+int64(j))*step
		}
		return
	}
	span := uint64(g.hi-g.lo) + 1
	for j := range out {
		out[j] = g.lo + int64(pick(rowHash(g.key, first+int64(j)), span))
	}
}

// genStrings builds the offsets and data buffers of a VARCHAR column.
func (g *genColumn) genStrings(mem memory.Allocator, first int64, n int, idx []int32) []*memory.Buffer {
	ob := newBuffer(mem, (n+1)*4)
	offs := arrow.Int32Traits.CastFromBytes(ob.Bytes())[:n+1]
	maxLen := g.maxLen
	if g.strs == nil {
		maxLen = 21 // 'k' and an int64
	}
	db := newBuffer(mem, n*maxLen+8)
	data := db.Bytes()
	pos := 0
	offs[0] = 0
	switch {
	case idx != nil:
		for j, k := range idx {
			pos += copy(data[pos:], g.strs[k])
			offs[j+1] = int32(pos)
		}
	case g.strs != nil && maxLen <= 8:
		// Short values (the usual keys) are written as one unaligned 8-byte store of the
		// precomputed little-endian word; the buffer has 8 bytes of slack for the last one.
		packed, lens := g.packedStrings()
		m := uint64(len(g.strs))
		for j := 0; j < n; j++ {
			k := pick(rowHash(g.key, first+int64(j)), m)
			binary.LittleEndian.PutUint64(data[pos:], packed[k])
			pos += int(lens[k])
			offs[j+1] = int32(pos)
		}
	case g.strs != nil:
		m := uint64(len(g.strs))
		for j := 0; j < n; j++ {
			pos += copy(data[pos:], g.strs[pick(rowHash(g.key, first+int64(j)), m)])
			offs[j+1] = int32(pos)
		}
	default:
		vals := make([]int64, n)
		g.genInt64(first, vals)
		for j, v := range vals {
			data[pos] = 'k'
			pos = len(strconv.AppendInt(data[:pos+1], v, 10))
			offs[j+1] = int32(pos)
		}
	}
	db.ResizeNoShrink(pos)
	return []*memory.Buffer{ob, db}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// packedStrings returns strs as 8-byte little-endian words and their lengths (every value has at
// most 8 bytes).
func (g *genColumn) packedStrings() ([]uint64, []uint8) {
	g.packOnce.Do(func() {
		g.packed = make([]uint64, len(g.strs))
		g.lens = make([]uint8, len(g.strs))
		var buf [8]byte
		for i, v := range g.strs {
			buf = [8]byte{}
			copy(buf[:], v)
			g.packed[i] = binary.LittleEndian.Uint64(buf[:])
			g.lens[i] = uint8(len(v))
		}
	})
	return g.packed, g.lens
}
