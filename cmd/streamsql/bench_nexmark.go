package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	streamsql "github.com/streamsql/streamsql"
	"github.com/streamsql/streamsql/bench/nexmark"
	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/sinks"
)

// `streamsql bench nexmark`: the Nexmark queries (bench/nexmark/q*.sql, embedded) over the
// nexmark connector, in this process.
//
// Each query runs as a continuous query (trigger available_now, epochs of --epoch-events events
// of all types) into a blackhole sink that counts the rows (with --check it also keeps two
// order-independent checksums of them and, while few, the rows as text). Per query it reports
// the events generated (of all types, as Nexmark counts them), the streaming run's wall and CPU
// time, events/s, events per core-second, the process's peak RSS during it, and the p50/p99 of
// the time between two sink writes (one per epoch). With
// --check the same query text then runs as an ordinary batch query over the same events
// (collected into materialized views first) and the two results must be equal; the difference
// is reported per query, with the differing rows while the results are small enough to hold as
// text. Queries whose file says `-- unsupported:` are still tried: refused, they are reported as
// unsupported with the file's reason and the engine's message; run, they are measured and
// flagged so that the header gets removed. A query without that header that the engine refuses
// is an error, never a silent skip.

const nexmarkUsage = "Usage: streamsql bench nexmark [--query q0,q1,...] [--events N] [--epoch-events N] [--events-per-second R] [--parallelism N] [--cpuprofile FILE] [--check] [--json]"

// nexmarkSources declares the three streams over one event sequence (same seed and rate),
// each named prefix+type.
func nexmarkSources(prefix string, cfg nexmarkConfig, perEpoch int64) string {
	opts := fmt.Sprintf("connector = 'nexmark', seed = '1', number_of_events = '%d', max_events_per_trigger = '%d', events_per_second = '%d'",
		cfg.events, perEpoch, cfg.rate)
	return fmt.Sprintf(`CREATE SOURCE %[2]sperson (id BIGINT, name VARCHAR, email_address VARCHAR, credit_card VARCHAR, city VARCHAR, state VARCHAR,
    date_time TIMESTAMP, extra VARCHAR, WATERMARK FOR date_time AS date_time - INTERVAL '4 seconds')
  WITH (%[1]s, event_type = 'person');
CREATE SOURCE %[2]sauction (id BIGINT, item_name VARCHAR, description VARCHAR, initial_bid BIGINT, reserve BIGINT, date_time TIMESTAMP,
    expires TIMESTAMP, seller BIGINT, category BIGINT, extra VARCHAR, WATERMARK FOR date_time AS date_time - INTERVAL '4 seconds')
  WITH (%[1]s, event_type = 'auction');
CREATE SOURCE %[2]sbid (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, date_time TIMESTAMP, extra VARCHAR,
    WATERMARK FOR date_time AS date_time - INTERVAL '4 seconds')
  WITH (%[1]s, event_type = 'bid');
`, opts, prefix)
}

// nexmarkConfig is what every query of one suite run shares.
type nexmarkConfig struct {
	events, perEpoch, rate int64
	check                  bool
	parallelism            int // the queries' parallelism option (0: the default, the number of cores)
}

// nexmarkResult is one query's figures.
type nexmarkResult struct {
	Query      string   `json:"query"`
	About      string   `json:"about"`
	Mode       string   `json:"mode"`
	Supported  bool     `json:"supported"`
	Reason     string   `json:"reason,omitempty"` // why it is unsupported (the file's header)
	Engine     string   `json:"engine_error,omitempty"`
	Needs      []string `json:"needs,omitempty"`
	Stale      bool     `json:"stale_header,omitempty"` // marked unsupported, yet it ran
	Events     int64    `json:"events"`
	Rows       int64    `json:"rows"`
	WallSec    float64  `json:"wall_s"`
	CPUSec     float64  `json:"cpu_s"`
	EventsPerS float64  `json:"events_per_s"`
	PerCoreS   float64  `json:"events_per_core_s"`
	PeakRSSMiB float64  `json:"peak_rss_mib"`
	P50EpochMs float64  `json:"p50_epoch_ms"`
	P99EpochMs float64  `json:"p99_epoch_ms"`
	// Check is "" without --check, "same" when the streaming result equals the batch query's,
	// otherwise what differs.
	Check     string `json:"check,omitempty"`
	BatchRows int64  `json:"batch_rows,omitempty"`
}

func benchNexmarkCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench nexmark", flag.ContinueOnError)
	fs.SetOutput(stderr)
	queries := fs.String("query", "", "comma-separated queries to run (default: all)")
	events := fs.Int64("events", 10_000_000, "events to generate per query (of all types)")
	perEpoch := fs.Int64("epoch-events", 1_000_000, "events per epoch of the streaming run")
	rate := fs.Int64("events-per-second", 10_000_000, "event-time rate of the generator (sets how many events a window holds)")
	check := fs.Bool("check", false, "also run each query in batch over the same events and compare (holds the events in memory)")
	parallelism := fs.Int("parallelism", 0, "the queries' parallelism option (0: the default, the number of cores)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof)")
	asJSON := fs.Bool("json", false, "print one JSON object per query instead of a table")
	fs.Usage = func() {
		fmt.Fprintln(stderr, nexmarkUsage)
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args); done {
		return code
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "streamsql bench nexmark: "+format+"\n", a...)
		fs.Usage()
		return 2
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q", fs.Arg(0))
	}
	if *events < 1 || *perEpoch < 1 || *rate < 1 {
		return usageErr("--events, --epoch-events and --events-per-second must be positive")
	}
	cfg := nexmarkConfig{events: *events, perEpoch: *perEpoch, rate: *rate, check: *check, parallelism: *parallelism}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "streamsql bench nexmark: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "streamsql bench nexmark: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	all, err := nexmark.Queries()
	if err != nil {
		fmt.Fprintf(stderr, "streamsql bench nexmark: %v\n", err)
		return 1
	}
	run := all
	if *queries != "" {
		run = nil
		for _, name := range strings.Split(*queries, ",") {
			i := slices.IndexFunc(all, func(q nexmark.Query) bool { return q.Name == strings.TrimSpace(name) })
			if i < 0 {
				var names []string
				for _, q := range all {
					names = append(names, q.Name)
				}
				return usageErr("unknown query %q (known: %s)", name, strings.Join(names, ", "))
			}
			run = append(run, all[i])
		}
	}
	var results []nexmarkResult
	code := 0
	for _, q := range run {
		res, err := runNexmarkQuery(q, cfg)
		if err != nil {
			fmt.Fprintf(stderr, "streamsql bench nexmark: %s: %v\n", q.Name, err)
			code = 1
			continue
		}
		results = append(results, res)
		if *asJSON {
			b, _ := json.Marshal(res)
			fmt.Fprintln(stdout, string(b))
		}
	}
	if !*asJSON {
		printNexmarkTable(stdout, results)
	}
	for _, r := range results {
		if r.Stale {
			fmt.Fprintf(stderr, "streamsql bench nexmark: %s runs now: its header still says unsupported: %s\n", r.Query, r.Reason)
		}
		if r.Check != "" && r.Check != "same" {
			fmt.Fprintf(stderr, "streamsql bench nexmark: %s: the streaming result differs from the batch query's: %s\n", r.Query, r.Check)
			code = 1
		}
	}
	return code
}

func printNexmarkTable(w io.Writer, results []nexmarkResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "query\tevents\trows out\twall s\tcpu s\tevents/s\tevents/core-s\tpeak RSS MiB\tp50 ms\tp99 ms\tvs batch")
	for _, r := range results {
		if !r.Supported {
			fmt.Fprintf(tw, "%s\tunsupported: %s\n", r.Query, r.Reason)
			continue
		}
		check := r.Check
		if check == "" {
			check = "-"
		} else if check != "same" {
			check = "DIFFERENT"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.2f\t%.2f\t%.2fM\t%.2fM\t%.0f\t%.1f\t%.1f\t%s\n", r.Query, r.Events, r.Rows, r.WallSec, r.CPUSec,
			r.EventsPerS/1e6, r.PerCoreS/1e6, r.PeakRSSMiB, r.P50EpochMs, r.P99EpochMs, check)
	}
	tw.Flush()
}

// runNexmarkQuery runs q as a continuous query and, with check, as a batch query over the same
// events, and compares the two.
func runNexmarkQuery(q nexmark.Query, cfg nexmarkConfig) (nexmarkResult, error) {
	events := cfg.events
	res := nexmarkResult{Query: q.Name, About: q.About, Mode: q.Mode, Needs: q.Needs, Events: events, Reason: q.Unsupported}
	stream, err := runNexmarkStreaming(q, cfg)
	var refused *nexmarkRefused
	if errors.As(err, &refused) {
		if q.Unsupported == "" {
			return res, fmt.Errorf("the engine refuses a query the suite marks supported: %s", refused.msg)
		}
		res.Engine = refused.msg
		return res, nil
	}
	if err != nil {
		return res, err
	}
	res.Supported = true
	res.Stale = q.Unsupported != ""
	res.Rows = stream.rows
	res.WallSec = stream.wall.Seconds()
	res.CPUSec = stream.cpu.Seconds()
	res.EventsPerS = float64(events) / stream.wall.Seconds()
	if stream.cpu > 0 {
		res.PerCoreS = float64(events) / stream.cpu.Seconds()
	}
	res.PeakRSSMiB = float64(stream.peakRSS) / (1 << 20)
	res.P50EpochMs, res.P99EpochMs = percentileMs(stream.epochs, 0.50), percentileMs(stream.epochs, 0.99)
	if cfg.check {
		batch, err := runNexmarkBatch(q, cfg)
		if err != nil {
			return res, fmt.Errorf("the batch query: %w", err)
		}
		res.BatchRows = batch.rows
		res.Check = compareNexmark(stream.out, batch)
	}
	return res, nil
}

// nexmarkRefused is the engine refusing the statement (a feature it lacks), as opposed to a
// failure while running it.
type nexmarkRefused struct{ msg string }

func (u *nexmarkRefused) Error() string { return u.msg }

type nexmarkRun struct {
	out       *rowSet
	rows      int64
	wall, cpu time.Duration
	peakRSS   int64
	epochs    []time.Duration
}

// runNexmarkStreaming runs q over events events in epochs of perEpoch events into a blackhole
// sink.
func runNexmarkStreaming(q nexmark.Query, cfg nexmarkConfig) (nexmarkRun, error) {
	var out nexmarkRun
	hole := &blackhole{set: newRowSet(cfg.check, cfg.check)}
	eng, err := streamsql.Open(streamsql.Options{Stdout: io.Discard, SinkConnectors: map[string]func(sinks.Config) (sinks.Sink, error){
		"blackhole": func(sinks.Config) (sinks.Sink, error) { return hole, nil },
	}})
	if err != nil {
		return out, err
	}
	defer eng.Close()
	ctx := context.Background()
	if _, err := eng.Exec(ctx, nexmarkSources("", cfg, cfg.perEpoch)); err != nil {
		return out, err
	}
	for _, st := range q.Setup {
		if _, err := eng.Exec(ctx, st); err != nil {
			return out, fmt.Errorf("setup: %w", err)
		}
	}
	par := ""
	if cfg.parallelism > 0 {
		par = fmt.Sprintf(", parallelism = '%d'", cfg.parallelism)
	}
	stmt := fmt.Sprintf("CREATE SINK %s WITH (connector = 'blackhole', output_mode = '%s', trigger = 'available_now'%s) AS %s", q.Name, q.Mode, par, q.SQL)
	resetPeakRSS()
	cpu0, start := selfCPU(), time.Now()
	hole.last = start
	if _, err := eng.Exec(ctx, stmt); err != nil {
		// The engine's message names the missing feature on its first line (the rest is a
		// caret under the statement).
		reason, _, _ := strings.Cut(err.Error(), "\n")
		return out, &nexmarkRefused{msg: reason}
	}
	if err := eng.WaitQueries(ctx); err != nil {
		return out, err
	}
	out.wall, out.cpu = time.Since(start), selfCPU()-cpu0
	out.peakRSS = peakRSS()
	if err := queryFailure(ctx, eng, q.Name); err != nil {
		return out, err
	}
	hole.mu.Lock()
	defer hole.mu.Unlock()
	if hole.err != nil {
		return out, hole.err
	}
	out.out, out.rows, out.epochs = hole.set, hole.set.rows, hole.epochs
	return out, nil
}

// queryFailure returns the error a continuous query stopped with, if any (SHOW QUERIES).
func queryFailure(ctx context.Context, eng *streamsql.Engine, name string) error {
	res, err := eng.Query(ctx, "SHOW QUERIES")
	if err != nil {
		return nil
	}
	defer res.Release()
	for _, rec := range res.Records {
		nameCol, errCol := -1, -1
		for i, f := range rec.Schema().Fields() {
			switch f.Name {
			case "name":
				nameCol = i
			case "error":
				errCol = i
			}
		}
		if nameCol < 0 || errCol < 0 {
			return nil
		}
		for r := 0; r < int(rec.NumRows()); r++ {
			if exec.FormatDatum(rec.Column(nameCol).DataType(), exec.ValueAt(rec.Column(nameCol), r)) != name || rec.Column(errCol).IsNull(r) {
				continue
			}
			if msg := exec.FormatDatum(rec.Column(errCol).DataType(), exec.ValueAt(rec.Column(errCol), r)); msg != "" {
				return fmt.Errorf("the continuous query failed: %s", msg)
			}
		}
	}
	return nil
}

// runNexmarkBatch runs q as an ordinary batch query over the same events: the generated streams
// are first collected into materialized views named person, auction and bid (only those the
// query reads), then q's text runs unchanged against them.
func runNexmarkBatch(q nexmark.Query, cfg nexmarkConfig) (*rowSet, error) {
	eng, err := streamsql.Open(streamsql.Options{Stdout: io.Discard})
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	ctx := context.Background()
	if _, err := eng.Exec(ctx, nexmarkSources("nexmark_", cfg, cfg.events)); err != nil {
		return nil, err
	}
	for _, s := range []string{"person", "auction", "bid"} {
		if !readsStream(q.SQL, s) {
			continue
		}
		if _, err := eng.Exec(ctx, fmt.Sprintf("CREATE MATERIALIZED VIEW %[1]s WITH (trigger = 'available_now') AS SELECT * FROM nexmark_%[1]s", s)); err != nil {
			return nil, err
		}
	}
	if err := eng.WaitQueries(ctx); err != nil {
		return nil, err
	}
	for _, st := range q.Setup {
		if _, err := eng.Exec(ctx, st); err != nil {
			return nil, fmt.Errorf("setup: %w", err)
		}
	}
	res, err := eng.Query(ctx, q.SQL)
	if err != nil {
		return nil, err
	}
	defer res.Release()
	set := newRowSet(true, true)
	for _, rec := range res.Records {
		set.add(rec, nil)
	}
	return set, nil
}

// readsStream reports whether the statement mentions the stream as a word (a cheap test that
// may over-include, which only costs a view).
func readsStream(sqlText, name string) bool {
	for _, w := range strings.FieldsFunc(strings.ToLower(sqlText), func(r rune) bool {
		return !(r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}) {
		if w == name {
			return true
		}
	}
	return false
}

// compareNexmark describes how the streaming result differs from the batch one, "same" when
// it does not.
func compareNexmark(stream, batch *rowSet) string {
	if !stream.hashed || !batch.hashed {
		return "not compared: a result was only counted"
	}
	neg := stream.negatives()
	if stream.rows == batch.rows && stream.sum == batch.sum && stream.sum2 == batch.sum2 && neg == 0 {
		return "same"
	}
	msg := fmt.Sprintf("%d rows streaming, %d batch", stream.rows, batch.rows)
	if neg > 0 {
		msg += fmt.Sprintf(", %d rows retracted more often than inserted", neg)
	}
	if stream.detail != nil && batch.detail != nil {
		// Each differing row with how many more copies the streaming result holds than the
		// batch one (negative: fewer).
		var only []string
		for row, w := range stream.detail {
			if d := w - batch.detail[row]; d != 0 {
				only = append(only, fmt.Sprintf("streaming %+d: %s", d, row))
			}
		}
		for row, w := range batch.detail {
			if _, ok := stream.detail[row]; !ok {
				only = append(only, fmt.Sprintf("streaming %+d: %s", -w, row))
			}
		}
		sort.Strings(only)
		if len(only) > 5 {
			only = append(only[:5], fmt.Sprintf("... %d more", len(only)-5))
		}
		if len(only) > 0 {
			msg += "; " + strings.Join(only, "; ")
		}
	} else if stream.rows == batch.rows {
		msg += ", same count but different rows (too many to list)"
	}
	return msg
}

// resetPeakRSS restarts the process's peak resident set (Linux: writing 5 to clear_refs), so
// that each query's figure is its own and not the previous queries' (or single-epoch runs').
// The heap of earlier runs is returned to the system first.
func resetPeakRSS() {
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS is the process's peak resident set since resetPeakRSS (VmHWM), or ru_maxrss (the
// peak of the whole run) where /proc is unavailable.
func peakRSS() int64 {
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" {
				if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil {
					return kb * 1024
				}
			}
		}
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		return ru.Maxrss * 1024
	}
	return 0
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func percentileMs(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return float64(s[min(len(s)-1, int(p*float64(len(s))))].Microseconds()) / 1000
}

// blackhole is the sink of the benchmark: it folds every row into a rowSet with its weight and
// times the gaps between its writes. In complete mode each write is the whole result, so it
// replaces the previous one.
type blackhole struct {
	mu     sync.Mutex
	mode   sinks.OutputMode
	set    *rowSet
	last   time.Time
	epochs []time.Duration
	err    error
}

func (b *blackhole) Open(_ *arrow.Schema, mode sinks.OutputMode, _ []int) error {
	b.mode = mode
	return nil
}

func (b *blackhole) Close() error { return nil }

func (b *blackhole) Write(_ context.Context, _ int64, deltas []exec.Delta) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	b.epochs = append(b.epochs, now.Sub(b.last))
	b.last = now
	if b.mode == sinks.Complete {
		b.set.reset()
	}
	for _, d := range deltas {
		b.set.add(d.Rec, d.Weights)
	}
	return nil
}

// rowSet is a multiset of rows: a count and, when hashed, two order-independent checksums
// (wrap-around sums of two different hashes of each row, times its weight, so a retraction
// cancels its insertion), and, while it holds at most detailLimit distinct rows, the rows
// themselves as text so that a difference can be shown. Only --check compares results, so
// without it the streaming run's sink only counts: hashing every value was most of q0-q2's
// time outside the generator, for checksums nothing read.
type rowSet struct {
	rows, sum, sum2 int64
	hashed          bool
	detail          map[string]int64 // nil: not kept (no --check, or too many rows)
	hashes          []uint64
}

const detailLimit = 200_000

// newRowSet makes an empty set; hashed keeps the checksums, detail also the rows as text
// (costly: only for --check; detail implies hashed).
func newRowSet(hashed, detail bool) *rowSet {
	if detail {
		return &rowSet{hashed: true, detail: map[string]int64{}}
	}
	return &rowSet{hashed: hashed}
}

func (s *rowSet) reset() {
	s.rows, s.sum, s.sum2 = 0, 0, 0
	if s.detail != nil {
		clear(s.detail)
	}
}

func (s *rowSet) add(rec arrow.RecordBatch, weights *array.Int64) {
	n := int(rec.NumRows())
	if !s.hashed {
		if weights == nil {
			s.rows += int64(n)
			return
		}
		for _, w := range weights.Int64Values() {
			s.rows += w
		}
		return
	}
	s.hashes = slices.Grow(s.hashes[:0], n)[:n]
	for i := range s.hashes {
		s.hashes[i] = 14695981039346656037
	}
	for _, col := range rec.Columns() {
		hashColumn(s.hashes, col)
	}
	for i, h := range s.hashes {
		w := int64(1)
		if weights != nil {
			w = weights.Value(i)
		}
		s.sum += w * int64(h^h>>29)
		s.sum2 += w * int64((h*0x9E3779B97F4A7C15)^h>>31)
		s.rows += w
	}
	if s.detail == nil {
		return
	}
	var sb strings.Builder
	for i := 0; i < n; i++ {
		sb.Reset()
		for c, col := range rec.Columns() {
			if c > 0 {
				sb.WriteString(" | ")
			}
			if col.IsNull(i) {
				sb.WriteString("NULL")
			} else {
				sb.WriteString(exec.FormatDatum(col.DataType(), exec.ValueAt(col, i)))
			}
		}
		w := int64(1)
		if weights != nil {
			w = weights.Value(i)
		}
		key := sb.String()
		if s.detail[key] += w; s.detail[key] == 0 {
			delete(s.detail, key)
		}
	}
	if len(s.detail) > detailLimit {
		s.detail = nil
	}
}

// negatives counts the rows with a negative net weight (retracted more often than inserted),
// when the rows are held.
func (s *rowSet) negatives() int {
	n := 0
	for _, w := range s.detail {
		if w < 0 {
			n++
		}
	}
	return n
}

// hashColumn mixes each row's value of col into hashes (FNV-style over the value's bytes).
func hashColumn(hashes []uint64, col arrow.Array) {
	mix := func(h, v uint64) uint64 { return (h ^ v) * 1099511628211 }
	switch c := col.(type) {
	case *array.Int64:
		for i := range hashes {
			hashes[i] = mix(hashes[i], uint64(c.Value(i))+uint64(boolInt(c.IsNull(i)))<<63)
		}
	case *array.Timestamp:
		for i := range hashes {
			hashes[i] = mix(hashes[i], uint64(c.Value(i))+uint64(boolInt(c.IsNull(i)))<<63)
		}
	case *array.String:
		// Eight bytes at a time, the tail zero-padded; the length closes the value, so values
		// that differ only by trailing zero bytes still hash apart.
		for i := range hashes {
			h, v := hashes[i], c.Value(i)
			for ; len(v) >= 8; v = v[8:] {
				h = mix(h, le64(v))
			}
			if len(v) > 0 {
				var tail [8]byte
				copy(tail[:], v)
				h = mix(h, binary.LittleEndian.Uint64(tail[:]))
			}
			hashes[i] = mix(h, uint64(c.ValueLen(i))+uint64(boolInt(c.IsNull(i)))<<63)
		}
	default:
		for i := range hashes {
			h := hashes[i]
			for _, ch := range []byte(exec.FormatDatum(col.DataType(), exec.ValueAt(col, i))) {
				h = mix(h, uint64(ch))
			}
			hashes[i] = h
		}
	}
}

// le64 is the first eight bytes of v (len(v) >= 8) as a little-endian word.
func le64(v string) uint64 {
	_ = v[7]
	return uint64(v[0]) | uint64(v[1])<<8 | uint64(v[2])<<16 | uint64(v[3])<<24 |
		uint64(v[4])<<32 | uint64(v[5])<<40 | uint64(v[6])<<48 | uint64(v[7])<<56
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
