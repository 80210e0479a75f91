// Command compare runs the issue-14 `ts,k,v` workload (N events, 1,000 keys, event time 1 ms apart
// with up to 2 s of disorder, ISO `Z` timestamps, 60 s tumbling COUNT/SUM by key) on streamsql and
// on DuckDB, each as a child process, and prints wall time and CPU time (user+system of the child)
// per engine and setting, medians of --repeat runs, the CPU ratio to DuckDB with 1 thread and the
// highest peak RSS of the runs. --baseline names a second streamsql binary (an older build) that
// runs alternately with the first on the same file, so that old and new are compared in one run.
//
// It is a module of its own (bench/compare/go.mod) so that the product does not depend on DuckDB.
//
//	cd bench/compare && go build -o /tmp/compare . && go build -o /tmp/streamsql ../../cmd/streamsql
//	/tmp/compare --streamsql /tmp/streamsql --events 10000000 --format csv --repeat 5
//
// Both engines compute the windows the final watermark (max event time - 5 s) has closed; the
// tool checks that they report the same number of windows and the same total count.
package main

import (
	"bufio"
	"database/sql"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "duckdb-child" {
		if err := duckdbChild(os.Args[2], os.Args[3], os.Args[4]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	events := flag.Int("events", 10_000_000, "events to generate")
	format := flag.String("format", "csv", "csv or json (JSON lines)")
	dir := flag.String("dir", "", "working directory (default: a temporary one, removed afterwards)")
	repeat := flag.Int("repeat", 5, "runs per engine and setting (alternating)")
	bin := flag.String("streamsql", "streamsql", "the streamsql binary")
	reuse := flag.Bool("reuse", false, "with --dir: keep the input file a previous run generated there (same --events and --format)")
	baseline := flag.String("baseline", "", "a second streamsql binary (e.g. an older build) run alternately with --streamsql on the same data")
	settings := flag.String("parallelism", "1,2", "streamsql parallelism and DuckDB threads to run")
	flag.Parse()
	if err := run(*events, *format, *dir, *reuse, *repeat, *bin, *baseline, strings.Split(*settings, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

// measure is one child run: wall time, CPU time (user+system) and peak resident set in bytes
// (0 when /proc could not be read).
type measure struct {
	wall, cpu time.Duration
	rss       int64
}

func run(events int, format, dir string, reuse bool, repeat int, bin, baseline string, settings []string) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "compare")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	in := filepath.Join(dir, "in")
	if err := os.MkdirAll(in, 0o755); err != nil {
		return err
	}
	data := filepath.Join(in, "events."+format)
	if _, err := os.Stat(data); !reuse || err != nil {
		if err := generate(data, events, format); err != nil {
			return err
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	results := map[string][]measure{}
	var order []string
	check := map[string]string{}
	for r := 0; r < repeat; r++ {
		for _, p := range settings {
			p = strings.TrimSpace(p)
			job := filepath.Join(dir, "job-"+p+".sql")
			if err := os.WriteFile(job, []byte(streamsqlJob(in, format, p)), 0o644); err != nil {
				return err
			}
			bins := []struct{ name, path string }{{"streamsql parallelism " + p, bin}}
			if baseline != "" {
				bins = append(bins, struct{ name, path string }{"baseline parallelism " + p, baseline})
			}
			for _, b := range bins {
				m, out, err := child(exec.Command(b.path, "run", "-f", job))
				if err != nil {
					return fmt.Errorf("%s: %w", b.name, err)
				}
				windows, total := summarize(out)
				check[b.name] = fmt.Sprintf("%d windows, %d events", windows, total)
				if !slices.Contains(order, b.name) {
					order = append(order, b.name)
				}
				results[b.name] = append(results[b.name], m)
			}

			name := "duckdb threads " + p
			m, out, err := child(exec.Command(self, "duckdb-child", data, format, p))
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			check[name] = strings.TrimSpace(out)
			if !slices.Contains(order, name) {
				order = append(order, name)
			}
			results[name] = append(results[name], m)
		}
	}
	base := median(results["duckdb threads 1"], func(m measure) time.Duration { return m.cpu })
	fmt.Printf("%d events, %s, ISO Z timestamps, medians of %d runs\n", events, format, repeat)
	fmt.Printf("%-28s %8s %8s %12s %9s  %s\n", "engine", "wall s", "CPU s", "CPU/duckdb1", "peak MiB", "result")
	for _, name := range order {
		ms := results[name]
		w := median(ms, func(m measure) time.Duration { return m.wall })
		c := median(ms, func(m measure) time.Duration { return m.cpu })
		ratio := "-"
		if base > 0 {
			ratio = fmt.Sprintf("%.2fx", c.Seconds()/base.Seconds())
		}
		var peak int64
		for _, m := range ms {
			peak = max(peak, m.rss)
		}
		fmt.Printf("%-28s %8.2f %8.2f %12s %9.1f  %s\n", name, w.Seconds(), c.Seconds(), ratio, float64(peak)/(1<<20), check[name])
	}
	return nil
}

func median(ms []measure, f func(measure) time.Duration) time.Duration {
	if len(ms) == 0 {
		return 0
	}
	v := make([]time.Duration, len(ms))
	for i, m := range ms {
		v[i] = f(m)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// child runs cmd and returns its wall time, its CPU time (user+system), its peak resident set
// and its standard output. The peak is the child's VmHWM sampled every 10 ms: its ru_maxrss is
// not usable, as a child that os/exec starts inherits this process's high-water mark at exec.
func child(cmd *exec.Cmd) (measure, string, error) {
	var out strings.Builder
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return measure{}, "", err
	}
	done := make(chan struct{})
	peak := make(chan int64)
	go func() {
		var hwm int64
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			hwm = max(hwm, readHWM(cmd.Process.Pid))
			select {
			case <-done:
				peak <- hwm
				return
			case <-t.C:
			}
		}
	}()
	err := cmd.Wait()
	wall := time.Since(start)
	close(done)
	rss := <-peak
	if err != nil {
		return measure{}, "", err
	}
	st := cmd.ProcessState
	return measure{wall: wall, cpu: st.UserTime() + st.SystemTime(), rss: rss}, out.String(), nil
}

// readHWM is VmHWM of process pid in bytes, or 0 when it cannot be read (the process is gone).
func readHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" && f[2] == "kB" {
			var kb int64
			fmt.Sscanf(f[1], "%d", &kb)
			return kb << 10
		}
	}
	return 0
}

func streamsqlJob(in, format, parallelism string) string {
	return fmt.Sprintf(`CREATE SOURCE ev (ts TIMESTAMP, k VARCHAR, v BIGINT, WATERMARK FOR ts AS ts - INTERVAL '5 seconds')
  WITH (connector = 'files', path = '%s', format = '%s');
CREATE SINK windows WITH (connector = 'console', format = 'json', output_mode = 'append', trigger = 'available_now', parallelism = '%s') AS
  SELECT k, window(ts, '60 seconds') AS w, COUNT(*) AS n, SUM(v) AS s FROM ev GROUP BY k, window(ts, '60 seconds');
`, in, format, parallelism)
}

// summarize counts the windows of streamsql's JSON lines output and adds up their n.
func summarize(out string) (windows, total int64) {
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.Index(line, `"n":`)
		if i < 0 {
			continue
		}
		var n int64
		fmt.Sscanf(line[i+4:], "%d", &n)
		windows++
		total += n
	}
	return windows, total
}

// duckdbChild runs the workload on DuckDB with the given threads and prints the closed windows'
// count and their total count.
func duckdbChild(data, format, threads string) error {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Exec("SET threads = " + threads); err != nil {
		return err
	}
	read := fmt.Sprintf("read_csv('%s', header = false, columns = {'ts': 'TIMESTAMP', 'k': 'VARCHAR', 'v': 'BIGINT'})", data)
	if format == "json" {
		read = fmt.Sprintf("read_json('%s', format = 'newline_delimited', columns = {'ts': 'TIMESTAMP', 'k': 'VARCHAR', 'v': 'BIGINT'})", data)
	}
	q := fmt.Sprintf(`WITH ev AS (SELECT * FROM %s),
  w AS (SELECT k, time_bucket(INTERVAL '60 seconds', ts) AS ws, COUNT(*) AS n, SUM(v) AS s FROM ev GROUP BY ALL),
  wm AS (SELECT MAX(ts) - INTERVAL '5 seconds' AS m FROM ev)
SELECT COUNT(*), SUM(n) FROM w, wm WHERE ws + INTERVAL '60 seconds' <= wm.m`, read)
	var windows, total int64
	if err := db.QueryRow(q).Scan(&windows, &total); err != nil {
		return err
	}
	fmt.Printf("%d windows, %d events\n", windows, total)
	return nil
}

// generate writes the workload: 1,000 keys, event time 1 ms apart from 2024-01-01 with up to 2 s
// of disorder, v < 1000, ISO timestamps with Z.
func generate(path string, events int, format string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	r := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < events; i++ {
		t := base.Add(time.Duration(int64(i)-r.Int64N(2000)) * time.Millisecond)
		if t.Before(base) {
			t = base
		}
		ts := t.Format("2006-01-02T15:04:05.000Z")
		k, v := r.IntN(1000), r.IntN(1000)
		if format == "json" {
			fmt.Fprintf(w, "{\"ts\":\"%s\",\"k\":\"key%03d\",\"v\":%d}\n", ts, k, v)
		} else {
			fmt.Fprintf(w, "%s,key%03d,%d\n", ts, k, v)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
