package streamsql

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/streamsql/streamsql/internal/testdb"
)

// TestRebuildFromChangeFeedAfterDeletes: a continuous query whose rows disappear (a group of
// `k NOT IN (SELECT k FROM b)` is deleted when its k arrives on b) runs as a view and as an
// update-mode PostgreSQL sink. After every epoch, the view rebuilt from its SUBSCRIBE change feed
// (the +1/-1 rows summed) equals SELECT * FROM the view, and the sink's table equals it too; the
// run must have deleted rows, or it proves nothing about deletes.
func TestRebuildFromChangeFeedAfterDeletes(t *testing.T) {
	pgURL := testdb.Postgres(t)
	eng, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	table := fmt.Sprintf("rebuild_deletes_%d", time.Now().UnixNano())
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	defer conn.Exec(ctx, "DROP TABLE IF EXISTS "+table)

	const q = "SELECT k, SUM(v) AS s, COUNT(*) AS n FROM a WHERE k NOT IN (SELECT k FROM b) GROUP BY k"
	mustExec(t, eng, "CREATE SOURCE a (k VARCHAR, v BIGINT) WITH (connector = 'push')")
	mustExec(t, eng, "CREATE SOURCE b (k VARCHAR) WITH (connector = 'push')")
	mustExec(t, eng, "CREATE MATERIALIZED VIEW mv WITH (trigger = 'manual') AS "+q)
	mustExec(t, eng, fmt.Sprintf("CREATE SINK pg WITH (connector = 'postgres', url = '%s', table = '%s', create_table = 'true', output_mode = 'update', trigger = 'manual') AS %s", pgURL, table, q))

	// The first epoch, then the subscription: its first change is the view's snapshot.
	if err := eng.Push("a", [][]any{{"k0", int64(1)}}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"mv", "pg"} {
		if err := eng.ProcessAllAvailable(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan epochChange, 256)
	done := make(chan error, 1)
	go func() { done <- eng.Subscribe(subCtx, "mv", collect(ch)) }()
	state := map[string]int{}
	select {
	case c := <-ch:
		apply(t, state, c)
	case <-time.After(10 * time.Second):
		t.Fatal("no snapshot from SUBSCRIBE")
	}

	pgRows := func() []string {
		rows, err := conn.Query(ctx, "SELECT k, s, n FROM "+table)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var k string
			var s, n int64
			if err := rows.Scan(&k, &s, &n); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s|%d|%d", k, s, n))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		sort.Strings(out)
		return out
	}
	rng := rand.New(rand.NewPCG(8, 1))
	deletes := 0
	for round := 0; round < 10; round++ {
		var ra, rb [][]any
		for range 2 + rng.IntN(5) {
			ra = append(ra, []any{fmt.Sprint("k", rng.IntN(8)), int64(rng.IntN(9))})
		}
		if round > 0 && rng.IntN(2) == 0 {
			rb = append(rb, []any{fmt.Sprint("k", rng.IntN(8))})
		}
		if err := eng.Push("a", ra); err != nil {
			t.Fatal(err)
		}
		if len(rb) > 0 {
			if err := eng.Push("b", rb); err != nil {
				t.Fatal(err)
			}
		}
		for _, name := range []string{"mv", "pg"} {
			if err := eng.ProcessAllAvailable(ctx, name); err != nil {
				t.Fatal(err)
			}
		}
		view := query(t, eng, "SELECT * FROM mv")
		// Drain the feed up to the view's epoch (an epoch that changed nothing sends nothing).
		p, _ := eng.QueryProgress("mv")
		for len(ch) > 0 || !slices.Equal(expand(state), view) {
			select {
			case c := <-ch:
				for _, r := range c.rows {
					if r[len(r)-2:] == "-1" {
						deletes++
					}
				}
				apply(t, state, c)
				if c.epoch > p.Epoch {
					t.Fatalf("a change of epoch %d after the view's epoch %d", c.epoch, p.Epoch)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("round %d: rebuilt from the feed %v, the view holds %v", round, expand(state), view)
			}
		}
		if got := pgRows(); !slices.Equal(got, view) {
			t.Fatalf("round %d: the PostgreSQL table holds %v, the view %v", round, got, view)
		}
	}
	if deletes == 0 {
		t.Fatalf("the run retracted nothing; pick another seed")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Subscribe after cancel: %v", err)
	}
}
