package server

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/streamsql/streamsql"
)

// loadEnv reads an integer knob of the load test.
func loadEnv(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v >= 0 {
		return v
	}
	return def
}

// TestLoadPointQueries is the serve acceptance load test (opt-in: STREAMSQL_LOAD=1, about 30 s):
// 5 continuous queries aggregate datagen sources producing 100,000 rows/s in total while 200 pgx
// clients point-query their materialized views (SELECT ... FROM view WHERE k = $1, extended
// protocol; the key travels as text because Parse infers VARCHAR for $1 here). It fails on any client error, on ingest falling behind, or on a view answering a
// point query with a count that is not a count seen by an earlier query of the same key (counts
// only grow); it prints p50/p99 latency and throughput.
//
// Knobs: STREAMSQL_LOAD_SECONDS (30), STREAMSQL_LOAD_CLIENTS (200), STREAMSQL_LOAD_RATE (total
// rows/s, 100000), STREAMSQL_LOAD_QPS (queries/s per client; 0, the default, is closed loop:
// each client sends its next query as soon as the answer arrives).
func TestLoadPointQueries(t *testing.T) {
	if os.Getenv("STREAMSQL_LOAD") == "" {
		t.Skip("set STREAMSQL_LOAD=1 to run the serve load test")
	}
	seconds := loadEnv("STREAMSQL_LOAD_SECONDS", 30)
	clients := loadEnv("STREAMSQL_LOAD_CLIENTS", 200)
	rate := loadEnv("STREAMSQL_LOAD_RATE", 100_000)
	qps := loadEnv("STREAMSQL_LOAD_QPS", 0)
	const views, keys = 5, 1000

	eng, err := streamsql.Open(streamsql.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	mon := NewMonitor(eng, nil)
	defer mon.Close()
	srv, err := New(Config{Engine: eng, MaxConnections: clients + 10})
	if err != nil {
		t.Fatal(err)
	}
	mon.Attach(srv)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()

	ctx := context.Background()
	for i := range views {
		script := fmt.Sprintf(`CREATE SOURCE g%[1]d (k BIGINT, v BIGINT) WITH (connector = 'datagen', rows_per_second = '%[2]d', seed = '%[1]d', fields.k.min = '0', fields.k.max = '%[3]d');
			CREATE MATERIALIZED VIEW agg%[1]d AS SELECT k, COUNT(*) AS n, SUM(v) AS s FROM g%[1]d GROUP BY k`, i, rate/views, keys-1)
		res, err := eng.Exec(ctx, script)
		for _, r := range res {
			r.Release()
		}
		if err != nil {
			t.Fatal(err)
		}
	}

	url := "postgres://load@" + l.Addr().String() + "/db?sslmode=disable"
	conns := make([]*pgx.Conn, clients)
	for i := range conns {
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		defer c.Close(ctx)
		conns[i] = c
	}
	// Let every view publish a first result before measuring.
	for i := range views {
		deadline := time.Now().Add(10 * time.Second)
		for p, _ := eng.QueryProgress(fmt.Sprintf("agg%d", i)); p == nil; p, _ = eng.QueryProgress(fmt.Sprintf("agg%d", i)) {
			if time.Now().After(deadline) {
				t.Fatalf("agg%d ran no epoch in 10 s", i)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	inputBefore := totalInput(mon)

	var (
		wg        sync.WaitGroup
		errCount  atomic.Int64
		firstErr  atomic.Value
		latencies = make([][]time.Duration, clients)
		// seen[v][k] is the largest count read for key k of view v and when that read ended.
		seen [views][keys]struct {
			mu sync.Mutex
			n  int64
			at time.Time
		}
	)
	start := time.Now()
	end := start.Add(time.Duration(seconds) * time.Second)
	for ci, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(ci), 7))
			lat := make([]time.Duration, 0, 1<<14)
			// Paced clients start at random phases, not all in the same instant.
			next := time.Now()
			if qps > 0 {
				next = next.Add(time.Duration(rng.Int64N(int64(time.Second / time.Duration(qps)))))
			}
			for time.Now().Before(end) {
				if qps > 0 {
					next = next.Add(time.Second / time.Duration(qps))
					time.Sleep(time.Until(next))
				}
				v, k := ci%views, rng.IntN(keys)
				t0 := time.Now()
				var n, s int64
				err := c.QueryRow(ctx, fmt.Sprintf("SELECT n, s FROM agg%d WHERE k = $1", v), strconv.Itoa(k)).Scan(&n, &s)
				t1 := time.Now()
				lat = append(lat, t1.Sub(t0))
				if err == pgx.ErrNoRows {
					err = nil // the key has not appeared yet
				}
				if err == nil {
					// Counts only grow: a count smaller than one read by a query that ended
					// before this one started means a stale answer.
					sk := &seen[v][k]
					sk.mu.Lock()
					if n < sk.n && sk.at.Before(t0) {
						err = fmt.Errorf("agg%d k=%d: count went back from %d to %d", v, k, sk.n, n)
					} else if n > sk.n {
						sk.n, sk.at = n, t1
					}
					sk.mu.Unlock()
				}
				if err != nil {
					errCount.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}
			latencies[ci] = lat
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	ingested := totalInput(mon) - inputBefore

	var all []time.Duration
	for _, l := range latencies {
		all = append(all, l...)
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration { return all[min(len(all)-1, int(p*float64(len(all))))] }
	t.Logf("machine: %s/%s, %d CPUs, GOMAXPROCS %d", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0))
	t.Logf("load: %d clients (qps/client %d, 0 = closed loop), %d views, %d rows/s offered, %s", clients, qps, views, rate, elapsed.Round(time.Millisecond))
	t.Logf("point queries: %d (%.0f/s), errors %d; latency p50 %s p90 %s p99 %s p99.9 %s max %s",
		len(all), float64(len(all))/elapsed.Seconds(), errCount.Load(),
		pct(0.50).Round(time.Microsecond), pct(0.90).Round(time.Microsecond), pct(0.99).Round(time.Microsecond),
		pct(0.999).Round(time.Microsecond), all[len(all)-1].Round(time.Microsecond))
	t.Logf("ingest: %d rows in %s = %.0f rows/s", ingested, elapsed.Round(time.Millisecond), float64(ingested)/elapsed.Seconds())
	if n := errCount.Load(); n > 0 {
		t.Errorf("%d point queries failed; first: %v", n, firstErr.Load())
	}
	if got := float64(ingested) / elapsed.Seconds(); got < 0.9*float64(rate) {
		t.Errorf("ingest fell behind: %.0f rows/s of %d offered", got, rate)
	}
}

// totalInput sums the monitor's input row counters over all queries.
func totalInput(m *Monitor) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n uint64
	for _, t := range m.totals {
		n += t.inputRows
	}
	return int64(n)
}
