package sinks

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/jackc/pgx/v5"

	"github.com/streamsql/streamsql/internal/testdb"
)

// pgConnect opens a test connection with the session time zone UTC (timestamps render as +00).
func pgConnect(t testing.TB, u string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(u)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["timezone"] = "UTC"
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func pgTarget(t testing.TB) *sqlTarget {
	u := testdb.Postgres(t)
	conn := pgConnect(t, u)
	var mu sync.Mutex // the test connection is shared by parallel helpers
	return &sqlTarget{
		connector: "postgres",
		url:       u,
		newSink:   NewPostgres,
		exec: func(t testing.TB, q string, args ...any) {
			t.Helper()
			mu.Lock()
			defer mu.Unlock()
			if _, err := conn.Exec(context.Background(), q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		},
		rows: func(t testing.TB, q string, args ...any) [][]string {
			t.Helper()
			mu.Lock()
			defer mu.Unlock()
			rows, err := conn.Query(context.Background(), q, args...)
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			defer rows.Close()
			var out [][]string
			for rows.Next() {
				vals, err := rows.Values()
				if err != nil {
					t.Fatal(err)
				}
				row := make([]string, len(vals))
				for i, v := range vals {
					if v == nil {
						row[i] = "NULL"
					} else {
						row[i] = fmt.Sprint(v)
					}
				}
				out = append(out, row)
			}
			if err := rows.Err(); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			return out
		},
		text:  func(c string) string { return c + "::text" },
		quote: func(s string) string { return pgx.Identifier{s}.Sanitize() },
	}
}

func TestPostgresSink(t *testing.T) {
	runSQLSinkSuite(t, pgTarget(t))
}

func TestPostgresTypesRoundTrip(t *testing.T) {
	roundTrip(t, pgTarget(t), map[int][]string{
		1: {"true", "-9223372036854775808", "1.5", "12345678901234567890.123456789", "héllo, 世界 🎉 'quote' \\ back",
			"2024-02-29 23:59:59.123456+00", "2024-02-29", "25:01:01.000001"},
		2: {"NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL"},
		3: {"false", "9223372036854775807", "-2.25e-300", "-0.000000001", "", "1969-12-31 23:59:59.999999+00", "1969-12-31", "-00:00:00.000001"},
	})
}

func TestPostgresCreateTableTypes(t *testing.T) {
	tg := pgTarget(t)
	table := tg.newTable(t)
	tg.open(t, table, allTypesSchema, Update, []int{0, 5}, nil, "create_table", "true")
	rows := tg.rows(t, `SELECT column_name::text, data_type::text, coalesce(numeric_precision::text, ''), coalesce(numeric_scale::text, ''), is_nullable::text
		FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, table)
	var got []string
	for _, r := range rows {
		got = append(got, strings.Join(r, " "))
	}
	want := []string{"id bigint 64 0 NO", "b boolean   YES", "i bigint 64 0 YES", "f double precision 53  YES",
		"d numeric 38 9 YES", "s text   NO", "t timestamp with time zone   YES", "dt date   YES", "iv interval   YES"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("columns:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if pk := tg.primaryKeyOf(t, table); pk != "id,s" {
		t.Fatalf("primary key = %q, want id,s", pk)
	}
	// Append mode declares no key unless primary_key is given.
	t2 := tg.newTable(t)
	tg.open(t, t2, winSchema, Append, []int{0}, nil, "create_table", "true")
	if pk := tg.primaryKeyOf(t, t2); pk != "" {
		t.Fatalf("append-mode table got primary key %q", pk)
	}
	t3 := tg.newTable(t)
	tg.open(t, t3, winSchema, Append, nil, nil, "create_table", "true", "primary_key", "window_start,k")
	if pk := tg.primaryKeyOf(t, t3); pk != "window_start,k" {
		t.Fatalf("primary key = %q, want window_start,k", pk)
	}
}

// TestPostgresSchemaQualified writes to schema.table; the marker lives in the same schema.
func TestPostgresSchemaQualified(t *testing.T) {
	tg := pgTarget(t)
	schema := uniqueName("sch")
	tg.exec(t, "CREATE SCHEMA "+schema)
	t.Cleanup(func() { tg.exec(t, "DROP SCHEMA "+schema+" CASCADE") })
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s := tg.open(t, schema+".Out", winSchema, Update, []int{0, 1}, nil, "create_table", "true")
	writeRows(t, s, mem, winSchema, 3, []any{"a", ts("2024-01-01 00:00:00"), 1})
	got := tg.rows(t, `SELECT k || '=' || n FROM `+schema+`."Out"`)
	if len(got) != 1 || got[0][0] != "a=1" {
		t.Fatalf("rows = %v", got)
	}
	if got := tg.rows(t, "SELECT epoch::text FROM "+schema+".streamsql_commits"); len(got) != 1 || got[0][0] != "3" {
		t.Fatalf("marker = %v", got)
	}
}

// withPassword returns u with a password in its user info (the local test server trusts
// connections, so any password works) and the password.
func withPassword(t testing.TB, u string) (string, string) {
	p, err := url.Parse(u)
	if err != nil || p.User == nil {
		t.Skipf("test URL %s has no user info to add a password to", RedactURL(u))
	}
	if pw, ok := p.User.Password(); ok && pw != "" {
		return u, pw
	}
	const pw = "Sup3r-S3cret-pw"
	p.User = url.UserPassword(p.User.Username(), pw)
	return p.String(), pw
}

// TestPostgresOutage terminates the sink's backends (found by application_name) again and again
// while it writes 40 update-mode epochs: every Write must retry, reconnect and succeed, and the
// table must end exactly as a naive upsert of all epochs says. The password must never reach the
// log.
func TestPostgresOutage(t *testing.T) {
	tg := pgTarget(t)
	tg.url, _ = withPassword(t, tg.url)
	_, secret := withPassword(t, tg.url)
	table := tg.newTable(t)
	var logBuf syncBuffer
	log := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: winSchema.Field(0).Type}, {Name: "n", Type: winSchema.Field(2).Type}}, nil)
	s := tg.open(t, table, schema, Update, []int{0}, log, "create_table", "true")

	killer := pgConnect(t, testdb.Postgres(t))
	stop := make(chan struct{})
	var killed atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	// Eight bursts of kills, 150 ms apart: each lands between or inside Writes.
	go func() {
		defer wg.Done()
		for bursts := 0; bursts < 8; {
			select {
			case <-stop:
				return
			case <-time.After(150 * time.Millisecond):
			}
			var n int64
			err := killer.QueryRow(context.Background(), "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1", "streamsql sink "+table).Scan(&n)
			if err != nil {
				t.Error(err)
				return
			}
			killed.Add(n)
			if n > 0 {
				bursts++
			}
		}
	}()
	stopKiller := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopKiller()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	want := map[string]int{}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for epoch := 0; epoch < 40; epoch++ {
		var rows [][]any
		for i := 0; i < 3000; i++ {
			k := fmt.Sprintf("k%04d", (epoch*1237+i*7)%5000)
			rows = append(rows, []any{k, epoch*10000 + i})
			want[k] = epoch*10000 + i
		}
		rec := makeRecord(t, mem, schema, rows...)
		err := s.Write(ctx, int64(epoch), inserts(rec))
		rec.Release()
		if err != nil {
			t.Fatalf("epoch %d: %v", epoch, err)
		}
	}
	stopKiller()
	var wantRows []string
	for k, n := range want {
		wantRows = append(wantRows, fmt.Sprintf("%s|%d", k, n))
	}
	equalRows(t, "after the outages", tg.dump(t, table, "k", "n"), wantRows...)
	if got := tg.markerEpoch(t, table); got != "39" {
		t.Fatalf("marker epoch = %s, want 39", got)
	}
	logs := logBuf.String()
	retries := strings.Count(logs, "retrying")
	t.Logf("terminated %d backends, %d retries logged", killed.Load(), retries)
	if killed.Load() == 0 || retries == 0 {
		t.Fatalf("the outage did not happen (terminated %d, retries %d):\n%s", killed.Load(), retries, logs)
	}
	if strings.Contains(logs, secret) {
		t.Fatalf("the password reached the log:\n%s", logs)
	}
	if !strings.Contains(logs, ":***@") {
		t.Fatalf("the log lacks the redacted URL:\n%s", logs)
	}
}

// TestPostgresSecretsRedacted: errors (connection refused, missing table) and logs never carry the
// password.
func TestPostgresSecretsRedacted(t *testing.T) {
	tg := pgTarget(t)
	u, secret := withPassword(t, tg.url)
	var logBuf syncBuffer
	log := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	table := tg.newTable(t)
	refused, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	refused.Host = "127.0.0.1:1" // nothing listens there
	for _, target := range []string{u, refused.String()} {
		s, err := NewPostgres(Config{Query: table, Logger: log, Options: map[string]string{"url": target, "table": table}})
		if err != nil {
			t.Fatal(err)
		}
		s.(*sqlSink).openTimeout = 400 * time.Millisecond
		err = s.Open(winSchema, Append, nil)
		s.Close()
		if err == nil {
			t.Fatal("Open of a missing table succeeded")
		}
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("the password is in the error: %v", err)
		}
		t.Log(err)
	}
	if _, err := NewPostgres(Config{Query: "q", Options: map[string]string{"url": "postgres://u:" + secret + "@h:notaport/db", "table": "t"}}); err == nil || strings.Contains(err.Error(), secret) {
		t.Fatalf("bad URL: err = %v", err)
	}
	if logs := logBuf.String(); strings.Contains(logs, secret) || !strings.Contains(logs, "retrying") {
		t.Fatalf("log (want retries, no password):\n%s", logs)
	}
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// benchRows builds n rows of winSchema: keys k0..k(n/10) x 10 windows, n = value + seed.
func benchRecords(b *testing.B, n, seed int) []arrow.RecordBatch {
	w0 := ts("2024-01-01 00:00:00")
	var recs []arrow.RecordBatch
	for start := 0; start < n; start += 65536 {
		var rows [][]any
		for i := start; i < min(n, start+65536); i++ {
			rows = append(rows, []any{fmt.Sprintf("key%d", i/10), w0 + int64(i%10)*600_000_000, i + seed})
		}
		recs = append(recs, makeRecord(b, memory.DefaultAllocator, winSchema, rows...))
	}
	return recs
}

// benchSink writes one epoch of rowsPerEpoch rows per iteration and reports rows/s.
func benchSink(b *testing.B, tg *sqlTarget, mode OutputMode, rowsPerEpoch int) {
	table := tg.newTable(b)
	s := tg.open(b, table, winSchema, mode, []int{0, 1}, nil, "create_table", "true")
	recs := [2][]arrow.RecordBatch{benchRecords(b, rowsPerEpoch, 0), benchRecords(b, rowsPerEpoch, 1)}
	defer releaseAll(recs[0])
	defer releaseAll(recs[1])
	ctx := context.Background()
	if err := s.Write(ctx, 0, inserts(recs[0]...)); err != nil { // the keys exist: every later row is an update
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.Write(ctx, int64(i+1), inserts(recs[(i+1)%2]...)); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(rowsPerEpoch)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkPostgresAppend(b *testing.B) { benchSink(b, pgTarget(b), Append, 100_000) }
func BenchmarkPostgresUpdate(b *testing.B) { benchSink(b, pgTarget(b), Update, 100_000) }
