package streamsql

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestStateTTLExpiresIdleKeys: with state_ttl, a group not updated for the TTL (processing time
// from the injected clock) leaves the state at the next epoch without a retraction (the view keeps
// its last row, as Spark's TTL keeps what was emitted); the key seen again starts from zero; the
// expired count is in DESCRIBE QUERY; the TTL survives a restart (the last-update times are in
// the checkpoint).
func TestStateTTLExpiresIdleKeys(t *testing.T) {
	dataDir := t.TempDir()
	clock := &testClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	open := func() *Engine {
		eng, err := Open(Options{DataDir: dataDir, Clock: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		mustExec(t, eng, `CREATE SOURCE ev (k VARCHAR, v BIGINT) WITH (connector = 'push')`)
		mustExec(t, eng, `CREATE MATERIALIZED VIEW mv WITH (trigger = 'manual', state_ttl = '1 hour') AS SELECT k, count(*) AS n, sum(v) AS s FROM ev GROUP BY k`)
		return eng
	}
	step := func(eng *Engine, at time.Duration, rows ...[]any) {
		t.Helper()
		clock.Set(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(at))
		if err := eng.Push("ev", rows); err != nil {
			t.Fatal(err)
		}
		ckptProcess(t, eng, "mv")
	}
	stateRows := func(eng *Engine) (rows, expired int64) {
		p, err := eng.QueryProgress("mv")
		if err != nil || p == nil {
			t.Fatalf("progress: %v", err)
		}
		return p.StateOperators[0].Rows, p.StateOperators[0].ExpiredKeys
	}
	eng := open()
	step(eng, 0, []any{"a", 1}, []any{"b", 10})
	step(eng, 50*time.Minute, []any{"b", 10})
	step(eng, 70*time.Minute, []any{"c", 100}) // a (last update at 0) expires; b (50m) stays
	if r, x := stateRows(eng); r != 2 || x != 1 {
		t.Fatalf("after 70m: %d groups, %d expired; want 2, 1", r, x)
	}
	if got := query(t, eng, "SELECT * FROM mv ORDER BY k"); !reflect.DeepEqual(got, []string{"a|1|1", "b|2|20", "c|1|100"}) {
		t.Fatalf("the view keeps the expired key's last row: %v", got)
	}
	eng.Close()
	eng = open()
	defer eng.Close()
	step(eng, 80*time.Minute, []any{"a", 5}) // a starts again from zero
	if got := query(t, eng, "SELECT * FROM mv ORDER BY k"); !reflect.DeepEqual(got, []string{"a|1|5", "b|2|20", "c|1|100"}) {
		t.Fatalf("after the restart: %v", got)
	}
	step(eng, 115*time.Minute, []any{"c", 1}) // b (50m) expires after the restart too
	if r, x := stateRows(eng); r != 2 || x != 2 {
		t.Fatalf("after 115m: %d groups, %d expired; want 2, 2", r, x)
	}
	res, err := eng.Query(context.Background(), "DESCRIBE QUERY mv")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rowsOf(t, res), "\n"); !strings.Contains(got, `"numKeysExpiredByTTL": 2`) {
		t.Fatalf("DESCRIBE QUERY has no expired count:\n%s", got)
	}
}

// TestStateTTLRefusals: a bad interval, a windowed aggregate (closed by the watermark) and a
// query without an aggregation are refused with messages saying why.
func TestStateTTLRefusals(t *testing.T) {
	eng := ckptOpen(t, t.TempDir(), nil)
	defer eng.Close()
	mustExec(t, eng, `CREATE SOURCE ev (k VARCHAR, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '1 minute') WITH (connector = 'push')`)
	for _, c := range []struct{ sql, want string }{
		{`CREATE MATERIALIZED VIEW v1 WITH (state_ttl = 'soon') AS SELECT k, count(*) FROM ev GROUP BY k`, "state_ttl must be a positive interval"},
		{`CREATE MATERIALIZED VIEW v2 WITH (state_ttl = '-1 hour') AS SELECT k, count(*) FROM ev GROUP BY k`, "state_ttl must be a positive interval"},
		{`CREATE MATERIALIZED VIEW v3 WITH (state_ttl = '1 hour') AS SELECT window_start, count(*) FROM ev GROUP BY window(ts, '1 minute')`, "state_ttl applies to queries without a watermark"},
		{`CREATE MATERIALIZED VIEW v4 WITH (state_ttl = '1 hour') AS SELECT k FROM ev`, "state_ttl needs a GROUP BY aggregation"},
	} {
		_, err := eng.Exec(context.Background(), c.sql)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.sql, err, c.want)
		}
	}
}
