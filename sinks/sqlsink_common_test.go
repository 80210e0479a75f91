package sinks

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/exec"
)

// sqlTarget is one real database the shared SQL-sink tests run against (postgres_test.go,
// mysql_test.go build them).
type sqlTarget struct {
	connector string
	url       string
	newSink   func(Config) (Sink, error)
	// exec runs a statement on the test's own connection.
	exec func(t testing.TB, q string, args ...any)
	// rows runs a query and returns each row as strings, NULL as "NULL".
	rows func(t testing.TB, q string, args ...any) [][]string
	// text renders a quoted column as text in SQL.
	text  func(quotedCol string) string
	quote func(string) string
}

// uniqueName returns a fresh table/query name.
func uniqueName(prefix string) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return prefix + "_" + hex.EncodeToString(b)
}

// newTable reserves a unique table name (and query name) and drops both afterwards.
func (tg *sqlTarget) newTable(t testing.TB) string {
	name := uniqueName("sink")
	t.Cleanup(func() {
		tg.exec(t, "DROP TABLE IF EXISTS "+tg.quote(name))
		tg.exec(t, "DELETE FROM "+CommitsTable+" WHERE query_id = "+tg.ph(1), name)
	})
	return name
}

func (tg *sqlTarget) ph(n int) string {
	if tg.connector == "postgres" {
		return fmt.Sprintf("$%d", n)
	}
	return "?"
}

// open builds and opens a sink on table with the given extra options.
func (tg *sqlTarget) open(t testing.TB, table string, schema *arrow.Schema, mode OutputMode, keys []int, log *slog.Logger, extra ...string) Sink {
	t.Helper()
	opts := map[string]string{"connector": tg.connector, "url": tg.url, "table": table}
	for i := 0; i+1 < len(extra); i += 2 {
		opts[extra[i]] = extra[i+1]
	}
	s, err := tg.newSink(Config{Query: table, Options: opts, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Open(schema, mode, keys); err != nil {
		t.Fatal(err)
	}
	return s
}

// dump returns the table's rows rendered as "c1|c2|...", sorted.
func (tg *sqlTarget) dump(t testing.TB, table string, cols ...string) []string {
	t.Helper()
	exprs := make([]string, len(cols))
	for i, c := range cols {
		exprs[i] = tg.text(tg.quote(c))
	}
	var out []string
	for _, r := range tg.rows(t, "SELECT "+strings.Join(exprs, ", ")+" FROM "+tg.quote(table)) {
		out = append(out, strings.Join(r, "|"))
	}
	sort.Strings(out)
	return out
}

func (tg *sqlTarget) markerEpoch(t testing.TB, query string) string {
	rows := tg.rows(t, "SELECT "+tg.text("epoch")+" FROM "+CommitsTable+" WHERE query_id = "+tg.ph(1), query)
	if len(rows) == 0 {
		return "none"
	}
	return rows[0][0]
}

// makeRecord builds a record of schema from rows of Datums (see exec.Datum; ints may be given as
// int for BIGINT/TIMESTAMP/INTERVAL columns).
func makeRecord(t testing.TB, mem memory.Allocator, schema *arrow.Schema, rows ...[]any) arrow.RecordBatch {
	t.Helper()
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for _, row := range rows {
		for j, v := range row {
			if x, ok := v.(int); ok {
				switch schema.Field(j).Type.ID() {
				case arrow.DATE32:
					v = int32(x)
				default:
					v = int64(x)
				}
			}
			if err := exec.AppendDatum(b.Field(j), v); err != nil {
				t.Fatal(err)
			}
		}
	}
	return b.NewRecordBatch()
}

func writeRows(t testing.TB, s Sink, mem memory.Allocator, schema *arrow.Schema, epoch int64, rows ...[]any) {
	t.Helper()
	rec := makeRecord(t, mem, schema, rows...)
	defer rec.Release()
	if err := s.Write(context.Background(), epoch, inserts(rec)); err != nil {
		t.Fatalf("epoch %d: %v", epoch, err)
	}
}

func ts(s string) int64 {
	v, err := exec.ParseTimestamp(s)
	if err != nil {
		panic(err)
	}
	return v
}

var winSchema = arrow.NewSchema([]arrow.Field{
	{Name: "k", Type: exec.String, Nullable: true},
	{Name: "window_start", Type: exec.Timestamp, Nullable: true},
	{Name: "n", Type: exec.Int64, Nullable: true},
}, nil)

func equalRows(t testing.TB, what string, got []string, want ...string) {
	t.Helper()
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// runSQLSinkSuite is the behaviour both SQL sinks share, against the real server.
func runSQLSinkSuite(t *testing.T, tg *sqlTarget) {
	tsText := func(s string) string { // how the server renders a stored timestamp
		if tg.connector == "postgres" {
			return s + "+00"
		}
		return s + ".000000"
	}
	w0, w1 := ts("2024-01-01 00:00:00"), ts("2024-01-01 00:10:00")
	cols := []string{"k", "window_start", "n"}

	t.Run("Append", func(t *testing.T) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		table := tg.newTable(t)
		s := tg.open(t, table, winSchema, Append, nil, nil, "create_table", "true")
		writeRows(t, s, mem, winSchema, 0, []any{"a", w0, 1}, []any{"b", w0, 2})
		writeRows(t, s, mem, winSchema, 1, []any{"a", w1, 3})
		want := []string{"a|" + tsText("2024-01-01 00:00:00") + "|1", "b|" + tsText("2024-01-01 00:00:00") + "|2", "a|" + tsText("2024-01-01 00:10:00") + "|3"}
		equalRows(t, "after epochs 0, 1", tg.dump(t, table, cols...), want...)
		// Replays: the same epoch again and an older one, with different rows, change nothing.
		writeRows(t, s, mem, winSchema, 1, []any{"x", w1, 9})
		writeRows(t, s, mem, winSchema, 0, []any{"y", w1, 9})
		equalRows(t, "after replays", tg.dump(t, table, cols...), want...)
		if got := tg.markerEpoch(t, table); got != "1" {
			t.Fatalf("marker epoch = %s, want 1", got)
		}
	})

	t.Run("Update", func(t *testing.T) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		table := tg.newTable(t)
		// on_error = 'fail': the NULL key below fails the epoch (by default it is dead-lettered).
		s := tg.open(t, table, winSchema, Update, []int{0, 1}, nil, "create_table", "true", "on_error", "fail")
		writeRows(t, s, mem, winSchema, 0, []any{"a", w0, 1}, []any{"b", w0, 2})
		// The last row of a key within one epoch wins.
		writeRows(t, s, mem, winSchema, 1, []any{"a", w0, 5}, []any{"c", w1, 3}, []any{"c", w1, 4})
		want := []string{"a|" + tsText("2024-01-01 00:00:00") + "|5", "b|" + tsText("2024-01-01 00:00:00") + "|2", "c|" + tsText("2024-01-01 00:10:00") + "|4"}
		equalRows(t, "after epochs 0, 1", tg.dump(t, table, cols...), want...)
		writeRows(t, s, mem, winSchema, 1, []any{"a", w0, 100})
		writeRows(t, s, mem, winSchema, 0, []any{"b", w0, 100})
		equalRows(t, "after replays", tg.dump(t, table, cols...), want...)
		// A NULL key is rejected before anything is sent.
		rec := makeRecord(t, mem, winSchema, []any{nil, w0, 1})
		err := s.Write(context.Background(), 2, inserts(rec))
		rec.Release()
		if err == nil || !strings.Contains(err.Error(), `key column "k" is NULL`) {
			t.Fatalf("NULL key: err = %v", err)
		}
		if got := tg.markerEpoch(t, table); got != "1" {
			t.Fatalf("marker epoch = %s, want 1", got)
		}
	})

	t.Run("KeysCompareByteByByte", func(t *testing.T) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		table := tg.newTable(t)
		s := tg.open(t, table, winSchema, Update, []int{0, 1}, nil, "create_table", "true")
		writeRows(t, s, mem, winSchema, 0, []any{"a", w0, 1}, []any{"A", w0, 2}, []any{"a ", w0, 3}, []any{"é", w0, 4}, []any{"e", w0, 5})
		writeRows(t, s, mem, winSchema, 1, []any{"A", w0, 20})
		at := tsText("2024-01-01 00:00:00")
		equalRows(t, "distinct keys", tg.dump(t, table, cols...), "a|"+at+"|1", "A|"+at+"|20", "a |"+at+"|3", "é|"+at+"|4", "e|"+at+"|5")
	})

	t.Run("Complete", func(t *testing.T) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		table := tg.newTable(t)
		s := tg.open(t, table, winSchema, Complete, []int{0, 1}, nil, "create_table", "true")
		writeRows(t, s, mem, winSchema, 0, []any{"a", w0, 1}, []any{"b", w0, 2})
		writeRows(t, s, mem, winSchema, 1, []any{"a", w0, 7}, []any{"c", w1, 3})
		want := []string{"a|" + tsText("2024-01-01 00:00:00") + "|7", "c|" + tsText("2024-01-01 00:10:00") + "|3"}
		equalRows(t, "after epochs 0, 1", tg.dump(t, table, cols...), want...)
		writeRows(t, s, mem, winSchema, 1, []any{"z", w0, 1})
		writeRows(t, s, mem, winSchema, 0)
		equalRows(t, "after replays", tg.dump(t, table, cols...), want...)
		writeRows(t, s, mem, winSchema, 2)
		equalRows(t, "after an empty epoch 2", tg.dump(t, table, cols...))
	})

	t.Run("ConcurrentWritersCommitOnce", func(t *testing.T) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		table := tg.newTable(t)
		a := tg.open(t, table, winSchema, Append, nil, nil, "create_table", "true")
		b := tg.open(t, table, winSchema, Append, nil, nil)
		for epoch := int64(0); epoch < 5; epoch++ {
			rec := makeRecord(t, mem, winSchema, []any{"r", w0, int(epoch)})
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, s := range []Sink{a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = s.Write(context.Background(), epoch, inserts(rec))
				}()
			}
			wg.Wait()
			rec.Release()
			for _, err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
		}
		var want []string
		for e := 0; e < 5; e++ {
			want = append(want, fmt.Sprintf("r|%s|%d", tsText("2024-01-01 00:00:00"), e))
		}
		equalRows(t, "two writers", tg.dump(t, table, cols...), want...)
	})

	t.Run("UpdateDeletesOracle", func(t *testing.T) { runSQLUpdateOracle(t, tg) })
	t.Run("FailedEpochRollsBackDeletes", func(t *testing.T) { runSQLFailedEpochRollsBack(t, tg) })

	t.Run("UpdateWithoutKeyIsAMultiset", func(t *testing.T) {
		// Without key columns (a stateless query) update mode inserts rows as copies; deletes
		// remove one copy each (TestSQLSinkUpdateOracle).
		table := tg.newTable(t)
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		s := tg.open(t, table, winSchema, Update, nil, nil, "create_table", "true")
		writeRows(t, s, mem, winSchema, 0, []any{"a", w0, 1}, []any{"a", w0, 1})
		equalRows(t, "keyless update", tg.dump(t, table, cols...), "a|"+tsText("2024-01-01 00:00:00")+"|1", "a|"+tsText("2024-01-01 00:00:00")+"|1")
		table = tg.newTable(t)
		// An explicit primary_key makes the rows upserts by it.
		s2 := tg.open(t, table, winSchema, Update, nil, nil, "create_table", "true", "primary_key", "k, window_start")
		writeRows(t, s2, mem, winSchema, 0, []any{"a", w0, 1}, []any{"a", w0, 2})
		equalRows(t, "upsert by primary_key", tg.dump(t, table, cols...), "a|"+tsText("2024-01-01 00:00:00")+"|2")
	})

	t.Run("TableChecksAtOpen", func(t *testing.T) {
		table := tg.newTable(t)
		open := func(mode OutputMode, keys []int) error {
			s, err := tg.newSink(Config{Query: table, Options: map[string]string{"url": tg.url, "table": table}})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			return s.Open(winSchema, mode, keys)
		}
		if err := open(Append, nil); err == nil || !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), "create_table") {
			t.Fatalf("missing table: err = %v", err)
		}
		tg.exec(t, "CREATE TABLE "+tg.quote(table)+" (k VARCHAR(20), n BIGINT)")
		if err := open(Append, nil); err == nil || !strings.Contains(err.Error(), "window_start") {
			t.Fatalf("missing column: err = %v", err)
		}
		tg.exec(t, "ALTER TABLE "+tg.quote(table)+" ADD COLUMN window_start "+map[string]string{"postgres": "TIMESTAMPTZ", "mysql": "DATETIME(6)"}[tg.connector])
		if err := open(Append, nil); err != nil {
			t.Fatal(err)
		}
		if err := open(Update, []int{0}); err == nil || !strings.Contains(err.Error(), "no primary key or unique index on exactly (k)") {
			t.Fatalf("update without a unique key: err = %v", err)
		}
	})

	t.Run("PermanentErrorFailsAtOnce", func(t *testing.T) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		table := tg.newTable(t)
		tg.exec(t, "CREATE TABLE "+tg.quote(table)+" (k VARCHAR(20), window_start "+
			map[string]string{"postgres": "TIMESTAMPTZ", "mysql": "DATETIME(6)"}[tg.connector]+", n BIGINT NOT NULL)")
		var logBuf bytes.Buffer
		log := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		// on_error = 'fail': a refused row fails the epoch (the default dead-letters it, reject_test.go).
		s := tg.open(t, table, winSchema, Append, nil, log, "on_error", "fail")
		rec := makeRecord(t, mem, winSchema, []any{"a", w0, 1}, []any{"b", w0, nil})
		defer rec.Release()
		start := time.Now()
		err := s.Write(context.Background(), 0, inserts(rec))
		if err == nil || !strings.Contains(err.Error(), table) || !strings.Contains(err.Error(), "epoch 0") {
			t.Fatalf("NOT NULL violation: err = %v", err)
		}
		if el := time.Since(start); el > 2*time.Second || strings.Contains(logBuf.String(), "retrying") {
			t.Fatalf("a constraint violation was retried (%v): %s", el, logBuf.String())
		}
		if got := tg.dump(t, table, cols...); len(got) != 0 {
			t.Fatalf("rows of the failed epoch were committed: %q", got)
		}
		if got := tg.markerEpoch(t, table); got != "-1" && got != "none" {
			t.Fatalf("marker epoch = %s after a failed epoch", got)
		}
	})
}

// allTypesSchema has a column of every engine type, for the round-trip tests.
var allTypesSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: exec.Int64},
	{Name: "b", Type: exec.Bool, Nullable: true},
	{Name: "i", Type: exec.Int64, Nullable: true},
	{Name: "f", Type: exec.Float64, Nullable: true},
	{Name: "d", Type: exec.Decimal(38, 9), Nullable: true},
	{Name: "s", Type: exec.String, Nullable: true},
	{Name: "t", Type: exec.Timestamp, Nullable: true},
	{Name: "dt", Type: exec.Date, Nullable: true},
	{Name: "iv", Type: exec.Interval, Nullable: true},
}, nil)

func decimalOf(t testing.TB, s string, prec, scale int32) decimal128.Num {
	n, err := decimal128.FromString(s, prec, scale)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// roundTrip writes rows of every type (NULLs, extreme decimals, microsecond timestamps, unicode)
// with create_table and checks the server's text rendering of each against want (keyed by id).
func roundTrip(t *testing.T, tg *sqlTarget, want map[int][]string) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	table := uniqueName("sink")
	for _, mode := range []OutputMode{Append, Update} {
		t.Run(mode.String(), func(t *testing.T) {
			tbl := table + "_" + mode.String()[:1]
			t.Cleanup(func() {
				tg.exec(t, "DROP TABLE IF EXISTS "+tg.quote(tbl))
				tg.exec(t, "DELETE FROM "+CommitsTable+" WHERE query_id = "+tg.ph(1), tbl)
			})
			s := tg.open(t, tbl, allTypesSchema, mode, []int{0}, nil, "create_table", "true")
			writeRows(t, s, mem, allTypesSchema, 0,
				[]any{1, true, int64(-9223372036854775808), 1.5, decimalOf(t, "12345678901234567890.123456789", 38, 9),
					"héllo, 世界 🎉 'quote' \\ back", ts("2024-02-29 23:59:59.123456"), int32(19782), int64(90061000001)},
				[]any{2, nil, nil, nil, nil, nil, nil, nil, nil},
				[]any{3, false, int64(9223372036854775807), -2.25e-300, decimalOf(t, "-0.000000001", 38, 9),
					"", ts("1969-12-31 23:59:59.999999"), int32(-1), int64(-1)},
			)
			cols := fieldNames(allTypesSchema)
			got := tg.dump(t, tbl, cols...)
			var wantRows []string
			for id, w := range want {
				wantRows = append(wantRows, fmt.Sprintf("%d|%s", id, strings.Join(w, "|")))
			}
			equalRows(t, "round trip", got, wantRows...)
		})
	}
}

// primaryKeyOf lists the primary key columns of table in the connection's schema/database.
func (tg *sqlTarget) primaryKeyOf(t testing.TB, table string) string {
	cur := map[string]string{"postgres": "current_schema()", "mysql": "DATABASE()"}[tg.connector]
	rows := tg.rows(t, `SELECT kcu.column_name FROM information_schema.table_constraints tc
		JOIN information_schema.key_column_usage kcu ON tc.constraint_name = kcu.constraint_name
			AND tc.table_schema = kcu.table_schema AND tc.table_name = kcu.table_name
		WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = `+cur+` AND tc.table_name = `+tg.ph(1)+`
		ORDER BY kcu.ordinal_position`, table)
	var out []string
	for _, r := range rows {
		out = append(out, r[0])
	}
	return strings.Join(out, ",")
}

func TestParseSQLOptions(t *testing.T) {
	for _, c := range []struct {
		opts map[string]string
		err  string
	}{
		{map[string]string{"url": "x", "table": "t", "colour": "red"}, "unknown option(s) colour (valid: batch_size, connector, create_table, on_error, output_mode, primary_key, table, trigger, url)"},
		{map[string]string{"url": "x"}, "option table is required"},
		{map[string]string{"table": "t"}, "option url is required"},
		{map[string]string{"url": "x", "table": "a.b.c"}, `invalid name "a.b.c"`},
		{map[string]string{"url": "x", "table": "t", "create_table": "yes"}, `create_table: invalid value "yes"`},
		{map[string]string{"url": "x", "table": "t", "batch_size": "0"}, `batch_size: invalid value "0"`},
		{map[string]string{"url": "x", "table": "t", "primary_key": "a,,b"}, "empty column name"},
		{map[string]string{"url": "x", "table": "t", "primary_key": "a,a"}, `column "a" listed twice`},
	} {
		_, err := parseSQLOptions("postgres", c.opts)
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%v: err = %v, want %q", c.opts, err, c.err)
		}
	}
	o, err := parseSQLOptions("mysql", map[string]string{"connector": "mysql", "url": "u", "table": "db.t", "primary_key": " a , b", "create_table": "TRUE", "batch_size": "500", "output_mode": "update"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(o.table, "/") != "db/t" || strings.Join(o.primaryKey, "/") != "a/b" || !o.createTable || o.batchSize != 500 {
		t.Fatalf("parsed %+v", o)
	}
	// The constructors report option errors before connecting.
	for _, newSink := range []func(Config) (Sink, error){NewPostgres, NewMySQL} {
		if _, err := newSink(Config{Query: "q", Options: map[string]string{"url": "x", "tabel": "t"}}); err == nil || !strings.Contains(err.Error(), "unknown option(s) tabel") {
			t.Errorf("err = %v", err)
		}
		if _, err := newSink(Config{Query: "q", Options: map[string]string{"url": "postgres://u:pw@h/db"}}); err == nil || !strings.Contains(err.Error(), "option table is required") {
			t.Errorf("err = %v", err)
		}
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:s3cret@h:5432/db?sslmode=disable":           "postgres://u:***@h:5432/db?sslmode=disable",
		"postgres://u@h/db":                                       "postgres://u@h/db",
		"postgres://u:p@ss@h/db?application_name=a@b":             "postgres://u:***@h/db?application_name=a@b",
		"postgres://h/db?user=u&password=s3cret&sslmode=disable":  "postgres://h/db?user=u&password=***&sslmode=disable",
		"host=h user=u password=s3cret dbname=db":                 "host=h user=u password=*** dbname=db",
		"host=h password='s3 cret' dbname=db":                     "host=h password=*** dbname=db",
		"root:s3cret@tcp(127.0.0.1:3306)/test":                    "root:***@tcp(127.0.0.1:3306)/test",
		"root:p@ss:w/ord@tcp(127.0.0.1:3306)/test?parseTime=true": "root:***@tcp(127.0.0.1:3306)/test?parseTime=true",
		"root:@tcp(127.0.0.1:3306)/test":                          "root:@tcp(127.0.0.1:3306)/test",
		"root@tcp(127.0.0.1:3306)/test":                           "root@tcp(127.0.0.1:3306)/test",
		"mysql://u:s3cret@db.example:3306/test":                   "mysql://u:***@db.example:3306/test",
		"dial postgres://u:s3cret@h/db: connection refused":       "dial postgres://u:***@h/db: connection refused",
		"no url here: mail me at a@b.c":                           "no url here: mail me at a@b.c",
		"/tmp/sock":                                               "/tmp/sock",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
