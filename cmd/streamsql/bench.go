package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	osexec "os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"
)

// `streamsql bench`: the files-source streaming benchmark, rerunnable by anyone with the binary.
//
// It writes N CSV events `ts,k,v` (1,000 keys key000..key999, event time 1 ms apart from
// 2024-01-01 with up to 2 s of disorder, v in [0, 1000)) into --files files of equal size, then
// runs this same binary as a child `streamsql run -f job.sql` on the first 1/10, 1/2 and all of
// the files (1M, 5M and 10M events at the default N). The script reads them with the files
// connector, trigger 'available_now' and max_files_per_trigger 1 (one epoch per file), computes
// a 60 s tumbling COUNT/SUM by key with a 5 s watermark in append mode and prints the closed
// windows as JSON lines to a file. Per run it reports the child's wall time, events/s, CPU time
// per event and peak RSS (getrusage's ru_maxrss of the child, what /usr/bin/time -v shows), and
// it checks the output against the generator: the counts of the emitted windows must add up to
// the events whose window the final watermark closed (benchClosedEvents).
//
// --format json writes JSON lines instead of CSV, --time iso writes 2024-01-01T00:00:00.000Z
// timestamps (what most producers emit) instead of 2024-01-01 00:00:00.000, --files 1 with
// --max-rows-per-trigger N reads one large file in epochs of N rows (the peak RSS then shows
// whether memory stays flat as the file grows), and --engine runs the job with another streamsql
// binary (an older build, to compare on the same data in the same run).

const benchUsage = "Usage: streamsql bench nexmark [flags] | streamsql bench [--events N] [--files F] [--format csv|json] [--time sql|iso] [--max-rows-per-trigger N] [--parallelism N] [--engine PATH] [--repeat R] [--dir DIR]"

// benchOptions are the bench flags that shape the data and the job.
type benchOptions struct {
	format  string // "csv" or "json" (JSON lines)
	isoTime bool   // timestamps as 2024-01-01T00:00:00.000Z instead of 2024-01-01 00:00:00.000
	// maxRows, when > 0, reads the files with max_rows_per_trigger instead of one file per epoch.
	maxRows int
	engine  string // the streamsql binary that runs the job
	repeat  int    // runs per step; with more than one, a median row follows each step's runs
	// parallelism, when > 0, is the job's parallelism option (0: the engine's default).
	parallelism int
}

// benchKeys is the number of distinct keys in the generated events.
const benchKeys = 1000

func benchCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "nexmark" {
		return benchNexmarkCommand(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	events := fs.Int("events", 10_000_000, "number of events to generate")
	files := fs.Int("files", 10, "number of files the events are split into (one epoch each)")
	dir := fs.String("dir", "", "working directory for the data, script and output (default: a temporary directory, removed afterwards)")
	format := fs.String("format", "csv", "file format of the events: csv or json (JSON lines)")
	timeForm := fs.String("time", "sql", "timestamp form: sql (2024-01-01 00:00:00.000) or iso (2024-01-01T00:00:00.000Z)")
	maxRows := fs.Int("max-rows-per-trigger", 0, "read with the files source's max_rows_per_trigger (0: one file per epoch)")
	repeat := fs.Int("repeat", 1, "runs per step (the report adds each step's medians)")
	parallelism := fs.Int("parallelism", 0, "the job's parallelism option (0: the default, the number of cores)")
	engine := fs.String("engine", "", "the streamsql binary that runs the job (default: this one; e.g. an older build to compare)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, benchUsage)
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args); done {
		return code
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "streamsql bench: "+format+"\n", a...)
		fs.Usage()
		return 2
	}
	switch {
	case fs.NArg() > 0:
		return usageErr("unexpected argument %q", fs.Arg(0))
	case *events < 1:
		return usageErr("--events must be positive, got %d", *events)
	case *files < 1 || *files > *events:
		return usageErr("--files must be between 1 and --events (%d), got %d", *events, *files)
	case *format != "csv" && *format != "json":
		return usageErr("--format must be csv or json, got %q", *format)
	case *timeForm != "sql" && *timeForm != "iso":
		return usageErr("--time must be sql or iso, got %q", *timeForm)
	case *repeat < 1:
		return usageErr("--repeat must be positive, got %d", *repeat)
	case *maxRows < 0:
		return usageErr("--max-rows-per-trigger cannot be negative, got %d", *maxRows)
	}
	work := *dir
	if work == "" {
		tmp, err := os.MkdirTemp("", "streamsql-bench")
		if err != nil {
			fmt.Fprintf(stderr, "streamsql bench: %v\n", err)
			return 1
		}
		defer os.RemoveAll(tmp)
		work = tmp
	}
	self := *engine
	if self == "" {
		var err error
		if self, err = os.Executable(); err != nil {
			fmt.Fprintf(stderr, "streamsql bench: cannot find the streamsql binary to run: %v\n", err)
			return 1
		}
	}
	opts := benchOptions{format: *format, isoTime: *timeForm == "iso", maxRows: *maxRows, engine: self, repeat: *repeat, parallelism: *parallelism}
	if err := runBench(opts, work, *events, *files, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "streamsql bench: %v\n", err)
		return 1
	}
	return 0
}

// benchResult is one child run.
type benchResult struct {
	events  int64
	wall    time.Duration
	cpu     time.Duration // child user+system CPU time
	maxRSS  int64         // child peak resident set, bytes
	windows int64         // output rows
}

func runBench(opts benchOptions, work string, events, files int, stdout, stderr io.Writer) error {
	data := filepath.Join(work, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return err
	}
	t0 := time.Now()
	names, err := writeBenchFiles(data, events, files, opts)
	if err != nil {
		return fmt.Errorf("writing the events: %w", err)
	}
	fmt.Fprintf(stdout, "generated %d events in %d files under %s (%.1fs)\n", events, files, data, time.Since(t0).Seconds())
	steps := benchSteps(files)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "events\twindows\twall s\tevents/s\tcpu-ns/event\tpeak RSS MiB\t")
	row := func(label string, r benchResult) {
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.2fM\t%.1f\t%.1f\t\n", label, r.windows, r.wall.Seconds(),
			float64(r.events)/r.wall.Seconds()/1e6, float64(r.cpu.Nanoseconds())/float64(r.events), float64(r.maxRSS)/(1<<20))
	}
	for _, k := range steps {
		var runs []benchResult
		for i := 0; i < opts.repeat; i++ {
			res, err := benchRun(opts, work, data, names[:k], events, files)
			if err != nil {
				return err
			}
			runs = append(runs, res)
			row(strconv.FormatInt(res.events, 10), res)
		}
		if len(runs) > 1 {
			row("median", medianBenchResult(runs))
		}
	}
	return tw.Flush()
}

// medianBenchResult takes the median of each measured figure of runs over the same input
// separately (so the row need not be one of the runs).
func medianBenchResult(runs []benchResult) benchResult {
	med := func(get func(benchResult) int64) int64 {
		v := make([]int64, len(runs))
		for i, r := range runs {
			v[i] = get(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	return benchResult{
		events:  runs[0].events,
		windows: runs[0].windows,
		wall:    time.Duration(med(func(r benchResult) int64 { return int64(r.wall) })),
		cpu:     time.Duration(med(func(r benchResult) int64 { return int64(r.cpu) })),
		maxRSS:  med(func(r benchResult) int64 { return r.maxRSS }),
	}
}

// benchSteps is how many files each run reads: a tenth, half and all of them (deduplicated).
func benchSteps(files int) []int {
	var out []int
	for _, k := range []int{max(1, files/10), max(1, files/2), files} {
		if len(out) == 0 || out[len(out)-1] != k {
			out = append(out, k)
		}
	}
	return out
}

// benchFileEvents is the number of events in file f of files (the first files take the rest).
func benchFileEvents(events, files, f int) int {
	n := events / files
	if f < events%files {
		n++
	}
	return n
}

// writeBenchFiles writes the events into files files named events-NNNNN.csv and returns their
// names in order.
func writeBenchFiles(dir string, events, files int, opts benchOptions) ([]string, error) {
	var names []string
	gen := newBenchGen()
	gen.json, gen.iso = opts.format == "json", opts.isoTime
	ext := map[bool]string{false: "csv", true: "jsonl"}[gen.json]
	for f := 0; f < files; f++ {
		name := fmt.Sprintf("events-%05d.%s", f, ext)
		if err := writeBenchFile(filepath.Join(dir, name), gen, benchFileEvents(events, files, f)); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	return names, nil
}

// benchGen generates the event rows in order; its state is the row number and a 64-bit LCG.
type benchGen struct {
	i     int64
	state uint64
	base  int64 // Unix milliseconds of row 0
	json  bool  // rows as JSON lines
	iso   bool  // timestamps in ISO-8601 form with Z
}

func newBenchGen() *benchGen {
	return &benchGen{state: 42, base: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()}
}

// next advances to the next row and returns its event time in Unix milliseconds.
func (g *benchGen) next() int64 {
	g.state = g.state*6364136223846793005 + 1442695040888963407
	ms := g.base + g.i - int64(g.state>>40%2000)
	g.i++
	return ms
}

// appendRow appends the next row `YYYY-MM-DD HH:MM:SS.mmm,keyNNN,V\n` to b (or, by g's options,
// with the time as YYYY-MM-DDTHH:MM:SS.mmmZ, or as the JSON line {"ts":"...","k":"keyNNN","v":V}).
func (g *benchGen) appendRow(b []byte) []byte {
	if g.json {
		b = append(b, `{"ts":"`...)
	}
	b = appendBenchTime(b, g.next(), g.iso)
	k := g.state >> 20 % benchKeys
	if g.json {
		b = append(b, `","k":"key`...)
		b = append(b, byte('0'+k/100), byte('0'+k/10%10), byte('0'+k%10), '"', ',', '"', 'v', '"', ':')
	} else {
		b = append(b, ",key"...)
		b = append(b, byte('0'+k/100), byte('0'+k/10%10), byte('0'+k%10), ',')
	}
	b = strconv.AppendUint(b, g.state>>50%1000, 10)
	if g.json {
		b = append(b, '}')
	}
	return append(b, '\n')
}

// appendBenchTime appends the UTC time of Unix millisecond ms as 'YYYY-MM-DD HH:MM:SS.mmm', or
// with iso as 'YYYY-MM-DDTHH:MM:SS.mmmZ'.
func appendBenchTime(b []byte, ms int64, iso bool) []byte {
	day, rest := ms/86_400_000, ms%86_400_000
	if rest < 0 {
		day, rest = day-1, rest+86_400_000
	}
	b = time.UnixMilli(day*86_400_000).UTC().AppendFormat(b, "2006-01-02")
	b = append(b, map[bool]byte{false: ' ', true: 'T'}[iso])
	two := func(b []byte, v int64) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }
	b = two(b, rest/3_600_000)
	b = append(b, ':')
	b = two(b, rest/60_000%60)
	b = append(b, ':')
	b = two(b, rest/1000%60)
	b = append(b, '.', byte('0'+rest%1000/100), byte('0'+rest%100/10), byte('0'+rest%10))
	if iso {
		b = append(b, 'Z')
	}
	return b
}

func writeBenchFile(path string, gen *benchGen, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var line []byte
	for i := 0; i < n; i++ {
		line = gen.appendRow(line[:0])
		if _, err := w.Write(line); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// benchScript is the job the child runs over directory in, writing nothing but the console sink.
func benchScript(in string, opts benchOptions) string {
	limit := "max_files_per_trigger = '1'"
	par := ""
	if opts.parallelism > 0 {
		par = fmt.Sprintf(", parallelism = '%d'", opts.parallelism)
	}
	if opts.maxRows > 0 {
		limit = fmt.Sprintf("max_rows_per_trigger = '%d'", opts.maxRows)
	}
	return fmt.Sprintf(`CREATE SOURCE ev (ts TIMESTAMP, k VARCHAR, v BIGINT, WATERMARK FOR ts AS ts - INTERVAL '5 seconds')
  WITH (connector = 'files', path = %s, format = '%s', %s);
CREATE SINK windows WITH (connector = 'console', format = 'json', output_mode = 'append', trigger = 'available_now'%s) AS
  SELECT k, window(ts, '60 seconds') AS w, COUNT(*) AS n, SUM(v) AS s FROM ev GROUP BY k, window(ts, '60 seconds');
`, sqlQuote(in), opts.format, limit, par)
}

func sqlQuote(s string) string {
	out := []byte{'\''}
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			out = append(out, '\'')
		}
		out = append(out, s[i])
	}
	return string(append(out, '\''))
}

// benchRun links the first len(names) files into a fresh input directory, runs the child on it
// and checks its output.
func benchRun(opts benchOptions, work, data string, names []string, events, files int) (benchResult, error) {
	var res benchResult
	for f := range names {
		res.events += int64(benchFileEvents(events, files, f))
	}
	in := filepath.Join(work, fmt.Sprintf("in-%d", len(names)))
	if err := os.RemoveAll(in); err != nil {
		return res, err
	}
	if err := os.MkdirAll(in, 0o755); err != nil {
		return res, err
	}
	for _, n := range names {
		if err := linkOrCopy(filepath.Join(data, n), filepath.Join(in, n)); err != nil {
			return res, err
		}
	}
	script := filepath.Join(work, fmt.Sprintf("job-%d.sql", len(names)))
	if err := os.WriteFile(script, []byte(benchScript(in, opts)), 0o644); err != nil {
		return res, err
	}
	outPath := filepath.Join(work, fmt.Sprintf("out-%d.jsonl", len(names)))
	out, err := os.Create(outPath)
	if err != nil {
		return res, err
	}
	defer out.Close()
	var errb limitedBuffer
	cmd := osexec.Command(opts.engine, "run", "-f", script)
	cmd.Stdout, cmd.Stderr = out, &errb
	start := time.Now()
	if err = cmd.Start(); err != nil {
		return res, fmt.Errorf("%s run -f %s: %v", opts.engine, script, err)
	}
	hwm := watchPeakRSS(cmd.Process.Pid)
	err = cmd.Wait()
	res.wall = time.Since(start)
	peak := hwm()
	if err != nil {
		return res, fmt.Errorf("%s run -f %s: %v\n%s", opts.engine, script, err, errb.String())
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.maxRSS = ru.Maxrss * 1024 // kilobytes on Linux
		res.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if peak > 0 {
		res.maxRSS = peak
	}
	n, windows, err := sumBenchOutput(outPath)
	if err != nil {
		return res, err
	}
	res.windows = windows
	if want := benchClosedEvents(res.events); n != want {
		return res, fmt.Errorf("the windows emitted count %d events, want %d of the %d read: those in windows the final watermark closed (output in %s)",
			n, want, res.events, outPath)
	}
	return res, nil
}

// watchPeakRSS samples the peak resident set (VmHWM in /proc/<pid>/status) of a running child
// every 20 ms; the returned function stops sampling and returns the last value read (0 where /proc
// is unavailable). The child's ru_maxrss cannot be used on Linux: a child started with
// vfork/CLONE_VM inherits the parent's high-water mark at exec, so it reports at least the
// bench process's own peak.
func watchPeakRSS(pid int) func() int64 {
	path := fmt.Sprintf("/proc/%d/status", pid)
	var peak atomic.Int64
	read := func() {
		b, err := os.ReadFile(path)
		if err != nil {
			return
		}
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" && f[2] == "kB" {
				if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil && kb*1024 > peak.Load() {
					peak.Store(kb * 1024)
				}
			}
		}
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			read()
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 {
		close(stop)
		<-done
		return peak.Load()
	}
}

// benchClosedEvents is how many of the first n generated events the run must emit: append mode
// emits a window once the watermark (max event time - 5 s, reached by the no-data epoch after the
// last file) is at or past its end, and the windows still open at the end are never emitted. No
// event is late: the disorder (2 s) is below the watermark delay.
func benchClosedEvents(n int64) int64 {
	const window, delay = 60_000, 5_000
	// Two passes over the generator (the maximum, then the count) keep the bench process small,
	// which matters for the peak RSS it reports.
	g := newBenchGen()
	maxTs := int64(math.MinInt64)
	for i := int64(0); i < n; i++ {
		maxTs = max(maxTs, g.next())
	}
	wm := maxTs - delay
	g = newBenchGen()
	var closed int64
	for i := int64(0); i < n; i++ {
		t := g.next()
		if end := t - t%window + window; end <= wm { // event times are positive
			closed++
		}
	}
	return closed
}

// linkOrCopy hard-links src to dst, copying when the file system cannot link.
func linkOrCopy(src, dst string) error {
	if os.Link(src, dst) == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// sumBenchOutput adds up the n column of the console sink's JSON lines and counts them.
func sumBenchOutput(path string) (events, windows int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 || sc.Bytes()[0] != '{' {
			continue // the script's statement tags (CREATE SOURCE, CREATE SINK)
		}
		var line struct {
			Row struct {
				N *int64 `json:"n"`
			} `json:"row"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil || line.Row.N == nil {
			return 0, 0, fmt.Errorf("%s: unexpected output line %q", path, sc.Text())
		}
		events += *line.Row.N
		windows++
	}
	return events, windows, sc.Err()
}

// limitedBuffer keeps the first 64 KiB written to it (a child's stderr).
type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := 64<<10 - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string { return string(l.b) }
