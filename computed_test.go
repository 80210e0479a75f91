package streamsql

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestComputedColumnDrivesWatermark: a computed TIMESTAMP column parsed from raw text feeds the
// watermark, DESCRIBE shows it, and the windowed counts in append mode equal the batch query
// over the same rows (computed in a subquery there).
func TestComputedColumnDrivesWatermark(t *testing.T) {
	eng := newTestEngine(t)
	mustExec(t, eng, `CREATE SOURCE o (raw VARCHAR, sym VARCHAR, ts AS to_timestamp(raw, 'M/d/yyyy H:mm'), n AS length(sym),
		WATERMARK FOR ts AS ts - INTERVAL '5 minutes') WITH (connector = 'push')`)
	if got, want := query(t, eng, "DESCRIBE o"), []string{"n|BIGINT", "raw|VARCHAR", "sym|VARCHAR", "ts|TIMESTAMP"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("DESCRIBE: got %v, want %v", got, want)
	}
	mustExec(t, eng, `CREATE MATERIALIZED VIEW hourly AS SELECT window_start, sym, COUNT(*) AS c, SUM(n) AS l FROM o GROUP BY window(ts, '1 hour'), sym`)
	mustExec(t, eng, `CREATE TABLE t (raw VARCHAR, sym VARCHAR)`)
	batches := [][][]any{
		{{"3/22/2016 20:55", "EPE"}, {"3/22/2016 20:25", "NFLX"}, {"3/22/2016 20:25", "EPE"}},
		{{"3/22/2016 21:05", "BP"}, {"3/22/2016 21:59", "BP"}},
		{{"3/22/2016 23:00", "Z"}},
	}
	for _, b := range batches {
		if err := eng.Push("o", b); err != nil {
			t.Fatal(err)
		}
		if err := eng.ProcessAllAvailable(context.Background(), "hourly"); err != nil {
			t.Fatal(err)
		}
		for _, r := range b {
			mustExec(t, eng, "INSERT INTO t VALUES ('"+r[0].(string)+"', '"+r[1].(string)+"')")
		}
	}
	p, err := eng.QueryProgress("hourly")
	if err != nil || p == nil || !strings.HasPrefix(p.NextWatermark, "2016-03-22 22:55:00") {
		t.Fatalf("the watermark should be 23:00 - 5 minutes, progress %+v, %v", p, err)
	}
	got := query(t, eng, "SELECT * FROM hourly")
	want := query(t, eng, `SELECT window_start, sym, COUNT(*) AS c, SUM(length(sym)) AS l FROM (SELECT sym, to_timestamp(raw, 'M/d/yyyy H:mm') AS ts FROM t) x GROUP BY window(ts, '1 hour'), sym`)
	if !reflect.DeepEqual(got, want) || len(got) != 4 {
		t.Fatalf("view %v, batch %v", got, want)
	}
}

// TestComputedColumnBadValuesFollowOnError: a value the expression cannot convert is a bad record
// of the source: dead-lettered (with the column and reason) by default, counted by 'skip', and it
// stops the query with 'fail'; the good rows of the same file are kept.
func TestComputedColumnBadValuesFollowOnError(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	if err := os.Mkdir(in, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(in, "a.csv"), []byte("3/22/2016 20:55,1\nnot a time,2\n3/22/2016 21:10,3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, policy := range []string{"dead_letter", "skip", "fail"} {
		t.Run(policy, func(t *testing.T) {
			eng := newTestEngine(t)
			mustExec(t, eng, `CREATE SOURCE o (raw VARCHAR, id BIGINT, ts AS to_timestamp(raw, 'M/d/yyyy H:mm')) WITH (connector = 'files', format = 'csv', path = '`+in+`', on_error = '`+policy+`')`)
			_, err := eng.Exec(context.Background(), `CREATE MATERIALIZED VIEW v WITH (trigger = 'available_now') AS SELECT id, ts FROM o`)
			if policy == "fail" {
				if err == nil || !strings.Contains(err.Error(), `"ts"`) || !strings.Contains(err.Error(), "not a time") {
					t.Fatalf("want the query to fail naming column ts and the value, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, want := query(t, eng, "SELECT * FROM v"), []string{"1|2016-03-22 20:55:00", "3|2016-03-22 21:10:00"}; !reflect.DeepEqual(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
			bad := query(t, eng, "SELECT source, column_name, raw FROM v_errors")
			if policy == "skip" {
				if len(bad) != 0 {
					t.Fatalf("skip keeps no dead letters, got %v", bad)
				}
				return
			}
			if want := []string{"o|ts|raw=not a time, id=2"}; !reflect.DeepEqual(bad, want) {
				t.Fatalf("dead letters %v, want %v", bad, want)
			}
		})
	}
}

// TestComputedColumnErrors: mistakes in computed columns are refused at CREATE SOURCE.
func TestComputedColumnErrors(t *testing.T) {
	eng := newTestEngine(t)
	for stmt, want := range map[string]string{
		`CREATE SOURCE s (a VARCHAR, b AS nope(a)) WITH (connector = 'push')`:                                           "nope",
		`CREATE SOURCE s (a VARCHAR, b AS c + 1) WITH (connector = 'push')`:                                             `"c"`,
		`CREATE SOURCE s (a VARCHAR, b AS length(a), c AS b + 1) WITH (connector = 'push')`:                             `"b"`,
		`CREATE SOURCE s (a VARCHAR, b AS count(a)) WITH (connector = 'push')`:                                          "aggregate",
		`CREATE SOURCE s (a VARCHAR, b AS (SELECT 1)) WITH (connector = 'push')`:                                        "subquery",
		`CREATE SOURCE s (a VARCHAR, b AS length(a), WATERMARK FOR b AS b) WITH (connector = 'push')`:                   "TIMESTAMP",
		`CREATE SOURCE s (a VARCHAR, b AS) WITH (connector = 'push')`:                                                   "expression",
		`CREATE SOURCE s (a VARCHAR, b AS to_timestamp(a, 'yyyy-MM-dd Q')) WITH (connector = 'push')`:                   `unsupported pattern letter "Q"`,
		`CREATE SOURCE s (a VARCHAR, b AS to_timestamp(a, 'yyyy yyyy')) WITH (connector = 'push')`:                      "a field appears twice",
		`CREATE TABLE s (a VARCHAR, b AS length(a))`:                                                                    "only allowed in CREATE SOURCE",
		`CREATE SOURCE s (a VARCHAR, a AS length(a)) WITH (connector = 'push')`:                                         "more than once",
		`CREATE SOURCE s (a VARCHAR, b AS to_timestamp(a, 'M/d/yyyy'), WATERMARK FOR c AS c) WITH (connector = 'push')`: "not declared",
	} {
		_, err := eng.Exec(context.Background(), stmt)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: want an error containing %q, got %v", stmt, want, err)
		}
	}
}

func newTestEngine(t *testing.T) *Engine {
	t.Helper()
	eng, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

// TestComputedColumnsOnGeneratedSources: computed columns work on the datagen and nexmark
// connectors too (the connector generates the physical columns only); each view equals the
// batch expression over the physical columns it reads.
func TestComputedColumnsOnGeneratedSources(t *testing.T) {
	eng := newTestEngine(t)
	mustExec(t, eng, `CREATE SOURCE g (id BIGINT, twice AS id * 2, label AS 'row ' || CAST(id AS VARCHAR)) WITH (connector = 'datagen', number_of_rows = '5', "fields.id.kind" = 'sequence', rows_per_second = 'unbounded')`)
	mustExec(t, eng, `CREATE MATERIALIZED VIEW gv WITH (trigger = 'available_now') AS SELECT id, twice, label FROM g`)
	if got := query(t, eng, "SELECT count(*) FROM gv WHERE twice = id * 2 AND label = 'row ' || CAST(id AS VARCHAR)"); !reflect.DeepEqual(got, []string{"5"}) {
		t.Fatalf("datagen: %v of 5 rows have their computed values (%v)", got, query(t, eng, "SELECT * FROM gv"))
	}
	mustExec(t, eng, `CREATE SOURCE bid (auction BIGINT, price BIGINT, date_time TIMESTAMP, dollars AS price / 100, minute AS date_trunc('minute', date_time),
		WATERMARK FOR minute AS minute - INTERVAL '1 minute') WITH (connector = 'nexmark', event_type = 'bid', number_of_events = '2000')`)
	mustExec(t, eng, `CREATE MATERIALIZED VIEW bv WITH (trigger = 'available_now') AS SELECT price, dollars, date_time, minute FROM bid`)
	rows := query(t, eng, "SELECT count(*), count(*) FILTER (WHERE dollars = price / 100 AND minute = date_trunc('minute', date_time)) FROM bv")
	if len(rows) != 1 || rows[0] == "0|0" || strings.Split(rows[0], "|")[0] != strings.Split(rows[0], "|")[1] {
		t.Fatalf("nexmark: %v", rows)
	}
}
