package streamtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/streamsql/streamsql"
)

func secs(sec int) time.Time { return time.Date(2024, 1, 1, 0, 0, sec, 0, time.UTC) }

// lastProgress checks the query's last progress: the state rows per side of its join and the
// late rows dropped so far.
func joinProgress(query string, left, right, dropped int64) Step {
	return Execute(func(eng *streamsql.Engine) error {
		p, err := eng.QueryProgress(query)
		if err != nil || p == nil {
			return fmt.Errorf("no progress for %s: %v", query, err)
		}
		var d int64
		var sides []int64
		for _, s := range p.StateOperators {
			d += s.DroppedLateRowsTotal
			if s.RowsBySide != nil {
				sides = s.RowsBySide
			}
		}
		if len(sides) != 2 || sides[0] != left || sides[1] != right || d != dropped {
			return fmt.Errorf("join state rows by side %v, dropped %d; want [%d %d], %d (operators %+v)", sides, d, left, right, dropped, p.StateOperators)
		}
		return nil
	})
}

// An interval join evicts each side's rows once the watermark passes their bound, drops rows late
// on either side (counted), and in append mode emits a LEFT JOIN's unmatched row, NULL-padded,
// exactly when it is evicted.
func TestIntervalJoinEvictsAndPadsOnEviction(t *testing.T) {
	setup := `
		CREATE SOURCE a (k VARCHAR, v BIGINT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '5 seconds') WITH (connector = 'push');
		CREATE SOURCE b (k VARCHAR, w BIGINT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '5 seconds') WITH (connector = 'push');
		CREATE SINK j WITH (connector = 'console', format = 'json', output_mode = 'append', trigger = 'manual') AS
			SELECT a.k, a.v, b.w FROM a %s JOIN b ON a.k = b.k AND b.ts BETWEEN a.ts AND a.ts + INTERVAL '10 seconds'`
	for _, kind := range []string{"", "LEFT"} {
		var padded []any
		if kind == "LEFT" {
			padded = []any{[]any{"y", 2, nil}}
		}
		Run(t, Setup{SQL: fmt.Sprintf(setup, kind)},
			AddData("a", []any{"x", 1, secs(0)}, []any{"y", 2, secs(1)}),
			AddData("b", []any{"x", 10, secs(3)}),
			CheckNewAnswer([]any{"x", 1, 10}),
			joinProgress("j", 2, 1, 0),
			// Both streams jump ahead: watermark 00:01:35; left rows before 00:01:25 and right
			// rows before 00:01:35 can match nothing any more.
			AddData("a", []any{"z", 3, secs(100)}),
			AddData("b", []any{"u", 4, secs(100)}),
			CheckNewAnswer(padded...),
			joinProgress("j", 1, 1, 0),
			// Late on either side (before the watermark): dropped, counted, never joined.
			AddData("a", []any{"u", 5, secs(50)}),
			AddData("b", []any{"z", 6, secs(60)}),
			CheckNewAnswer(),
			joinProgress("j", 1, 1, 2),
			// A right row that matches the waiting left row.
			AddData("b", []any{"z", 7, secs(104)}),
			CheckNewAnswer([]any{"z", 3, 7}),
		)
	}
}

// A windowed aggregation over a windowed aggregation in append mode emits each outer window once,
// when the watermark minus the inner window's size passes its end, and evicts both states.
func TestChainedWindowedAggregationEvicts(t *testing.T) {
	Run(t, Setup{SQL: `
		CREATE SOURCE ev (k VARCHAR, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '5 seconds') WITH (connector = 'push');
		CREATE SINK c WITH (connector = 'console', format = 'json', output_mode = 'append', trigger = 'manual') AS
			SELECT window_start, window_end, COUNT(*) AS keys, SUM(n) AS rows FROM
				(SELECT k, window_start AS ws, COUNT(*) AS n FROM ev GROUP BY k, window(ts, '10 seconds')) t
			GROUP BY window(ws, '30 seconds')`},
		AddData("ev", []any{"a", secs(1)}, []any{"b", secs(2)}, []any{"a", secs(11)}, []any{"a", secs(25)}),
		CheckNewAnswer(),
		// Watermark 00:00:40: inner windows up to [30,40) close; the outer one over their
		// window_start closes at 00:00:30 = 40 - 10: [0,30) is final.
		AddData("ev", []any{"c", secs(45)}),
		CheckNewAnswer([]any{secs(0), secs(30), 4, 4}),
		AssertStateRows(1), // the inner window [40,50) of c; the outer state is empty
		AddData("ev", []any{"d", secs(200)}),
		CheckNewAnswer([]any{secs(30), secs(60), 1, 1}),
		AssertStateRows(1),
	)
}

// SELECT DISTINCT with the watermarked event time in append mode emits each row once, at its first
// arrival, and its state returns to zero once the watermark passes every held row.
func TestDeduplicationEvictsByWatermark(t *testing.T) {
	Run(t, Setup{SQL: `
		CREATE SOURCE ev (id VARCHAR, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '5 seconds') WITH (connector = 'push');
		CREATE SINK d WITH (connector = 'console', format = 'json', output_mode = 'append', trigger = 'manual') AS
			SELECT DISTINCT id, ts FROM ev`},
		AddData("ev", []any{"a", secs(1)}, []any{"a", secs(1)}, []any{"b", secs(2)}),
		CheckNewAnswer([]any{"a", secs(1)}, []any{"b", secs(2)}),
		AddData("ev", []any{"a", secs(1)}, []any{"c", secs(30)}),
		CheckNewAnswer([]any{"c", secs(30)}),
		AssertStateRows(3),
		AddData("ev", []any{"c", secs(30)}, []any{"d", secs(31)}),
		CheckNewAnswer([]any{"d", secs(31)}),
		AssertStateRows(2), // a and b went when the watermark reached 00:00:25
	)
}

// examples/streaming/orders_hourly_top.sql ranks the top 5 stocks of every closed hour once, in
// append mode, from the lecture's raw M/d/yyyy H:mm timestamps (a computed column with the
// watermark): its output equals the batch window top-N over the same files, restricted to the
// hours the final watermark closed.
func TestOrdersHourlyTopExample(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile(filepath.Join(root, "examples", "streaming", "orders_hourly_top.sql"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "examples", "streaming", "orders_raw")
	text := strings.ReplaceAll(string(script), "'examples/streaming/orders_raw'", "'"+dir+"'")
	text = strings.Replace(text, "connector = 'console'", "connector = 'console', format = 'json'", 1)
	var out bytes.Buffer
	eng, err := streamsql.Open(streamsql.Options{Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ctx := context.Background()
	if _, err := eng.Exec(ctx, text); err != nil {
		t.Fatal(err)
	}
	if err := eng.WaitQueries(ctx); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var rec struct {
			Row map[string]any `json:"row"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Row == nil {
			t.Fatalf("console line %q: %v", line, err)
		}
		got = append(got, fmt.Sprintf("%v %v %v %v %v", rec.Row["window_start"], rec.Row["window_end"], rec.Row["symbol"], rec.Row["traded"], rec.Row["rn"]))
	}
	want, err := batchRows(eng, fmt.Sprintf("CREATE TABLE orders_t (raw_time VARCHAR, order_id BIGINT, client_id BIGINT, symbol VARCHAR, qty BIGINT, price BIGINT, side VARCHAR) WITH (connector = 'file', path = '%s', format = 'csv', delimiter = '\t')", dir),
		`WITH o AS (SELECT *, to_timestamp(raw_time, 'M/d/yyyy H:mm') AS ts FROM orders_t)
		SELECT window_start, window_end, symbol, traded, rn FROM (SELECT window_start, window_end, symbol, traded,
			ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY traded DESC, symbol) AS rn
			FROM (SELECT window_start, window_end, symbol, SUM(qty) AS traded FROM o GROUP BY window(ts, '1 hour'), symbol) t) u
		WHERE rn <= 5 AND window_end <= (SELECT MAX(ts) FROM o) - INTERVAL '5 minutes'`)
	if err != nil {
		t.Fatal(err)
	}
	var wantRows []string
	for _, r := range want {
		wantRows = append(wantRows, strings.Join(r, " "))
	}
	sort.Strings(got)
	sort.Strings(wantRows)
	if len(wantRows) == 0 || strings.Join(got, "\n") != strings.Join(wantRows, "\n") {
		t.Errorf("hourly top 5: got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantRows, "\n"))
	}
}
