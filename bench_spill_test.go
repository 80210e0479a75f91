package streamsql

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/sinks"
)

// TestSpillAcceptance is issue 13's spill acceptance run (BENCHMARKS.md, "State larger than
// memory"): a streaming GROUP BY over STREAMSQL_SPILL_KEYS distinct keys (default 10,000,000; a
// fifth of them updated again at the end, so spilled groups are read back) with state_memory =
// STREAMSQL_SPILL_MEMORY (default '256MiB'; 'unlimited' is the run without spill), in epochs of
// 100,000 rows with incremental checkpoints. It reports the wall time, the process's peak RSS
// (VmHWM, read before the oracle runs) and the spill counters, then checks every key's final
// upsert against the batch engine's GROUP BY over the same rows. Set STREAMSQL_SPILL_BENCH=1;
// STREAMSQL_SPILL_MAX_RSS_MIB makes a peak above it a failure; STREAMSQL_SPILL_NO_CHECKPOINT=1
// runs without a data directory (no checkpoints); STREAMSQL_SPILL_HEAP_PROFILE=FILE writes heap
// profiles of the streaming run at its growing peaks. The Go runtime's own GOMEMLIMIT applies.
func TestSpillAcceptance(t *testing.T) {
	if os.Getenv("STREAMSQL_SPILL_BENCH") == "" {
		t.Skip("set STREAMSQL_SPILL_BENCH=1 (minutes, GBs of disk): see BENCHMARKS.md")
	}
	keys := envInt(t, "STREAMSQL_SPILL_KEYS", 10_000_000, 1)
	memOpt := os.Getenv("STREAMSQL_SPILL_MEMORY")
	if memOpt == "" {
		memOpt = "256MiB"
	}
	dir := t.TempDir()
	srcDir, outPath := filepath.Join(dir, "src"), filepath.Join(dir, "upserts.bin")
	if err := os.Mkdir(srcDir, 0o755); err != nil {
		t.Fatal(err)
	}
	allPath := spillWriteInput(t, srcDir, dir, keys)

	out, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	sink := &upsertFileSink{w: bufio.NewWriterSize(out, 1<<20)}
	dataDir := filepath.Join(dir, "data")
	if os.Getenv("STREAMSQL_SPILL_NO_CHECKPOINT") != "" {
		dataDir = "" // to tell the checkpoints' memory from the state's
	}
	eng, err := Open(Options{DataDir: dataDir, SinkConnectors: map[string]func(sinks.Config) (sinks.Sink, error){
		"upsertfile": func(sinks.Config) (sinks.Sink, error) { return sink, nil },
	}})
	if err != nil {
		t.Fatal(err)
	}
	const agg = "SELECT k, count(*) AS n, sum(v) AS s FROM {T} GROUP BY k"
	mustExec(t, eng, fmt.Sprintf("CREATE SOURCE ev (k BIGINT, v BIGINT) WITH (connector = 'files', path = '%s', format = 'csv', max_rows_per_trigger = '100000')", srcDir))
	stopProfile := func() {}
	if prof := os.Getenv("STREAMSQL_SPILL_HEAP_PROFILE"); prof != "" {
		stopProfile = spillProfileAtPeak(t, prof)
	}
	start := time.Now()
	mustExec(t, eng, fmt.Sprintf("CREATE SINK o WITH (connector = 'upsertfile', output_mode = 'update', trigger = 'available_now', state_memory = '%s') AS %s", memOpt, strings.ReplaceAll(agg, "{T}", "ev")))
	wall := time.Since(start)
	stopProfile() // the profile is of the streaming run, not of the oracle's batch GROUP BY
	p, err := eng.QueryProgress("o")
	if err != nil || p == nil {
		t.Fatalf("no progress: %v", err)
	}
	rss := vmHWM(t)
	var spill string
	for _, op := range p.StateOperators {
		if op.Spill != nil {
			spill = fmt.Sprintf("; %d rows spilled, %d spill writes, %d reads, %d spill rounds, %d bytes in memory",
				op.Spill.SpilledRows, op.Spill.SpillWrites, op.Spill.SpillReads, op.Spill.SpillRounds, op.Spill.InMemoryBytes)
		}
	}
	t.Logf("%d keys, %d rows, state_memory=%s: %.1fs, %d epochs, peak RSS %d MiB%s", keys, keys+keys/5, memOpt, wall.Seconds(), p.Epoch+1, rss>>20, spill)
	eng.Close()
	if err := sink.w.Flush(); err != nil {
		t.Fatal(err)
	}
	out.Close()
	if limit := envInt(t, "STREAMSQL_SPILL_MAX_RSS_MIB", 0, 0); limit > 0 && rss>>20 > int64(limit) {
		t.Errorf("peak RSS %d MiB is over %d MiB", rss>>20, limit)
	}

	// Oracle: the batch engine over a file table of the same rows.
	got := make([][2]int64, keys)
	seen := make([]bool, keys)
	f, err := os.Open(outPath)
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReaderSize(f, 1<<20)
	var rec [24]byte
	for {
		if _, err := io.ReadFull(r, rec[:]); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		k := int64(binary.LittleEndian.Uint64(rec[:]))
		if k < 0 || k >= int64(keys) {
			t.Fatalf("the sink got key %d, outside 0..%d", k, keys-1)
		}
		got[k] = [2]int64{int64(binary.LittleEndian.Uint64(rec[8:])), int64(binary.LittleEndian.Uint64(rec[16:]))}
		seen[k] = true
	}
	f.Close()
	beng, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer beng.Close()
	mustExec(t, beng, fmt.Sprintf("CREATE TABLE ev (k BIGINT, v BIGINT) WITH (connector = 'file', path = '%s', format = 'csv')", allPath))
	res, err := beng.Query(context.Background(), strings.ReplaceAll(agg, "{T}", "ev"))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Release()
	wrong, n := 0, 0
	for _, b := range res.Records {
		ks, ns, ss := b.Column(0).(*array.Int64), b.Column(1).(*array.Int64), b.Column(2).(*array.Int64)
		for i := 0; i < int(b.NumRows()); i++ {
			n++
			k := ks.Value(i)
			if !seen[k] || got[k] != [2]int64{ns.Value(i), ss.Value(i)} {
				if wrong++; wrong <= 5 {
					t.Errorf("key %d: stream %v (seen %v), batch [%d %d]", k, got[k], seen[k], ns.Value(i), ss.Value(i))
				}
			}
		}
	}
	if n != keys || wrong > 0 {
		t.Fatalf("%d of %d batch groups differ from the stream (batch has %d groups, want %d)", wrong, n, n, keys)
	}
	runtime.KeepAlive(got)
}

// spillWriteInput writes keys rows (k = 0..keys-1) and then keys/5 updates of earlier keys, in
// CSV files of 500,000 rows under srcDir, and all of them in one file under dir for the oracle.
func spillWriteInput(t *testing.T, srcDir, dir string, keys int) string {
	allPath := filepath.Join(dir, "all.csv")
	all, err := os.Create(allPath)
	if err != nil {
		t.Fatal(err)
	}
	aw := bufio.NewWriterSize(all, 1<<20)
	var part *os.File
	var pw *bufio.Writer
	total := keys + keys/5
	var line []byte
	for i := 0; i < total; i++ {
		if i%500_000 == 0 {
			if pw != nil {
				pw.Flush()
				part.Close()
			}
			if part, err = os.Create(filepath.Join(srcDir, fmt.Sprintf("part%05d.csv", i/500_000))); err != nil {
				t.Fatal(err)
			}
			pw = bufio.NewWriterSize(part, 1<<20)
		}
		k, v := i, i%97
		if i >= keys {
			j := i - keys
			k, v = int((int64(j)*7919)%int64(keys)), j%13
		}
		line = strconv.AppendInt(line[:0], int64(k), 10)
		line = append(line, ',')
		line = strconv.AppendInt(line, int64(v), 10)
		line = append(line, '\n')
		pw.Write(line)
		aw.Write(line)
	}
	pw.Flush()
	part.Close()
	if err := aw.Flush(); err != nil {
		t.Fatal(err)
	}
	all.Close()
	return allPath
}

// envInt is the integer environment setting name of a long test or benchmark, def when unset;
// a value that is not an integer, or is below least, fails t.
func envInt(t testing.TB, name string, def, least int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < least {
		t.Fatalf("%s=%q: want an integer of at least %d", name, v, least)
	}
	return n
}

// spillProfileAtPeak writes a heap profile to path each time the live heap passes its previous
// peak by an eighth (sampled every 100 ms), so the file left shows the allocation sites at
// about the peak. The returned func stops the sampling.
func spillProfileAtPeak(t *testing.T, path string) func() {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var peak uint64
		var ms runtime.MemStats
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc <= peak+peak/8 {
				continue
			}
			peak = ms.HeapAlloc
			f, err := os.Create(path)
			if err != nil {
				t.Errorf("heap profile: %v", err)
				return
			}
			err = pprof.WriteHeapProfile(f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Errorf("heap profile: %v", err)
				return
			}
			t.Logf("heap profile at %d MiB live heap written to %s", peak>>20, path)
		}
	}()
	return func() { close(done); <-finished }
}

// vmHWM is the process's peak resident set size in bytes (Linux /proc/self/status).
func vmHWM(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/self/status")
	return 0
}

// upsertFileSink appends every upserted row (k, n, s as three little-endian int64) to a file:
// the last record of a key is its result. Not exactly-once (the run is never killed).
type upsertFileSink struct {
	w    *bufio.Writer
	keys []int
}

func (s *upsertFileSink) Open(_ *arrow.Schema, _ sinks.OutputMode, keys []int) error {
	s.keys = keys
	return nil
}

func (s *upsertFileSink) Write(_ context.Context, _ int64, deltas []exec.Delta) error {
	var rec [24]byte
	for _, d := range deltas {
		ks, ns, ss := d.Rec.Column(0).(*array.Int64), d.Rec.Column(1).(*array.Int64), d.Rec.Column(2).(*array.Int64)
		for i := 0; i < int(d.Rec.NumRows()); i++ {
			if d.Weights != nil && d.Weights.Value(i) < 0 {
				return fmt.Errorf("a GROUP BY without deletes retracted key %d", ks.Value(i))
			}
			binary.LittleEndian.PutUint64(rec[:], uint64(ks.Value(i)))
			binary.LittleEndian.PutUint64(rec[8:], uint64(ns.Value(i)))
			binary.LittleEndian.PutUint64(rec[16:], uint64(ss.Value(i)))
			if _, err := s.w.Write(rec[:]); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *upsertFileSink) Close() error { return nil }
