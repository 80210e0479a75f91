package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
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
	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/sinks"
)

// `streamsql bench nexmark`: the Nexmark queries over the nexmark connector, in this process.
//
// Each query runs as a continuous query (trigger available_now, epochs of --epoch-events events
// of all types) into a blackhole sink that counts the rows and keeps an order-independent
// checksum of them; then the same query runs again over the same events in a single epoch (the
// batch plan: one epoch over all the input), and the two results must be equal. Per query it
// reports the events generated (of all types, as Nexmark counts them), the streaming run's wall
// and CPU time, events/s, events per core-second, the process's peak RSS during it, and the p50/p99
// of the time between two sink writes (one per epoch). Queries the engine cannot run yet are
// reported as unsupported with the engine's reason, never skipped silently.

const nexmarkUsage = "Usage: streamsql bench nexmark [--query q0,q1,...] [--events N] [--epoch-events N] [--json]"

// nexmarkSources declares the three streams over one event sequence (same seed and rate).
func nexmarkSources(events, perEpoch int64) string {
	opts := fmt.Sprintf("connector = 'nexmark', seed = '1', number_of_events = '%d', max_events_per_trigger = '%d'", events, perEpoch)
	return fmt.Sprintf(`CREATE SOURCE person (id BIGINT, name VARCHAR, email_address VARCHAR, credit_card VARCHAR, city VARCHAR, state VARCHAR,
    date_time TIMESTAMP, extra VARCHAR, WATERMARK FOR date_time AS date_time - INTERVAL '4 seconds')
  WITH (%[1]s, event_type = 'person');
CREATE SOURCE auction (id BIGINT, item_name VARCHAR, description VARCHAR, initial_bid BIGINT, reserve BIGINT, date_time TIMESTAMP,
    expires TIMESTAMP, seller BIGINT, category BIGINT, extra VARCHAR, WATERMARK FOR date_time AS date_time - INTERVAL '4 seconds')
  WITH (%[1]s, event_type = 'auction');
CREATE SOURCE bid (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, date_time TIMESTAMP, extra VARCHAR,
    WATERMARK FOR date_time AS date_time - INTERVAL '4 seconds')
  WITH (%[1]s, event_type = 'bid');
`, opts)
}

// nexmarkQuery is one query of the suite in our SQL, with the output mode it runs in.
type nexmarkQuery struct {
	name, mode, sql, about string
}

// nexmarkQueries follows the reference suite (Flink/Beam Nexmark); prices are in cents, so q1's
// dollar-to-euro rate 0.908 is integer arithmetic.
var nexmarkQueries = []nexmarkQuery{
	{"q0", "append", "SELECT auction, bidder, price, date_time, extra FROM bid", "pass-through"},
	{"q1", "append", "SELECT auction, bidder, price * 908 / 1000 AS price, date_time, extra FROM bid", "currency conversion"},
	{"q2", "append", "SELECT auction, price FROM bid WHERE auction % 123 = 0", "selection"},
	{"q3", "append", `SELECT p.name, p.city, p.state, a.id FROM auction AS a JOIN person AS p ON a.seller = p.id
  WHERE a.category = 10 AND (p.state = 'OR' OR p.state = 'ID' OR p.state = 'CA')`, "local item suggestion (stream-stream join)"},
	{"q4", "complete", `SELECT q.category, AVG(q.final) AS avg_final FROM (SELECT MAX(b.price) AS final, a.category FROM auction a JOIN bid b
  ON a.id = b.auction AND b.date_time BETWEEN a.date_time AND a.expires GROUP BY a.id, a.category) q GROUP BY q.category`, "average price per category (join, nested aggregation)"},
	{"q5", "complete", `SELECT auction, window(date_time, '10 seconds', '2 seconds') AS w, COUNT(*) AS num FROM bid
  GROUP BY auction, window(date_time, '10 seconds', '2 seconds')`, "hot items, inner sliding-window count (the reference's max over it needs a second aggregation)"},
	{"q7", "append", `SELECT b.auction, b.price, b.bidder, b.date_time FROM bid b JOIN (SELECT MAX(price) AS maxprice, window(date_time, '10 seconds') AS w
  FROM bid GROUP BY window(date_time, '10 seconds')) m ON b.price = m.maxprice`, "highest bid (join with a windowed aggregate)"},
	{"q8", "append", `SELECT p.id, p.name, a.reserve FROM person p JOIN auction a ON p.id = a.seller
  AND window(p.date_time, '10 seconds') = window(a.date_time, '10 seconds')`, "monitor new users (windowed stream-stream join)"},
	{"q11", "complete", `SELECT bidder, COUNT(*) AS bid_count, session_window(date_time, '10 seconds') AS s FROM bid
  GROUP BY bidder, session_window(date_time, '10 seconds')`, "user sessions"},
	{"q12", "complete", `SELECT bidder, COUNT(*) AS bid_count, window(date_time, '10 seconds') AS w FROM bid
  GROUP BY bidder, window(date_time, '10 seconds')`, "bids per bidder per window (event time; the reference uses processing time)"},
	{"q14", "append", `SELECT auction, bidder, price * 908 / 1000 AS price, CASE WHEN extract(hour FROM date_time) >= 8 AND extract(hour FROM date_time) <= 18 THEN 'dayTime'
  WHEN extract(hour FROM date_time) <= 6 OR extract(hour FROM date_time) >= 20 THEN 'nightTime' ELSE 'otherTime' END AS bid_time_type, date_time, extra
  FROM bid WHERE price * 908 / 1000 > 1000000 AND price * 908 / 1000 < 50000000`, "filter and CASE"},
	{"q17", "complete", `SELECT auction, COUNT(*) AS total_bids, MIN(price) AS min_price, MAX(price) AS max_price, AVG(price) AS avg_price, SUM(price) AS sum_price
  FROM bid GROUP BY auction`, "auction statistics (the reference groups by day too)"},
	{"q22", "append", `SELECT auction, bidder, price, channel, split_part(url, '/', 4) AS dir1, split_part(url, '/', 5) AS dir2 FROM bid`, "url parsing"},
}

// nexmarkResult is one query's figures.
type nexmarkResult struct {
	Query        string  `json:"query"`
	Supported    bool    `json:"supported"`
	Reason       string  `json:"reason,omitempty"` // why it is unsupported
	Events       int64   `json:"events"`
	Rows         int64   `json:"rows"`
	WallSec      float64 `json:"wall_s"`
	CPUSec       float64 `json:"cpu_s"`
	EventsPerS   float64 `json:"events_per_s"`
	PerCoreS     float64 `json:"events_per_core_s"`
	PeakRSSMiB   float64 `json:"peak_rss_mib"`
	P50EpochMs   float64 `json:"p50_epoch_ms"`
	P99EpochMs   float64 `json:"p99_epoch_ms"`
	MatchesBatch bool    `json:"matches_batch"`
}

func benchNexmarkCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench nexmark", flag.ContinueOnError)
	fs.SetOutput(stderr)
	queries := fs.String("query", "", "comma-separated queries to run (default: all)")
	events := fs.Int64("events", 10_000_000, "events to generate per query (of all types)")
	perEpoch := fs.Int64("epoch-events", 1_000_000, "events per epoch of the streaming run")
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
	if *events < 1 || *perEpoch < 1 {
		return usageErr("--events and --epoch-events must be positive")
	}
	run := nexmarkQueries
	if *queries != "" {
		run = nil
		for _, name := range strings.Split(*queries, ",") {
			i := slices.IndexFunc(nexmarkQueries, func(q nexmarkQuery) bool { return q.name == strings.TrimSpace(name) })
			if i < 0 {
				var names []string
				for _, q := range nexmarkQueries {
					names = append(names, q.name)
				}
				return usageErr("unknown query %q (known: %s)", name, strings.Join(names, ", "))
			}
			run = append(run, nexmarkQueries[i])
		}
	}
	var results []nexmarkResult
	for _, q := range run {
		res, err := runNexmarkQuery(q, *events, *perEpoch)
		if err != nil {
			fmt.Fprintf(stderr, "streamsql bench nexmark: %s: %v\n", q.name, err)
			return 1
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
		if r.Supported && !r.MatchesBatch {
			fmt.Fprintf(stderr, "streamsql bench nexmark: %s: the streaming result differs from the single-epoch (batch) result\n", r.Query)
			return 1
		}
	}
	return 0
}

func printNexmarkTable(w io.Writer, results []nexmarkResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "query\tevents\trows out\twall s\tcpu s\tevents/s\tevents/core-s\tpeak RSS MiB\tp50 ms\tp99 ms\tvs batch")
	for _, r := range results {
		if !r.Supported {
			fmt.Fprintf(tw, "%s\tunsupported: %s\n", r.Query, r.Reason)
			continue
		}
		check := "same"
		if !r.MatchesBatch {
			check = "DIFFERENT"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.2f\t%.2f\t%.2fM\t%.2fM\t%.0f\t%.1f\t%.1f\t%s\n", r.Query, r.Events, r.Rows, r.WallSec, r.CPUSec,
			r.EventsPerS/1e6, r.PerCoreS/1e6, r.PeakRSSMiB, r.P50EpochMs, r.P99EpochMs, check)
	}
	tw.Flush()
}

// runNexmarkQuery runs q streaming and as one epoch and compares them.
func runNexmarkQuery(q nexmarkQuery, events, perEpoch int64) (nexmarkResult, error) {
	res := nexmarkResult{Query: q.name, Events: events}
	stream, err := runNexmarkOnce(q, events, perEpoch)
	var unsupported *nexmarkUnsupported
	if errors.As(err, &unsupported) {
		res.Reason = unsupported.reason
		return res, nil
	}
	if err != nil {
		return res, err
	}
	batch, err := runNexmarkOnce(q, events, events)
	if err != nil {
		return res, fmt.Errorf("the single-epoch run: %w", err)
	}
	res.Supported = true
	res.Rows = stream.rows
	res.WallSec = stream.wall.Seconds()
	res.CPUSec = stream.cpu.Seconds()
	res.EventsPerS = float64(events) / stream.wall.Seconds()
	if stream.cpu > 0 {
		res.PerCoreS = float64(events) / stream.cpu.Seconds()
	}
	res.PeakRSSMiB = float64(stream.peakRSS) / (1 << 20)
	res.P50EpochMs, res.P99EpochMs = percentileMs(stream.epochs, 0.50), percentileMs(stream.epochs, 0.99)
	res.MatchesBatch = stream.rows == batch.rows && stream.sum == batch.sum
	return res, nil
}

type nexmarkUnsupported struct{ reason string }

func (u *nexmarkUnsupported) Error() string { return u.reason }

type nexmarkRun struct {
	rows, sum int64 // sum: the blackhole's checksum (a wrap-around sum of row hashes)
	wall, cpu time.Duration
	peakRSS   int64
	epochs    []time.Duration
}

// runNexmarkOnce runs q over events events in epochs of perEpoch events into a blackhole sink.
func runNexmarkOnce(q nexmarkQuery, events, perEpoch int64) (nexmarkRun, error) {
	var out nexmarkRun
	hole := &blackhole{}
	eng, err := streamsql.Open(streamsql.Options{Stdout: io.Discard, SinkConnectors: map[string]func(sinks.Config) (sinks.Sink, error){
		"blackhole": func(sinks.Config) (sinks.Sink, error) { return hole, nil },
	}})
	if err != nil {
		return out, err
	}
	defer eng.Close()
	ctx := context.Background()
	if _, err := eng.Exec(ctx, nexmarkSources(events, perEpoch)); err != nil {
		return out, err
	}
	stmt := fmt.Sprintf("CREATE SINK %s WITH (connector = 'blackhole', output_mode = '%s', trigger = 'available_now') AS %s", q.name, q.mode, q.sql)
	resetPeakRSS()
	cpu0, start := selfCPU(), time.Now()
	hole.last = start
	if _, err := eng.Exec(ctx, stmt); err != nil {
		if strings.Contains(err.Error(), "syntax") {
			return out, fmt.Errorf("%s: %w", q.name, err)
		}
		// The engine's message names the missing feature on its first line (the rest is a
		// caret under the statement).
		reason, _, _ := strings.Cut(err.Error(), "\n")
		return out, &nexmarkUnsupported{reason: reason}
	}
	if err := eng.WaitQueries(ctx); err != nil {
		return out, err
	}
	out.wall, out.cpu = time.Since(start), selfCPU()-cpu0
	out.peakRSS = peakRSS()
	hole.mu.Lock()
	defer hole.mu.Unlock()
	if hole.err != nil {
		return out, hole.err
	}
	out.rows, out.sum, out.epochs = hole.rows, hole.sum, hole.epochs
	return out, nil
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

// blackhole is the sink of the benchmark: it counts rows and sums a hash of each row (an
// order-independent checksum), and times the gaps between its writes. In complete mode each
// write is the whole result, so it replaces the previous one.
type blackhole struct {
	mu        sync.Mutex
	mode      sinks.OutputMode
	rows, sum int64
	last      time.Time
	epochs    []time.Duration
	err       error
	hashes    []uint64
}

func (b *blackhole) Open(_ *arrow.Schema, mode sinks.OutputMode, _ []int) error {
	b.mode = mode
	return nil
}

func (b *blackhole) Close() error { return nil }

// Write folds each row into the checksum with its weight, so a retraction cancels its insertion.
func (b *blackhole) Write(_ context.Context, _ int64, deltas []exec.Delta) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	b.epochs = append(b.epochs, now.Sub(b.last))
	b.last = now
	if b.mode == sinks.Complete {
		b.rows, b.sum = 0, 0
	}
	for _, d := range deltas {
		rec := d.Rec
		n := int(rec.NumRows())
		b.hashes = slices.Grow(b.hashes[:0], n)[:n]
		for i := range b.hashes {
			b.hashes[i] = 14695981039346656037
		}
		for _, col := range rec.Columns() {
			hashColumn(b.hashes, col)
		}
		for i, h := range b.hashes {
			w := int64(1)
			if d.Weights != nil {
				w = d.Weights.Value(i)
			}
			b.sum += w * int64(h^h>>29)
			b.rows += w
		}
	}
	return nil
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
		for i := range hashes {
			h := hashes[i]
			for _, ch := range []byte(c.Value(i)) {
				h = mix(h, uint64(ch))
			}
			hashes[i] = mix(h, uint64(len(c.Value(i))))
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

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
