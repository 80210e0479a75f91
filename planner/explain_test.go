package planner_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/streamsql/streamsql"
	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/internal/testdb"
)

// The planner's rules as the engine applies them to bound SQL: the EXPLAIN shape, and the rows of
// the same query, computed by hand on tables small enough to check (PostgreSQL returns the same).

const joinFixture = `
CREATE TABLE a (x BIGINT, z BIGINT);
INSERT INTO a VALUES (1, 0), (2, 5), (3, 7), (NULL, 9);
CREATE TABLE b (y BIGINT, w VARCHAR);
INSERT INTO b VALUES (2, 'p'), (3, 'q'), (3, 'r'), (4, 'q'), (NULL, 'q');
CREATE TABLE c (k BIGINT);
INSERT INTO c VALUES (2), (3), (5);
`

func openEngine(t *testing.T) *streamsql.Engine {
	t.Helper()
	eng, err := streamsql.Open(streamsql.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	res, err := eng.Exec(context.Background(), joinFixture)
	for _, r := range res {
		r.Release()
	}
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func result(t *testing.T, eng *streamsql.Engine, q string) []string {
	t.Helper()
	res, err := eng.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer res.Release()
	out := []string{}
	for _, rec := range res.Records {
		for i := 0; i < int(rec.NumRows()); i++ {
			cells := make([]string, rec.NumCols())
			for c := range cells {
				cells[c] = exec.FormatValue(rec.Column(c), i)
			}
			out = append(out, strings.Join(cells, "|"))
		}
	}
	return out
}

type pushdownCase struct {
	name, q string
	plan    string
	rows    []string
}

func TestPushdownShapesAndResults(t *testing.T) {
	eng := openEngine(t)
	for _, c := range pushdownCases {
		t.Run(c.name, func(t *testing.T) {
			plan := strings.Join(result(t, eng, "EXPLAIN "+c.q), "\n")
			if plan != c.plan {
				t.Errorf("EXPLAIN %s\n got:\n%s\nwant:\n%s", c.q, plan, c.plan)
			}
			got := result(t, eng, c.q)
			if strings.Join(got, "\n") != strings.Join(c.rows, "\n") {
				t.Errorf("%s:\n got %q\nwant %q", c.q, got, c.rows)
			}
		})
	}
}

// TestPushdownExpectationsMatchPostgres checks the hand-computed rows of the pushdown cases
// against PostgreSQL on the same data (skipped when no server is available).
func TestPushdownExpectationsMatchPostgres(t *testing.T) {
	url := testdb.Postgres(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Skipf("postgres: %v", err)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("planner_pushdown_%d", os.Getpid())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema+"; SET search_path = "+schema); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
	setup := strings.ReplaceAll(strings.ReplaceAll(joinFixture, "BIGINT", "bigint"), "VARCHAR", "text")
	if _, err := conn.Exec(ctx, setup); err != nil {
		t.Fatal(err)
	}
	for _, c := range pushdownCases {
		pgRows, err := conn.Query(ctx, c.q)
		if err != nil {
			t.Fatalf("postgres %s: %v", c.q, err)
		}
		got := []string{}
		for pgRows.Next() {
			vals, err := pgRows.Values()
			if err != nil {
				t.Fatal(err)
			}
			cells := make([]string, len(vals))
			for i, v := range vals {
				if v == nil {
					cells[i] = "NULL"
				} else {
					cells[i] = fmt.Sprint(v)
				}
			}
			got = append(got, strings.Join(cells, "|"))
		}
		if err := pgRows.Err(); err != nil {
			t.Fatal(err)
		}
		want := append([]string{}, c.rows...)
		if !strings.Contains(c.q, "ORDER BY") {
			sort.Strings(got)
			sort.Strings(want)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: PostgreSQL gives %q, the test expects %q", c.q, got, want)
		}
	}
}

var pushdownCases = []pushdownCase{
	{
		name: "comma join with WHERE becomes an equi-join with the filter under the left scan",
		q:    `SELECT a.x, a.z, b.w FROM a, b WHERE a.x = b.y AND a.z > 1 ORDER BY b.w`,
		plan: `Sort w
  Project a.x AS x, a.z AS z, b.w AS w
    InnerJoin on (a.x = b.y)
      Filter (a.z > 1)
        Scan a [x, z]
      Scan b [y, w]`,
		rows: []string{"2|5|p", "3|7|q", "3|7|r"},
	},
	{
		name: "WHERE on the right side of a LEFT JOIN stays above the join",
		q:    `SELECT a.x, b.w FROM a LEFT JOIN b ON a.x = b.y WHERE b.w = 'q' ORDER BY a.x`,
		plan: `Sort x
  Project a.x AS x, b.w AS w
    Filter (b.w = 'q')
      LeftJoin on (a.x = b.y)
        Scan a [x, z]
        Scan b [y, w]`,
		rows: []string{"3|q"},
	},
	{
		name: "WHERE b IS NULL above a LEFT JOIN finds the unmatched rows",
		q:    `SELECT a.x FROM a LEFT JOIN b ON a.x = b.y WHERE b.y IS NULL ORDER BY a.x`,
		plan: `Sort x
  Project a.x AS x
    Filter is_null(b.y)
      LeftJoin on (a.x = b.y)
        Scan a [x, z]
        Scan b [y, w]`,
		rows: []string{"1", "NULL"},
	},
	{
		name: "ON conjunct on the right side of a LEFT JOIN filters the right input",
		q:    `SELECT a.x, b.w FROM a LEFT JOIN b ON a.x = b.y AND b.w = 'q' ORDER BY a.x`,
		plan: `Sort x
  Project a.x AS x, b.w AS w
    LeftJoin on (a.x = b.y)
      Scan a [x, z]
      Filter (b.w = 'q')
        Scan b [y, w]`,
		rows: []string{"1|NULL", "2|NULL", "3|q", "NULL|NULL"},
	},
	{
		name: "ON conjunct on the left side of a LEFT JOIN stays in the condition",
		q:    `SELECT a.x, b.w FROM a LEFT JOIN b ON a.x = b.y AND a.z > 6 ORDER BY a.x, b.w`,
		plan: `Sort x, w
  Project a.x AS x, b.w AS w
    LeftJoin on ((a.x = b.y) AND (a.z > 6))
      Scan a [x, z]
      Scan b [y, w]`,
		rows: []string{"1|NULL", "2|NULL", "3|q", "3|r", "NULL|NULL"},
	},
	{
		name: "WHERE on the left side of a LEFT JOIN filters the left input",
		q:    `SELECT a.x, b.w FROM a LEFT JOIN b ON a.x = b.y WHERE a.z >= 5 ORDER BY a.x, b.w`,
		plan: `Sort x, w
  Project a.x AS x, b.w AS w
    LeftJoin on (a.x = b.y)
      Filter (a.z >= 5)
        Scan a [x, z]
      Scan b [y, w]`,
		rows: []string{"2|p", "3|q", "3|r", "NULL|NULL"},
	},
	{
		name: "three-way comma join: each equality on the lowest join that has both sides",
		q:    `SELECT a.x, b.w, c.k FROM a, b, c WHERE a.x = b.y AND b.y = c.k AND c.k > 2 ORDER BY b.w`,
		plan: `Sort w
  Project a.x AS x, b.w AS w, c.k AS k
    InnerJoin on (b.y = c.k)
      InnerJoin on (a.x = b.y)
        Scan a [x, z]
        Scan b [y, w]
      Filter (c.k > 2)
        Scan c [k]`,
		rows: []string{"3|q|3", "3|r|3"},
	},
	{
		name: "OR across both sides is a join condition, not pushed",
		q:    `SELECT a.x, b.y FROM a JOIN b ON a.x = b.y WHERE a.z = 5 OR b.w = 'r'`,
		plan: `Project a.x AS x, b.y AS y
  InnerJoin on (((a.z = 5) OR (b.w = 'r')) AND (a.x = b.y))
    Scan a [x, z]
    Scan b [y, w]`,
		rows: []string{"2|2", "3|3"},
	},
}

// TestExplainNodes checks the one-line text of every node kind EXPLAIN can show.
func TestExplainNodes(t *testing.T) {
	eng := openEngine(t)
	cases := map[string]string{
		`SELECT z, count(*), sum(DISTINCT x) FROM a GROUP BY z HAVING count(*) > 0 ORDER BY z DESC LIMIT 2 OFFSET 1`: `Limit 2 offset 1
  Sort z DESC
    Project z, count(*) AS count, sum(DISTINCT x) AS sum
      Filter (count(*) > 0)
        Aggregate group=[z] aggs=[count(*), sum(DISTINCT x)]
          Scan a [x, z]`,
		`SELECT k FROM c UNION ALL SELECT x FROM a`: `UnionAll
  Project k
    Scan c [k]
  Project x
    Scan a [x, z]`,
		`SELECT DISTINCT w FROM b`: `Aggregate group=[w] aggs=[]
  Project w
    Scan b [y, w]`,
		`SELECT 1 AS one LIMIT 5`: `Limit 5
  Project 1 AS one
    Values 1 rows []`,
		`SELECT explode(split(w, ',')) AS part FROM b`: `Explode part
  Project split(w, ',') AS part
    Scan b [y, w]`,
		`SELECT q.x FROM a AS q WHERE q.x IN (SELECT k FROM c)`: `Project q.x AS x
  Filter q.x IN (subquery)
    Scan a AS q [x, z]`,
	}
	for q, want := range cases {
		got := strings.Join(result(t, eng, "EXPLAIN "+q), "\n")
		if got != want {
			t.Errorf("EXPLAIN %s\n got:\n%s\nwant:\n%s", q, got, want)
		}
	}
}
