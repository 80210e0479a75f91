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
	"strconv"
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

const benchUsage = "Usage: streamsql bench [--events N] [--files F] [--dir DIR]"

// benchKeys is the number of distinct keys in the generated events.
const benchKeys = 1000

func benchCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	events := fs.Int("events", 10_000_000, "number of events to generate")
	files := fs.Int("files", 10, "number of files the events are split into (one epoch each)")
	dir := fs.String("dir", "", "working directory for the data, script and output (default: a temporary directory, removed afterwards)")
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
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "streamsql bench: cannot find the streamsql binary to run: %v\n", err)
		return 1
	}
	if err := runBench(self, work, *events, *files, stdout, stderr); err != nil {
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

func runBench(self, work string, events, files int, stdout, stderr io.Writer) error {
	data := filepath.Join(work, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return err
	}
	t0 := time.Now()
	names, err := writeBenchFiles(data, events, files)
	if err != nil {
		return fmt.Errorf("writing the events: %w", err)
	}
	fmt.Fprintf(stdout, "generated %d events in %d files under %s (%.1fs)\n", events, files, data, time.Since(t0).Seconds())
	steps := benchSteps(files)
	var results []benchResult
	for _, k := range steps {
		res, err := benchRun(self, work, data, names[:k], events, files)
		if err != nil {
			return err
		}
		results = append(results, res)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "events\twindows\twall s\tevents/s\tcpu-ns/event\tpeak RSS MiB\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%d\t%d\t%.2f\t%.2fM\t%.1f\t%.1f\t\n", r.events, r.windows, r.wall.Seconds(),
			float64(r.events)/r.wall.Seconds()/1e6, float64(r.cpu.Nanoseconds())/float64(r.events), float64(r.maxRSS)/(1<<20))
	}
	return tw.Flush()
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
func writeBenchFiles(dir string, events, files int) ([]string, error) {
	var names []string
	gen := newBenchGen()
	for f := 0; f < files; f++ {
		name := fmt.Sprintf("events-%05d.csv", f)
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

// appendRow appends the next row `YYYY-MM-DD HH:MM:SS.mmm,keyNNN,V\n` to b.
func (g *benchGen) appendRow(b []byte) []byte {
	b = appendBenchTime(b, g.next())
	b = append(b, ",key"...)
	k := g.state >> 20 % benchKeys
	b = append(b, byte('0'+k/100), byte('0'+k/10%10), byte('0'+k%10), ',')
	b = strconv.AppendUint(b, g.state>>50%1000, 10)
	return append(b, '\n')
}

// appendBenchTime appends the UTC time of Unix millisecond ms as 'YYYY-MM-DD HH:MM:SS.mmm'.
func appendBenchTime(b []byte, ms int64) []byte {
	day, rest := ms/86_400_000, ms%86_400_000
	if rest < 0 {
		day, rest = day-1, rest+86_400_000
	}
	b = time.UnixMilli(day*86_400_000).UTC().AppendFormat(b, "2006-01-02 ")
	two := func(b []byte, v int64) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }
	b = two(b, rest/3_600_000)
	b = append(b, ':')
	b = two(b, rest/60_000%60)
	b = append(b, ':')
	b = two(b, rest/1000%60)
	return append(b, '.', byte('0'+rest%1000/100), byte('0'+rest%100/10), byte('0'+rest%10))
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
func benchScript(in string) string {
	return fmt.Sprintf(`CREATE SOURCE ev (ts TIMESTAMP, k VARCHAR, v BIGINT, WATERMARK FOR ts AS ts - INTERVAL '5 seconds')
  WITH (connector = 'files', path = %s, format = 'csv', max_files_per_trigger = '1');
CREATE SINK windows WITH (connector = 'console', format = 'json', output_mode = 'append', trigger = 'available_now') AS
  SELECT k, window(ts, '60 seconds') AS w, COUNT(*) AS n, SUM(v) AS s FROM ev GROUP BY k, window(ts, '60 seconds');
`, sqlQuote(in))
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
func benchRun(self, work, data string, names []string, events, files int) (benchResult, error) {
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
	if err := os.WriteFile(script, []byte(benchScript(in)), 0o644); err != nil {
		return res, err
	}
	outPath := filepath.Join(work, fmt.Sprintf("out-%d.jsonl", len(names)))
	out, err := os.Create(outPath)
	if err != nil {
		return res, err
	}
	defer out.Close()
	var errb limitedBuffer
	cmd := osexec.Command(self, "run", "-f", script)
	cmd.Stdout, cmd.Stderr = out, &errb
	start := time.Now()
	err = cmd.Run()
	res.wall = time.Since(start)
	if err != nil {
		return res, fmt.Errorf("%s run -f %s: %v\n%s", self, script, err, errb.String())
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.maxRSS = ru.Maxrss * 1024 // kilobytes on Linux
		res.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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

// benchClosedEvents is how many of the first n generated events the run must emit: append mode
// emits a window once the watermark (max event time - 5 s, reached by the no-data epoch after the
// last file) is at or past its end, and the windows still open at the end are never emitted. No
// event is late: the disorder (2 s) is below the watermark delay.
func benchClosedEvents(n int64) int64 {
	const window, delay = 60_000, 5_000
	g := newBenchGen()
	ts := make([]int64, n)
	maxTs := int64(math.MinInt64)
	for i := range ts {
		ts[i] = g.next()
		maxTs = max(maxTs, ts[i])
	}
	wm := maxTs - delay
	var closed int64
	for _, t := range ts {
		end := t - t%window + window // event times are positive
		if end <= wm {
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
