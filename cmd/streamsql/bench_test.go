package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBenchCommand runs `streamsql bench` on 90,000 events (90 s of event time) in 3 files and checks its report and,
// against a naive computation over the CSV files it wrote (parsed independently here), the
// windows its last run emitted: every (key, 60 s window) that the final watermark (max event time
// - 5 s) closed, with its exact count and sum, and nothing else.
func TestBenchCommand(t *testing.T) {
	dir := t.TempDir()
	res := runCLI(t, "", "bench", "--events", "90000", "--files", "3", "--dir", dir)
	if res.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	// Report: a header and one row per run (1 file: 30,000 events; 3 files: 90,000 events).
	var rows [][]string
	for _, line := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
		f := strings.Fields(line)
		if len(f) == 6 && f[0] != "events" {
			rows = append(rows, f)
		}
	}
	if len(rows) != 2 || rows[0][0] != "30000" || rows[1][0] != "90000" {
		t.Fatalf("want runs of 30000 and 90000 events, got report:\n%s", res.stdout)
	}
	for _, r := range rows {
		if rss, err := strconv.ParseFloat(r[5], 64); err != nil || rss <= 0 {
			t.Errorf("run of %s events: peak RSS %q", r[0], r[5])
		}
	}

	type agg struct{ n, s int64 }
	want := map[string]agg{}
	var maxTs int64
	type event struct {
		ts   int64
		k    string
		v    int64
		wkey string
	}
	var events []event
	files, _ := filepath.Glob(filepath.Join(dir, "data", "*.csv"))
	if len(files) != 3 {
		t.Fatalf("want 3 data files, got %v", files)
	}
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			ts, err := time.Parse("2006-01-02 15:04:05.000", r[0])
			if err != nil {
				t.Fatal(err)
			}
			v, err := strconv.ParseInt(r[2], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			ms := ts.UnixMilli()
			start := ms - ms%60_000
			events = append(events, event{ms, r[1], v, r[1] + "|" + time.UnixMilli(start).UTC().Format("2006-01-02 15:04:05")})
			maxTs = max(maxTs, ms)
		}
	}
	if len(events) != 90000 {
		t.Fatalf("data files hold %d events, want 90000", len(events))
	}
	for _, e := range events {
		if end := e.ts - e.ts%60_000 + 60_000; end <= maxTs-5_000 {
			a := want[e.wkey]
			a.n++
			a.s += e.v
			want[e.wkey] = a
		}
	}
	if len(want) == 0 {
		t.Fatal("test data closes no window; the check would be vacuous")
	}

	got := map[string]agg{}
	f, err := os.Open(filepath.Join(dir, "out-3.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if !strings.HasPrefix(sc.Text(), "{") {
			continue
		}
		var line struct {
			Row struct {
				K     string `json:"k"`
				Start string `json:"window_start"`
				N     int64  `json:"n"`
				S     int64  `json:"s"`
			} `json:"row"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("output line %q: %v", sc.Text(), err)
		}
		key := line.Row.K + "|" + line.Row.Start
		if _, dup := got[key]; dup {
			t.Errorf("window %s emitted twice", key)
		}
		got[key] = agg{line.Row.N, line.Row.S}
	}
	if len(got) != len(want) {
		t.Errorf("%d windows emitted, want %d", len(got), len(want))
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("window %s: got %+v (present %v), want %+v", k, g, ok, w)
		}
	}
}

func TestBenchCommandUsage(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "--events", "0"},
		{"bench", "--events", "10", "--files", "11"},
		{"bench", "extra"},
	} {
		res := runCLI(t, "", args...)
		if res.code != 2 || !strings.Contains(res.stderr, "Usage: streamsql bench") {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 with the usage", args, res.code, res.stderr)
		}
	}
}
