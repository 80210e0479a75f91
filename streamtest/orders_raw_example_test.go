package streamtest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/streamsql/streamsql"
	"github.com/streamsql/streamsql/exec"
)

// TestOrdersRawExample runs examples/streaming/orders_raw.sql (the lecture's orders.txt lines with
// their M/d/yyyy H:mm timestamps parsed by a computed column that drives the watermark) and checks
// its append-mode output: every hour printed exactly once, and together exactly the batch query's
// rows for the hours the final watermark closed.
func TestOrdersRawExample(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile(filepath.Join(root, "examples", "streaming", "orders_raw.sql"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "examples", "streaming", "orders_raw")
	text := strings.Replace(string(script), "'examples/streaming/orders_raw'", "'"+dir+"'", 1)
	var out bytes.Buffer
	eng, err := streamsql.Open(streamsql.Options{Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if _, err := eng.Exec(context.Background(), text); err != nil {
		t.Fatal(err)
	}
	var printed []string
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, " 2016-") {
			cells := strings.Split(line, "|")
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			printed = append(printed, strings.Join(cells, "|"))
		}
	}
	sort.Strings(printed)

	oracle, err := streamsql.Open(streamsql.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer oracle.Close()
	ctx := context.Background()
	if _, err := oracle.Exec(ctx, `CREATE TABLE orders_raw (raw_time VARCHAR, order_id BIGINT, client_id BIGINT, symbol VARCHAR, qty BIGINT, price BIGINT, side VARCHAR)
		WITH (connector = 'file', path = '`+dir+`', format = 'csv', delimiter = '\t')`); err != nil {
		t.Fatal(err)
	}
	const parsed = `(SELECT *, to_timestamp(raw_time, 'M/d/yyyy H:mm') AS ts FROM orders_raw) AS o`
	wm := rowsOf(t, oracle, `SELECT max(ts) - INTERVAL '5 minutes' FROM `+parsed)
	if len(wm) != 1 {
		t.Fatalf("watermark query: %v", wm)
	}
	want := rowsOf(t, oracle, `SELECT window_start, window_end, side, COUNT(*) AS orders, SUM(qty) AS stocks FROM `+parsed+`
		GROUP BY window(ts, '1 hour'), side HAVING window_end <= TIMESTAMP '`+wm[0]+`'`)
	if len(want) < 4 || strings.Join(printed, "\n") != strings.Join(want, "\n") {
		t.Fatalf("append output (each row once):\n%s\nwant the batch query's closed hours:\n%s\nfull output:\n%s",
			strings.Join(printed, "\n"), strings.Join(want, "\n"), out.String())
	}
}

// rowsOf runs a batch query and renders its rows as sorted "a|b|c" lines.
func rowsOf(t *testing.T, eng *streamsql.Engine, q string) []string {
	t.Helper()
	res, err := eng.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer res.Release()
	var rows []string
	for _, r := range res.Records {
		for i := 0; i < int(r.NumRows()); i++ {
			cells := make([]string, r.NumCols())
			for c := range cells {
				cells[c] = exec.FormatValue(r.Column(c), i)
			}
			rows = append(rows, strings.Join(cells, "|"))
		}
	}
	sort.Strings(rows)
	return rows
}
