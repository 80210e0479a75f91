package conformance

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/internal/testdb"
)

// TestDiffFuzz is a differential fuzzer: it generates random queries (projections, arithmetic
// with negative numbers and division, comparisons, CASE, COALESCE, NULLIF, NULL tests, aggregates
// with GROUP BY and HAVING, joins, ORDER BY with LIMIT, DISTINCT, set operations) over small
// tables holding NULLs, duplicates and negative numbers, runs each on streamsql and on
// PostgreSQL, and fails on every query whose answers differ. Results are compared as multisets,
// or as sequences when the query's ORDER BY names every output column; numbers are compared by
// value (PostgreSQL's 2.5000000000000000 equals 2.5). A query both engines refuse is no
// difference; one that only one refuses is, except a division by zero one engine raises where the
// other never evaluates it (documented in README, counted with the refusals).
//
// Query i is generated from the seed STREAMSQL_DIFFFUZZ_SEED+i (default base 1), so a failure
// is reproduced by its seed. It runs for STREAMSQL_DIFFFUZZ_DURATION (default 15s; `make
// difffuzz` runs longer) or STREAMSQL_DIFFFUZZ_QUERIES queries when that is set. It is skipped
// without PostgreSQL (failing under CI=true).
func TestDiffFuzz(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the differential fuzzer is skipped")
	}
	pgURL, err := testdb.LookupPostgres()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL oracle unavailable under CI=true: %v", err)
		}
		t.Skipf("the differential fuzzer needs PostgreSQL: %v", err)
	}
	duration := 15 * time.Second
	if s := os.Getenv("STREAMSQL_DIFFFUZZ_DURATION"); s != "" {
		if duration, err = time.ParseDuration(s); err != nil {
			t.Fatalf("STREAMSQL_DIFFFUZZ_DURATION: %v", err)
		}
	}
	maxQueries := -1
	if s := os.Getenv("STREAMSQL_DIFFFUZZ_QUERIES"); s != "" {
		if maxQueries, err = strconv.Atoi(s); err != nil {
			t.Fatalf("STREAMSQL_DIFFFUZZ_QUERIES: %v", err)
		}
	}
	base := int64(1)
	if s := os.Getenv("STREAMSQL_DIFFFUZZ_SEED"); s != "" {
		if base, err = strconv.ParseInt(s, 10, 64); err != nil {
			t.Fatalf("STREAMSQL_DIFFFUZZ_SEED: %v", err)
		}
	}
	ctx := context.Background()
	ours, err := newEngineExecutor(modeBatch)
	if err != nil {
		t.Fatal(err)
	}
	defer ours.close()
	pg, err := newPGExecutor(ctx, pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.close()
	for _, s := range fuzzSetup {
		for _, ex := range []executor{ours, pg} {
			if err := ex.statement(ctx, s); err != nil {
				t.Fatalf("[%s] %s: %v", ex.name(), s, err)
			}
		}
	}
	deadline := time.Now().Add(duration)
	var diffs []string
	n, bothFailed := 0, 0
	for ; maxQueries < 0 && time.Now().Before(deadline) || n < maxQueries; n++ {
		seed := base + int64(n)
		q := newQueryGen(seed).query()
		msg, refused := diffOne(ctx, q, ours, pg)
		if refused {
			bothFailed++
		}
		if msg != "" {
			diffs = append(diffs, fmt.Sprintf("seed %d: %s\n%s", seed, q.sql, msg))
			if len(diffs) >= 20 {
				break
			}
		}
	}
	t.Logf("difffuzz: %d queries (seeds %d..%d), %d refused by both engines (or divide by zero where the other does not evaluate), %d differences", n, base, base+int64(n)-1, bothFailed, len(diffs))
	if len(diffs) > 0 {
		t.Errorf("%d queries differ from PostgreSQL:\n%s", len(diffs), strings.Join(diffs, "\n\n"))
	}
}

// fuzzSetup creates the tables the queries read, on both engines: NULLs, duplicate rows and
// keys, negative numbers, zeros (so division meets zero divisors), an empty table.
var fuzzSetup = []string{
	"CREATE TABLE f1 (a BIGINT, b BIGINT, s VARCHAR)",
	"INSERT INTO f1 VALUES (1, 2, 'x'), (1, 2, 'x'), (-3, 0, 'y'), (NULL, 5, 'x'), (4, NULL, NULL), (0, -7, 'z'), (7, 3, 'y'), (-3, -3, '')",
	"CREATE TABLE f2 (a BIGINT, d BIGINT, s VARCHAR)",
	"INSERT INTO f2 VALUES (1, 10, 'x'), (-3, 20, 'y'), (-3, -20, 'y'), (NULL, 30, NULL), (8, 0, 'z'), (4, NULL, 'x')",
	"CREATE TABLE f0 (a BIGINT, b BIGINT, s VARCHAR)",
}

type genQuery struct {
	sql     string
	ordered bool // the ORDER BY names every output column: compare as sequences
}

type queryGen struct {
	r *rand.Rand
	// cols are the integer columns in scope, strs the text ones.
	cols, strs []string
}

func newQueryGen(seed int64) *queryGen { return &queryGen{r: rand.New(rand.NewSource(seed))} }

func (g *queryGen) pick(xs ...string) string { return xs[g.r.Intn(len(xs))] }

func (g *queryGen) intLit() string {
	v := g.r.Intn(15) - 7
	if v < 0 && g.r.Intn(2) == 0 {
		return fmt.Sprintf("(%d)", v)
	}
	return strconv.Itoa(v)
}

// intExpr is an integer expression of at most depth levels.
func (g *queryGen) intExpr(depth int) string {
	if depth <= 0 || g.r.Intn(3) == 0 {
		if g.r.Intn(3) == 0 {
			return g.intLit()
		}
		return g.pick(g.cols...)
	}
	switch g.r.Intn(10) {
	case 0, 1, 2:
		return fmt.Sprintf("(%s %s %s)", g.intExpr(depth-1), g.pick("+", "-", "*", "/", "%"), g.intExpr(depth-1))
	case 3:
		return "-" + g.intExpr(depth-1)
	case 4:
		return fmt.Sprintf("CASE WHEN %s THEN %s ELSE %s END", g.cond(depth-1), g.intExpr(depth-1), g.intExpr(depth-1))
	case 5:
		return fmt.Sprintf("COALESCE(%s, %s)", g.intExpr(depth-1), g.intExpr(depth-1))
	case 6:
		return fmt.Sprintf("NULLIF(%s, %s)", g.intExpr(depth-1), g.intExpr(depth-1))
	case 7:
		return fmt.Sprintf("abs(%s)", g.intExpr(depth-1))
	case 8:
		return fmt.Sprintf("CASE %s WHEN %s THEN %s END", g.intExpr(depth-1), g.intLit(), g.intExpr(depth-1))
	}
	return fmt.Sprintf("(%s %s %s)", g.intExpr(depth-1), g.pick("+", "-"), g.intLit())
}

// cond is a boolean expression of at most depth levels.
func (g *queryGen) cond(depth int) string {
	if depth <= 0 {
		return fmt.Sprintf("%s %s %s", g.pick(g.cols...), g.pick("=", "<>", "<", "<=", ">", ">="), g.intLit())
	}
	switch g.r.Intn(9) {
	case 0, 1:
		return fmt.Sprintf("%s %s %s", g.intExpr(depth-1), g.pick("=", "<>", "<", "<=", ">", ">="), g.intExpr(depth-1))
	case 2:
		return fmt.Sprintf("%s IS %sNULL", g.intExpr(depth-1), g.pick("", "NOT "))
	case 3:
		return "NOT (" + g.cond(depth-1) + ")"
	case 4:
		return fmt.Sprintf("(%s %s %s)", g.cond(depth-1), g.pick("AND", "OR"), g.cond(depth-1))
	case 5:
		return fmt.Sprintf("%s %sBETWEEN %s AND %s", g.intExpr(depth-1), g.pick("", "NOT "), g.intLit(), g.intLit())
	case 6:
		return fmt.Sprintf("%s %sIN (%s, %s, %s)", g.intExpr(depth-1), g.pick("", "NOT "), g.intLit(), g.intLit(), g.pick("NULL", g.intLit()))
	case 7:
		if len(g.strs) > 0 {
			return fmt.Sprintf("%s %s %s", g.pick(g.strs...), g.pick("=", "<>", "<"), g.pick("'x'", "'y'", "''"))
		}
	}
	return fmt.Sprintf("%s IS DISTINCT FROM %s", g.intExpr(depth-1), g.intExpr(depth-1))
}

// selectList returns n integer expressions aliased c1..cn.
func (g *queryGen) selectList(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s AS c%d", g.intExpr(2), i+1)
	}
	return out
}

func (g *queryGen) where() string {
	if g.r.Intn(3) == 0 {
		return ""
	}
	return " WHERE " + g.cond(2)
}

func (g *queryGen) table() string {
	if g.r.Intn(12) == 0 {
		return "f0"
	}
	return "f1"
}

func (g *queryGen) query() genQuery {
	g.cols, g.strs = []string{"a", "b"}, []string{"s"}
	switch g.r.Intn(6) {
	case 0: // projection
		n := 1 + g.r.Intn(3)
		return genQuery{sql: fmt.Sprintf("SELECT %s%s FROM %s%s", g.pick("", "", "DISTINCT "), strings.Join(g.selectList(n), ", "), g.table(), g.where())}
	case 1: // aggregate
		group := g.intExpr(1)
		aggs := []string{"count(*)", "count(%s)", "sum(%s)", "min(%s)", "max(%s)", "avg(%s)", "count(DISTINCT %s)"}
		var items []string
		for i := 0; i < 1+g.r.Intn(3); i++ {
			a := g.pick(aggs...)
			if strings.Contains(a, "%s") {
				a = fmt.Sprintf(a, g.intExpr(1))
			}
			items = append(items, fmt.Sprintf("%s AS c%d", a, i+1))
		}
		if g.r.Intn(4) == 0 { // a global aggregate
			return genQuery{sql: fmt.Sprintf("SELECT %s FROM %s%s", strings.Join(items, ", "), g.table(), g.where())}
		}
		having := ""
		if g.r.Intn(3) == 0 {
			having = fmt.Sprintf(" HAVING count(*) %s %d", g.pick(">", "<=", "="), g.r.Intn(3))
		}
		return genQuery{sql: fmt.Sprintf("SELECT %s AS g, %s FROM %s%s GROUP BY %s%s", group, strings.Join(items, ", "), g.table(), g.where(), group, having)}
	case 2: // join
		kind := g.pick("JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN")
		g.cols, g.strs = []string{"f1.a", "f1.b", "f2.a", "f2.d"}, []string{"f1.s", "f2.s"}
		on := g.pick("f1.a = f2.a", "f1.a = f2.a AND f1.s = f2.s", "f1.b < f2.d", "f1.s = f2.s")
		if kind == "FULL JOIN" && on == "f1.b < f2.d" {
			on = "f1.b = f2.d" // PostgreSQL runs FULL JOIN only on equality conditions
		}
		w := ""
		if g.r.Intn(2) == 0 {
			w = " WHERE " + g.cond(1)
		}
		return genQuery{sql: fmt.Sprintf("SELECT %s FROM f1 %s f2 ON %s%s", strings.Join(g.selectList(1+g.r.Intn(2)), ", "), kind, on, w)}
	case 3: // ORDER BY every output column, LIMIT
		n := 1 + g.r.Intn(2)
		var keys []string
		for i := 1; i <= n; i++ {
			keys = append(keys, fmt.Sprintf("%d %s%s", i, g.pick("", "ASC", "DESC"), g.pick("", "", " NULLS FIRST", " NULLS LAST")))
		}
		lim := ""
		if g.r.Intn(3) > 0 {
			lim = fmt.Sprintf(" LIMIT %d", g.r.Intn(6))
			if g.r.Intn(3) == 0 {
				lim += fmt.Sprintf(" OFFSET %d", g.r.Intn(4))
			}
		}
		return genQuery{sql: fmt.Sprintf("SELECT %s%s FROM %s%s ORDER BY %s%s", g.pick("", "DISTINCT "), strings.Join(g.selectList(n), ", "), g.table(), g.where(), strings.Join(keys, ", "), lim), ordered: true}
	case 4: // set operation
		n := 1 + g.r.Intn(2)
		left := fmt.Sprintf("SELECT %s FROM f1%s", strings.Join(g.selectList(n), ", "), g.where())
		g.cols = []string{"a", "d"}
		right := fmt.Sprintf("SELECT %s FROM f2%s", strings.Join(g.selectList(n), ", "), g.where())
		op := g.pick("UNION", "UNION ALL", "INTERSECT", "EXCEPT", "INTERSECT ALL", "EXCEPT ALL")
		return genQuery{sql: left + " " + op + " " + right}
	}
	// a scalar or EXISTS subquery, correlated or not
	sub := g.pick(
		"(SELECT count(*) FROM f2 WHERE f2.a = f1.a)",
		"(SELECT max(f2.d) FROM f2 WHERE f2.a < f1.b)",
		"(SELECT min(f2.d) FROM f2)",
	)
	return genQuery{sql: fmt.Sprintf("SELECT %s AS c1, %s AS c2 FROM f1%s", g.intExpr(1), sub, g.where())}
}

// diffOne runs q on both engines; it returns why they differ ("" when they agree) and whether
// both refused the query.
func diffOne(ctx context.Context, q genQuery, ours, pg executor) (string, bool) {
	cctx, cancel := context.WithTimeout(ctx, recordTimeout)
	defer cancel()
	got, oerr := ours.query(cctx, q.sql)
	want, perr := pg.query(cctx, q.sql)
	switch {
	case oerr != nil && perr != nil:
		return "", true
	case oerr != nil && perr == nil && exec.SQLState(oerr) == "22012":
		// A documented difference (README, "Differences from PostgreSQL"): streamsql evaluates
		// the select list of every row before LIMIT 0 and a WHERE PostgreSQL folds to a
		// constant, so a division by zero PostgreSQL never evaluates is raised.
		return "", true
	case perr != nil && oerr == nil && len(got) == 0 && pgState(perr) == "22012":
		// The reverse: PostgreSQL folds constants (2 / COALESCE(0, x) is 2 / 0) while planning,
		// and fails even when no row would evaluate them.
		return "", true
	case oerr != nil:
		return fmt.Sprintf("streamsql fails: %v\nPostgreSQL returns:\n%s", oerr, formatBlock(want)), false
	case perr != nil:
		return fmt.Sprintf("PostgreSQL fails: %v\nstreamsql returns:\n%s", perr, formatBlock(got)), false
	}
	g, w := fuzzRows(got), fuzzRows(want)
	if !q.ordered {
		sort.Strings(g)
		sort.Strings(w)
	}
	if strings.Join(g, "\n") != strings.Join(w, "\n") {
		return fmt.Sprintf("streamsql:\n%s\nPostgreSQL:\n%s", strings.Join(g, "\n"), strings.Join(w, "\n")), false
	}
	return "", false
}

// pgState is the SQLSTATE of a PostgreSQL error, "" for others.
func pgState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// fuzzRows renders rows with numbers in one spelling (by value, 12 significant digits).
func fuzzRows(rows [][]string) []string {
	out := make([]string, len(rows))
	for i, row := range rows {
		cells := make([]string, len(row))
		for c, cell := range row {
			cells[c] = fuzzCell(cell)
		}
		out[i] = strings.Join(cells, "|")
	}
	return out
}

func fuzzCell(cell string) string {
	f, err := strconv.ParseFloat(cell, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return cell
	}
	if f == 0 {
		f = 0
	}
	return strconv.FormatFloat(f, 'g', 12, 64)
}
