package conformance

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql"
	"github.com/streamsql/streamsql/exec"
)

// TestBatchQueriesAsStreams is issue 8's acceptance: every batch query case of testdata/*.slt
// runs as a continuous query with every table it reads turned into a stream (a push source of
// the same name and columns, fed the table's rows), as a materialized view (update mode), and
// after every epoch the view must equal the batch query over the rows pushed so far (computed by
// a second engine whose tables hold exactly those rows). Four runs per case: one epoch, one row
// per epoch, random splits, and random splits with a restart from the checkpoint after every
// epoch.
//
// Cases that read no table, are not SELECT/WITH queries, or are not deterministic (now(),
// random(), LIMIT without ORDER BY) are not counted. Every counted case the engine refuses or
// gets wrong is listed, with the reason, in testdata/streaming_refusals.txt; the test fails when
// the list differs from the file (STREAMSQL_UPDATE_REFUSALS=1 rewrites it) and reports the share
// of cases that run.
func TestBatchQueriesAsStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("long: runs every batch query as a stream")
	}
	ctx := context.Background()
	testdata := testdataDir(t)
	var counted, ran int
	var refusals []string
	excluded := map[string]int{}
	for _, path := range sltFiles(t) {
		recs := loadFile(t, path)
		batch, err := streamsql.Open(streamsql.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range recs {
			if rec.kind == recHalt {
				break
			}
			if !rec.runsOn(engineStreamSQL) {
				continue
			}
			sql := strings.ReplaceAll(rec.sql, "${TESTDATA}", testdata)
			if rec.kind == recStatement {
				if res, err := batch.Exec(ctx, sql); err == nil {
					for _, r := range res {
						if r != nil {
							r.Release()
						}
					}
				}
				continue
			}
			if rec.kind != recQuery {
				continue
			}
			if why := notCounted(sql); why != "" {
				excluded[why]++
				continue
			}
			tables, err := tablesRead(ctx, batch, sql)
			if err != nil || len(tables) == 0 {
				excluded["reads no table"]++
				continue
			}
			counted++
			if why := runAsStream(ctx, t, batch, sql, tables, rec); why != "" {
				refusals = append(refusals, fmt.Sprintf("%s\t%s\t%s", rec.pos(), oneLine(sql), why))
				continue
			}
			ran++
		}
		batch.Close()
	}
	sort.Strings(refusals)
	share := 100 * float64(ran) / float64(max(counted, 1))
	t.Logf("batch queries as streams: %d of %d deterministic cases run (%.1f%%); not counted: %v", ran, counted, share, excluded)
	file := filepath.Join("testdata", "streaming_refusals.txt")
	text := fmt.Sprintf("# Batch query cases of testdata/*.slt that do not run as continuous queries over streams\n"+
		"# (TestBatchQueriesAsStreams): file:line, the query, the reason. %d of %d cases run (%.1f%%).\n", ran, counted, share) +
		strings.Join(refusals, "\n") + "\n"
	if os.Getenv("STREAMSQL_UPDATE_REFUSALS") != "" {
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	old, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run with STREAMSQL_UPDATE_REFUSALS=1 to write it)", err)
	}
	if string(old) != text {
		t.Errorf("the refusals differ from %s (STREAMSQL_UPDATE_REFUSALS=1 rewrites it); now:\n%s", file, text)
	}
}

var (
	nondeterministicRE = regexp.MustCompile(`(?i)\b(now|random|current_timestamp|current_date|localtimestamp|clock_timestamp)\b`)
	limitRE            = regexp.MustCompile(`(?i)\blimit\b`)
	orderRE            = regexp.MustCompile(`(?i)\border\s+by\b`)
	selectRE           = regexp.MustCompile(`(?i)^\s*(select|with|\()`)
	scanRE             = regexp.MustCompile(`^\s*Scan (\S+)`)
)

// notCounted says why a query case is not part of the share ("" when it is).
func notCounted(sql string) string {
	switch {
	case !selectRE.MatchString(sql):
		return "not a SELECT"
	case nondeterministicRE.MatchString(sql):
		return "nondeterministic (clock, random)"
	case limitRE.MatchString(sql) && !orderRE.MatchString(sql):
		return "nondeterministic (LIMIT without ORDER BY)"
	}
	return ""
}

// tablesRead lists the tables a query scans, from its EXPLAIN.
func tablesRead(ctx context.Context, eng *streamsql.Engine, sql string) ([]string, error) {
	res, err := eng.Query(ctx, "EXPLAIN "+sql)
	if err != nil {
		return nil, err
	}
	defer res.Release()
	seen := map[string]bool{}
	var out []string
	for _, r := range res.Records {
		for i := 0; i < int(r.NumRows()); i++ {
			if m := scanRE.FindStringSubmatch(r.Column(0).ValueStr(i)); m != nil && !seen[m[1]] {
				seen[m[1]] = true
				out = append(out, m[1])
			}
		}
	}
	// Tables read only in subqueries do not appear as scans of the outer plan.
	for _, name := range eng.TableNames() {
		if !seen[name] && regexp.MustCompile(`(?i)\b(from|join)\s+"?`+regexp.QuoteMeta(name)+`\b`).MatchString(sql) {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out, nil
}

// tableRow is one row of one table, pushed into the stream of that name.
type tableRow struct {
	table string
	rec   arrow.RecordBatch // one row
}

// runAsStream runs sql as a view over streams replacing tables, in the four runs; it returns why
// it does not run ("" when every run matched the batch answer after every epoch).
func runAsStream(ctx context.Context, t *testing.T, batch *streamsql.Engine, sql string, tables []string, rec *record) string {
	var ddl []string
	var rows []tableRow
	for _, name := range tables {
		cols, err := describe(ctx, batch, quoteIdent(name))
		if err != nil {
			return "cannot describe " + name + ": " + err.Error()
		}
		ddl = append(ddl, quoteIdent(name)+" ("+cols+")")
		res, err := batch.Query(ctx, "SELECT * FROM "+quoteIdent(name))
		if err != nil {
			return "cannot read " + name + ": " + err.Error()
		}
		for _, r := range res.Records {
			for i := int64(0); i < r.NumRows(); i++ {
				rows = append(rows, tableRow{table: name, rec: r.NewSlice(i, i+1)})
			}
		}
		res.Release()
	}
	defer func() {
		for _, r := range rows {
			r.rec.Release()
		}
	}()
	rng := rand.New(rand.NewPCG(uint64(rec.line), 8))
	runs := []struct {
		name    string
		splits  []int // rows per epoch
		restart bool
	}{
		{"one epoch", []int{len(rows)}, false},
		{"one row per epoch", ones(len(rows)), false},
		{"random splits", randomSplits(rng, len(rows), 5), false},
		{"restart after every epoch", randomSplits(rng, len(rows), 3), true},
	}
	for _, run := range runs {
		if why := runSplits(ctx, t, sql, ddl, rows, run.splits, run.restart, rec); why != "" {
			if strings.HasPrefix(why, "refused: ") {
				return why
			}
			return run.name + ": " + why
		}
	}
	return ""
}

func ones(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = 1
	}
	if n == 0 {
		return []int{0}
	}
	return out
}

// randomSplits cuts n rows into at most k epochs at random.
func randomSplits(rng *rand.Rand, n, k int) []int {
	if n == 0 {
		return []int{0}
	}
	var out []int
	left := n
	for left > 0 {
		if len(out) == k-1 {
			out = append(out, left)
			break
		}
		c := 1 + rng.IntN(left)
		out = append(out, c)
		left -= c
	}
	return out
}

// describe renders a table's columns as DDL.
func describe(ctx context.Context, eng *streamsql.Engine, table string) (string, error) {
	res, err := eng.Query(ctx, "DESCRIBE "+table)
	if err != nil {
		return "", err
	}
	defer res.Release()
	var cols []string
	for _, r := range res.Records {
		for i := 0; i < int(r.NumRows()); i++ {
			cols = append(cols, quoteIdent(r.Column(0).ValueStr(i))+" "+r.Column(1).ValueStr(i))
		}
	}
	return strings.Join(cols, ", "), nil
}

// runSplits feeds rows epoch by epoch (splits: rows per epoch) into a view of sql over streams,
// comparing it after every epoch with the batch answer over the rows so far.
func runSplits(ctx context.Context, t *testing.T, sql string, ddl []string, rows []tableRow, splits []int, restart bool, rec *record) string {
	dataDir := ""
	if restart {
		dataDir = t.TempDir()
	}
	open := func() (*streamsql.Engine, string) {
		eng, err := streamsql.Open(streamsql.Options{DataDir: dataDir})
		if err != nil {
			return nil, err.Error()
		}
		for _, d := range ddl {
			if _, err := eng.Exec(ctx, "CREATE SOURCE "+d+" WITH (connector = 'push')"); err != nil {
				eng.Close()
				return nil, "cannot create the stream: " + err.Error()
			}
		}
		if _, err := eng.Exec(ctx, "CREATE MATERIALIZED VIEW conformance_view WITH (trigger = 'manual') AS "+sql); err != nil {
			eng.Close()
			return nil, "refused: " + oneLine(err.Error())
		}
		return eng, ""
	}
	// The oracle: tables of the same names holding the rows so far.
	oracle, err := streamsql.Open(streamsql.Options{})
	if err != nil {
		return err.Error()
	}
	defer oracle.Close()
	eng, why := open()
	if why != "" {
		return why
	}
	defer func() { eng.Close() }()
	pos := 0
	for epoch, n := range splits {
		for _, r := range rows[pos : pos+n] {
			if err := eng.PushRecords(r.table, r.rec); err != nil {
				return "push: " + err.Error()
			}
		}
		pos += n
		if err := eng.ProcessAllAvailable(ctx, "conformance_view"); err != nil {
			return fmt.Sprintf("epoch %d fails: %s", epoch, oneLine(err.Error()))
		}
		got, err := formattedRows(ctx, eng, "SELECT * FROM conformance_view")
		if err != nil {
			return "reading the view: " + err.Error()
		}
		want, err := oracleAnswer(ctx, oracle, sql, ddl, rows[:pos])
		if err != nil {
			return "oracle: " + err.Error()
		}
		if !sameRows(got, want) {
			return fmt.Sprintf("after epoch %d (rows per epoch %v) the view differs from the batch answer: view %v, batch %v", epoch, splits, got, want)
		}
		if restart && epoch < len(splits)-1 {
			eng.Close()
			if eng, why = open(); why != "" {
				return "after a restart: " + why
			}
		}
	}
	return ""
}

// oracleAnswer runs sql as a batch query over tables holding rows.
func oracleAnswer(ctx context.Context, oracle *streamsql.Engine, sql string, ddl []string, rows []tableRow) ([]string, error) {
	for _, d := range ddl {
		name := d[:strings.Index(d, " (")]
		if _, err := oracle.Exec(ctx, "DROP TABLE IF EXISTS "+name+"; CREATE TABLE "+d); err != nil {
			return nil, err
		}
	}
	for _, r := range rows {
		if err := insertRow(ctx, oracle, r); err != nil {
			return nil, err
		}
	}
	return formattedRows(ctx, oracle, sql)
}

// insertRow inserts one row as SQL literals cast to the column types.
func insertRow(ctx context.Context, eng *streamsql.Engine, r tableRow) error {
	vals := make([]string, r.rec.NumCols())
	for c := range vals {
		col := r.rec.Column(c)
		if col.IsNull(0) {
			vals[c] = "NULL"
			continue
		}
		lit := strings.ReplaceAll(exec.FormatValue(col, 0), "'", "''")
		vals[c] = "CAST('" + lit + "' AS " + exec.TypeName(col.DataType()) + ")"
	}
	_, err := eng.Exec(ctx, "INSERT INTO "+quoteIdent(r.table)+" VALUES ("+strings.Join(vals, ", ")+")")
	return err
}

func formattedRows(ctx context.Context, eng *streamsql.Engine, sql string) ([]string, error) {
	res, err := eng.Query(ctx, sql)
	if err != nil {
		return nil, err
	}
	defer res.Release()
	var out []string
	for _, r := range res.Records {
		for i := 0; i < int(r.NumRows()); i++ {
			cells := make([]string, r.NumCols())
			for c := range cells {
				cells[c] = exec.FormatValue(r.Column(c), i)
				if r.Column(c).IsNull(i) {
					cells[c] = "NULL"
				}
			}
			out = append(out, strings.Join(cells, "|"))
		}
	}
	sort.Strings(out)
	return out, nil
}

// sameRows compares sorted rows; numeric cells compare with a relative tolerance of 1e-9 (float
// sums computed in another order).
func sameRows(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] == b[i] {
			continue
		}
		x, y := strings.Split(a[i], "|"), strings.Split(b[i], "|")
		if len(x) != len(y) {
			return false
		}
		for c := range x {
			if x[c] == y[c] {
				continue
			}
			fx, e1 := strconv.ParseFloat(x[c], 64)
			fy, e2 := strconv.ParseFloat(y[c], 64)
			if e1 != nil || e2 != nil || math.Abs(fx-fy) > 1e-9*math.Max(math.Abs(fx), math.Abs(fy)) {
				return false
			}
		}
	}
	return true
}

// quoteIdent quotes a name as SQL does, so case is kept.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
