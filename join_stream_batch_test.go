package streamsql

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestStreamJoinEqualsBatchAtBatchSizes: joins of two streams (inner, outer, with a residual, on
// a BIGINT key, whose groups are found by the key's hash alone, and on a VARCHAR key, followed by
// an aggregation, and over two aggregations, so retractions reach the join) give, after every
// epoch, the batch query over the rows received so far, whatever the size of the records the join
// receives (each Push is one record: 1, 7 or 1,024 rows). The inputs repeat rows (an insert-only
// side stores them separately until its first retraction) and hold NULL keys.
func TestStreamJoinEqualsBatchAtBatchSizes(t *testing.T) {
	queries := map[string]string{
		"inner":        "SELECT a.k, a.v, b.w FROM {A} AS a JOIN {B} AS b ON a.k = b.k",
		"left_resid":   "SELECT a.k, a.v, b.w FROM {A} AS a LEFT JOIN {B} AS b ON a.k = b.k AND a.v < b.w",
		"right":        "SELECT a.v, b.k, b.w FROM {A} AS a RIGHT JOIN {B} AS b ON a.k = b.k",
		"varchar_key":  "SELECT a.s, a.v, b.g FROM {A} AS a JOIN {B} AS b ON a.s = b.s",
		"join_agg":     "SELECT b.g, COUNT(*) AS n, SUM(a.v) AS s FROM {A} AS a JOIN {B} AS b ON a.k = b.k GROUP BY b.g",
		"agg_join_agg": "SELECT x.k, x.n, y.m FROM (SELECT k, COUNT(*) AS n FROM {A} GROUP BY k) AS x LEFT JOIN (SELECT k, MAX(w) AS m FROM {B} GROUP BY k) AS y ON x.k = y.k",
	}
	for _, batch := range []int{1, 7, 1024} {
		for name, q := range queries {
			t.Run(fmt.Sprintf("%s/batch%d", name, batch), func(t *testing.T) {
				eng, err := Open(Options{})
				if err != nil {
					t.Fatal(err)
				}
				defer eng.Close()
				mustExec(t, eng, "CREATE SOURCE sa (k BIGINT, v BIGINT, s VARCHAR) WITH (connector = 'push')")
				mustExec(t, eng, "CREATE SOURCE sb (k BIGINT, w BIGINT, g BIGINT, s VARCHAR) WITH (connector = 'push')")
				mustExec(t, eng, "CREATE TABLE ta (k BIGINT, v BIGINT, s VARCHAR)")
				mustExec(t, eng, "CREATE TABLE tb (k BIGINT, w BIGINT, g BIGINT, s VARCHAR)")
				expand := func(a, b string) string { return strings.NewReplacer("{A}", a, "{B}", b).Replace(q) }
				mustExec(t, eng, "CREATE MATERIALIZED VIEW mv WITH (trigger = 'manual') AS "+expand("sa", "sb"))
				rng := rand.New(rand.NewPCG(uint64(batch), uint64(len(name))))
				key := func() any {
					if rng.IntN(12) == 0 {
						return nil
					}
					return int64(rng.IntN(60))
				}
				for epoch := 0; epoch < 6; epoch++ {
					for _, src := range []string{"a", "b"} {
						var rows [][]any
						for range rng.IntN(200) {
							k := key()
							s := "s" + fmt.Sprint(k)
							if k == nil {
								s = "none"
							}
							if src == "a" {
								rows = append(rows, []any{k, int64(rng.IntN(5)), s})
							} else {
								rows = append(rows, []any{k, int64(rng.IntN(5)), int64(rng.IntN(3)), s})
							}
						}
						for lo := 0; lo < len(rows); lo += batch {
							if err := eng.Push("s"+src, rows[lo:min(len(rows), lo+batch)]); err != nil {
								t.Fatal(err)
							}
						}
						if len(rows) > 0 {
							mustExec(t, eng, "INSERT INTO t"+src+" VALUES "+sqlRows(rows))
						}
					}
					if err := eng.ProcessAllAvailable(context.Background(), "mv"); err != nil {
						t.Fatal(err)
					}
					got := query(t, eng, "SELECT * FROM mv")
					want := query(t, eng, expand("ta", "tb"))
					if strings.Join(got, "\n") != strings.Join(want, "\n") {
						t.Fatalf("after epoch %d the view (%d rows) differs from the batch query (%d rows)", epoch, len(got), len(want))
					}
				}
			})
		}
	}
}

// sqlRows renders rows of BIGINT (nil: NULL) and VARCHAR values as a VALUES list.
func sqlRows(rows [][]any) string {
	out := make([]string, len(rows))
	for i, r := range rows {
		cells := make([]string, len(r))
		for c, v := range r {
			switch x := v.(type) {
			case nil:
				cells[c] = "NULL"
			case string:
				cells[c] = "'" + x + "'"
			default:
				cells[c] = fmt.Sprint(x)
			}
		}
		out[i] = "(" + strings.Join(cells, ", ") + ")"
	}
	return strings.Join(out, ", ")
}
