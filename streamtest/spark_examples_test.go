package streamtest

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streamsql/streamsql"
	"github.com/streamsql/streamsql/sinks"
)

// Spark's documented examples, end to end through SQL: each test reproduces the output the
// documentation (or the seed lecture, seeds/002) shows.

// TestSparkWatermarkWordCount is the programming guide's "Handling Late Data and Watermarking"
// example: words counted in 10-minute windows sliding every 5 minutes, watermark 10 minutes. It
// mirrors exec/aggregate_stream_test.go::TestStreamingSparkWatermarkExample: the guide's last
// trigger (12:20-12:25) gets 12:21 owl, 12:04 donkey and 12:17 owl and drops the donkey because
// the watermark is 12:11 by then; with the watermark fixed per epoch that is 12:21 owl in an
// epoch of its own, then the donkey and 12:17 owl.
func TestSparkWatermarkWordCount(t *testing.T) {
	const sink = `CREATE SOURCE words (word VARCHAR, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '10 minutes') WITH (connector = 'push');
		CREATE SINK counts WITH (connector = 'console', format = 'json', output_mode = '%s', trigger = 'manual') AS
		SELECT window_start, window_end, word, COUNT(*) AS count FROM words GROUP BY window(ts, '10 minutes', '5 minutes'), word`
	word := func(m int, w string) []any { return []any{w, at(12, m)} }
	win := func(m int, w string, n int64) []any { return []any{at(12, m), at(12, m+10), w, n} }
	epoch1 := AddData("words", word(7, "dog"), word(8, "owl"))
	epoch2 := AddData("words", word(14, "dog"), word(9, "cat"))
	epoch3 := AddData("words", word(15, "cat"), word(8, "dog"), word(13, "owl")) // 12:08 dog: late but within the watermark
	epoch4 := AddData("words", word(21, "owl"))
	epoch5 := AddData("words", word(4, "donkey"), word(17, "owl")) // 12:04 donkey: older than the watermark 12:11
	watermark := func(want string) Step {
		return Execute(func(eng *streamsql.Engine) error {
			p, err := eng.QueryProgress("counts")
			if err != nil {
				return err
			}
			if p.NextWatermark != want {
				return fmt.Errorf("watermark after the epoch is %s, the guide has %s", p.NextWatermark, want)
			}
			return nil
		})
	}
	// The donkey falls in two windows, [11:55, 12:05) and [12:00, 12:10): two rows dropped.
	dropped := Execute(func(eng *streamsql.Engine) error {
		p, err := eng.QueryProgress("counts")
		if err != nil {
			return err
		}
		if p.DroppedLateRows != 2 || len(p.StateOperators) != 1 || p.StateOperators[0].DroppedLateRows != 2 {
			return fmt.Errorf("dropped rows: epoch %d, operators %+v; want 2", p.DroppedLateRows, p.StateOperators)
		}
		res, err := eng.Query(context.Background(), "DESCRIBE QUERY counts")
		if err != nil {
			return err
		}
		defer res.Release()
		var doc strings.Builder
		for _, rec := range res.Records {
			for i := 0; i < int(rec.NumRows()); i++ {
				doc.WriteString(rec.Column(0).ValueStr(i) + "\n")
			}
		}
		if strings.Count(doc.String(), `"numRowsDroppedByWatermark": 2`) != 2 {
			return fmt.Errorf("DESCRIBE QUERY does not show the 2 dropped rows:\n%s", doc.String())
		}
		return nil
	})
	// The final table in both modes: every window ever counted, without the donkey, which is
	// also what a batch query over the rows (the donkey excluded) returns.
	final := []any{
		win(0, "dog", 2), win(0, "owl", 1), win(0, "cat", 1),
		win(5, "dog", 3), win(5, "owl", 2), win(5, "cat", 1),
		win(10, "dog", 1), win(10, "cat", 1), win(10, "owl", 2),
		win(15, "cat", 1), win(15, "owl", 2),
		win(20, "owl", 1),
	}
	oracle := Execute(func(eng *streamsql.Engine) error {
		got, err := batchRows(eng, `CREATE TABLE words_table (word VARCHAR, ts TIMESTAMP);
			INSERT INTO words_table VALUES ('dog', TIMESTAMP '2024-01-01 12:07:00'), ('owl', TIMESTAMP '2024-01-01 12:08:00'),
				('dog', TIMESTAMP '2024-01-01 12:14:00'), ('cat', TIMESTAMP '2024-01-01 12:09:00'), ('cat', TIMESTAMP '2024-01-01 12:15:00'),
				('dog', TIMESTAMP '2024-01-01 12:08:00'), ('owl', TIMESTAMP '2024-01-01 12:13:00'), ('owl', TIMESTAMP '2024-01-01 12:21:00'),
				('owl', TIMESTAMP '2024-01-01 12:17:00')`,
			"SELECT window_start, window_end, word, COUNT(*) AS count FROM words_table GROUP BY window(ts, '10 minutes', '5 minutes'), word")
		if err != nil {
			return err
		}
		want, _ := expectedRows(final)
		return compare("batch oracle", got, want, false)
	})

	t.Run("update", func(t *testing.T) {
		Run(t, Setup{SQL: fmt.Sprintf(sink, "update"), Keys: []string{"window_start", "window_end", "word"}},
			epoch1,
			CheckNewAnswer(win(0, "dog", 1), win(5, "dog", 1), win(0, "owl", 1), win(5, "owl", 1)),
			watermark("2024-01-01 11:58:00"),
			epoch2,
			CheckNewAnswer(win(5, "dog", 2), win(10, "dog", 1), win(0, "cat", 1), win(5, "cat", 1)),
			watermark("2024-01-01 12:04:00"),
			epoch3,
			CheckNewAnswer(win(10, "cat", 1), win(15, "cat", 1), win(0, "dog", 2), win(5, "dog", 3), win(5, "owl", 2), win(10, "owl", 1)),
			watermark("2024-01-01 12:05:00"),
			epoch4,
			// The watermark moves to 12:11: a no-data epoch evicts the [12:00, 12:10) windows.
			CheckNewAnswer(win(15, "owl", 1), win(20, "owl", 1)),
			watermark("2024-01-01 12:11:00"),
			AssertStateRows(9),
			epoch5,
			CheckNewAnswer(win(10, "owl", 2), win(15, "owl", 2)),
			dropped,
			AssertStateRows(9),
			CheckAnswer(final...),
			oracle,
		)
	})
	t.Run("append", func(t *testing.T) {
		Run(t, Setup{SQL: fmt.Sprintf(sink, "append")},
			epoch1, CheckNewAnswer(),
			epoch2, CheckNewAnswer(),
			epoch3, CheckNewAnswer(),
			epoch4,
			// Watermark 12:11: the windows ending at 12:10 are final and emitted once.
			CheckNewAnswer(win(0, "dog", 2), win(0, "owl", 1), win(0, "cat", 1)),
			AssertStateRows(9),
			epoch5,
			CheckNewAnswer(),
			dropped,
			// A later word moves the watermark to 12:30: every window ending by then is emitted.
			AddData("words", word(40, "emu")),
			CheckNewAnswer(win(5, "dog", 3), win(5, "owl", 2), win(5, "cat", 1), win(10, "dog", 1), win(10, "cat", 1), win(10, "owl", 2),
				win(15, "cat", 1), win(15, "owl", 2), win(20, "owl", 1)),
			CheckAnswer(final...), // append: every row ever emitted; the emu's windows are still open
		)
	})
}

// TestSparkPhoneEvents is the seed lecture's illustration (seeds/002, "An Illustration"): the
// hourly count of (phone_id, time, action) events in update mode, where the "open" event for
// phone3, which happened at 1:58 on the phone, reaches the system at 2:02 and updates the 1:00
// row. The lecture gives no figures beyond that, so the events and counts below are constructed
// from Spark's rules: each epoch stands for one trigger, and the expected rows are what update
// mode emits (the rows whose counts changed in the epoch).
func TestSparkPhoneEvents(t *testing.T) {
	ev := func(phone string, h, m int, action string) []any {
		return []any{phone, time.Date(2024, 1, 1, h, m, 0, 0, time.UTC), action}
	}
	hour := func(h int, action string, n int64) []any {
		return []any{time.Date(2024, 1, 1, h, 0, 0, 0, time.UTC), time.Date(2024, 1, 1, h+1, 0, 0, 0, time.UTC), action, n}
	}
	// Prefix integrity: after every trigger no hour shows more closes than opens.
	noMoreClosesThanOpens := Execute(func(eng *streamsql.Engine) error {
		rows, err := batchRows(eng, "", "SELECT window_start, SUM(CASE WHEN action = 'open' THEN 1 ELSE 0 END) AS opens, SUM(CASE WHEN action = 'close' THEN 1 ELSE 0 END) AS closes FROM received GROUP BY window(time, '1 hour')")
		if err != nil {
			return err
		}
		for _, r := range rows {
			opens, err1 := strconv.Atoi(r[1])
			closes, err2 := strconv.Atoi(r[2])
			if err1 != nil || err2 != nil || closes > opens {
				return fmt.Errorf("hour %s: %s closes but %s opens", r[0], r[2], r[1])
			}
		}
		return nil
	})
	received := func(rows ...[]any) Step { // the batch twin of the stream, for the oracle
		return Execute(func(eng *streamsql.Engine) error {
			var values []string
			for _, r := range rows {
				values = append(values, fmt.Sprintf("('%s', TIMESTAMP '%s', '%s')", r[0], r[1].(time.Time).Format("2006-01-02 15:04:05"), r[2]))
			}
			_, err := eng.Exec(context.Background(), "INSERT INTO received VALUES "+strings.Join(values, ", "))
			return err
		})
	}
	add := func(rows ...[]any) []Step { return []Step{AddData("events", rows...), received(rows...)} }
	const query = "SELECT window_start, window_end, action, COUNT(*) AS count FROM %s GROUP BY action, window(time, '1 hour')"
	oracle := Execute(func(eng *streamsql.Engine) error {
		got, err := batchRows(eng, "", fmt.Sprintf(query, "received"))
		if err != nil {
			return err
		}
		want := [][]string{
			{"2024-01-01 01:00:00", "2024-01-01 02:00:00", "open", "3"},
			{"2024-01-01 01:00:00", "2024-01-01 02:00:00", "close", "2"},
			{"2024-01-01 02:00:00", "2024-01-01 03:00:00", "open", "1"},
		}
		return compare("batch query over the events received", got, want, false)
	})
	steps := []Step{}
	steps = append(steps, add(ev("phone1", 1, 5, "open"), ev("phone2", 1, 10, "open"))...) // trigger at 1:30
	steps = append(steps, CheckNewAnswer(hour(1, "open", 2)), noMoreClosesThanOpens)
	steps = append(steps, add(ev("phone1", 1, 20, "close"), ev("phone2", 1, 45, "close"))...) // trigger at 1:50
	steps = append(steps, CheckNewAnswer(hour(1, "close", 2)), noMoreClosesThanOpens)
	steps = append(steps, add(ev("phone2", 2, 1, "open"), ev("phone3", 1, 58, "open"))...) // trigger at 2:02: phone3's open is late
	steps = append(steps, CheckNewAnswer(hour(1, "open", 3), hour(2, "open", 1)), noMoreClosesThanOpens,
		CheckAnswer(hour(1, "open", 3), hour(1, "close", 2), hour(2, "open", 1)), oracle, AssertStateRows(3))
	Run(t, Setup{Keys: []string{"window_start", "window_end", "action"}, SQL: `
		CREATE SOURCE events (phone_id VARCHAR, time TIMESTAMP, action VARCHAR) WITH (connector = 'push');
		CREATE TABLE received (phone_id VARCHAR, time TIMESTAMP, action VARCHAR);
		CREATE SINK hourly WITH (connector = 'console', format = 'json', output_mode = 'update', trigger = 'manual') AS ` + fmt.Sprintf(query, "events")},
		steps...)

	// With a watermark ("Spark 2.1 added watermarks, for dropping overly old data"), a phone that
	// uploads hours late after coverage returns is dropped, and the drop is counted; phone3's
	// 1:58 open, two minutes behind, still counts.
	Run(t, Setup{Keys: []string{"window_start", "window_end", "action"}, SQL: `
		CREATE SOURCE events (phone_id VARCHAR, time TIMESTAMP, action VARCHAR, WATERMARK FOR time AS time - INTERVAL '30 minutes') WITH (connector = 'push');
		CREATE SINK hourly WITH (connector = 'console', format = 'json', output_mode = 'update', trigger = 'manual') AS ` + fmt.Sprintf(query, "events")},
		AddData("events", ev("phone1", 1, 5, "open"), ev("phone2", 2, 1, "open")),
		CheckNewAnswer(hour(1, "open", 1), hour(2, "open", 1)),
		AddData("events", ev("phone3", 1, 58, "open"), ev("phone4", 0, 40, "open")), // watermark 1:31: phone4's 0:40 is dropped
		CheckNewAnswer(hour(1, "open", 2)),
		Execute(func(eng *streamsql.Engine) error {
			if p, err := eng.QueryProgress("hourly"); err != nil || p.DroppedLateRows != 1 {
				return fmt.Errorf("progress %+v (%v): want 1 row dropped", p, err)
			}
			return nil
		}),
		CheckAnswer(hour(1, "open", 2), hour(2, "open", 1)),
	)
}

// TestSparkSocketWordCount is the lecture's network word count: a listener plays `nc -lk 9999`,
// the socket source connects to it, and the running counts are printed in complete mode.
func TestSparkSocketWordCount(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no TCP listener: %v", err)
	}
	defer ln.Close()
	conns := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			conns <- c
		}
		close(conns)
	}()
	var conn net.Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	// nc: what the user types in the netcat window.
	typeLines := func(lines ...string) Step {
		return Execute(func(*streamsql.Engine) error {
			if conn == nil {
				select {
				case conn = <-conns:
				case <-time.After(5 * time.Second):
				}
				if conn == nil {
					return fmt.Errorf("the socket source did not connect to %s", ln.Addr())
				}
			}
			w := bufio.NewWriter(conn)
			for _, l := range lines {
				w.WriteString(l + "\n")
			}
			return w.Flush()
		})
	}
	port := ln.Addr().(*net.TCPAddr).Port
	Run(t, Setup{SQL: fmt.Sprintf(`
		CREATE SOURCE lines (value VARCHAR) WITH (connector = 'socket', host = '127.0.0.1', port = '%d');
		CREATE SINK wc WITH (connector = 'console', output_mode = 'complete', format = 'json') AS
			SELECT word, COUNT(*) AS count FROM (SELECT explode(split(value, ' ')) AS word FROM lines) w GROUP BY word`, port)},
		typeLines("some text", "some more text", "even more words"),
		CheckAnswer("some,2", "text,2", "more,2", "even,1", "words,1"),
		typeLines("hi", "hi", "hello", "hi", "hello", "new", "new", "hi"),
		CheckAnswer("some,2", "text,2", "more,2", "even,1", "words,1", "hi,4", "hello,2", "new,2"),
		typeLines("hi again"),
		CheckAnswer("some,2", "text,2", "more,2", "even,1", "words,1", "hi,5", "hello,2", "new,2", "again,1"),
	)
}

// batchRows runs setup statements and then query as a batch query, rendering cells like the
// console sink does.
func batchRows(eng *streamsql.Engine, setup, query string) ([][]string, error) {
	ctx := context.Background()
	if setup != "" {
		if _, err := eng.Exec(ctx, setup); err != nil {
			return nil, err
		}
	}
	r := &runner{eng: eng, ctx: ctx}
	return r.rowsOf(query)
}

// TestSparkOrders is the lecture's brokerage example (seeds/002, "Example order.txt"): orders
// lines "time,orderId,clientId,symbol,noStocksTraded,price,B|S" (the lecture's parseOrder reads
// commas and "%Y-%m-%d %H:%M:%S"), split into 1000-line chunks like `split -l 1000 orders.txt
// chunk` and moved one by one into a watched directory; the files source reads one file per
// epoch (max_files_per_trigger = '1'). Each query is checked after every file against the same
// SQL run as a batch query over a file table of the files so far.
//
// (i) The lecture counts buys and sells per mini-batch (a DStream reduceByKey). An aggregation
// over a stream in SQL is over the whole stream, and the engine has no processing-time column to
// window on, so the per-batch count is a stateless append-mode projection whose console output
// is grouped by batch_id here — the sink's batch is the mini-batch. (ii) The running top 5
// clients by NoStocksTraded*Price is a complete-mode aggregation with ORDER BY ... LIMIT 5.
// (iii) "Top five most-traded securities during the last hour": per-hour top-N over every hour
// needs a window function or a second aggregation, neither of which runs on a stream yet, so the
// query ranks the latest hour's stocks (ORDER BY window_start DESC, traded DESC LIMIT 5), in
// complete mode over hourly event-time windows.
func TestSparkOrders(t *testing.T) {
	dir := t.TempDir()
	staging, watch := filepath.Join(dir, "staging"), filepath.Join(dir, "input")
	for _, d := range []string{staging, watch} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	chunks := writeOrderChunks(t, staging, 4000, 1000)
	const columns = "(ts TIMESTAMP, order_id BIGINT, client_id BIGINT, symbol VARCHAR, qty BIGINT, price DECIMAL(10,2), side VARCHAR)"
	queries := []struct {
		name, mode, sql string
	}{
		{"sides", "append", "SELECT side FROM %s"},
		{"top_clients", "complete", "SELECT client_id, SUM(qty * price) AS amount FROM %s GROUP BY client_id ORDER BY amount DESC, client_id LIMIT 5"},
		{"top_stocks", "complete", "SELECT window_start, window_end, symbol, SUM(qty) AS traded FROM %s GROUP BY window(ts, '1 hour'), symbol ORDER BY window_start DESC, traded DESC, symbol LIMIT 5"},
	}
	ctx := context.Background()
	type engine struct {
		eng  *streamsql.Engine
		out  *syncBuffer
		seen int // bytes of output already read
	}
	engines := make([]*engine, len(queries))
	for i, q := range queries {
		e := &engine{out: &syncBuffer{}}
		var err error
		if e.eng, err = streamsql.Open(streamsql.Options{Stdout: e.out}); err != nil {
			t.Fatal(err)
		}
		defer e.eng.Close()
		script := fmt.Sprintf(`CREATE SOURCE orders %s WITH (connector = 'files', path = '%s', format = 'csv', max_files_per_trigger = '1');
			CREATE TABLE orders_so_far %s WITH (connector = 'file', path = '%s', format = 'csv');
			CREATE SINK %s WITH (connector = 'console', format = 'json', output_mode = '%s', trigger = 'manual') AS %s`,
			columns, watch, columns, watch, q.name, q.mode, fmt.Sprintf(q.sql, "orders"))
		if _, err := e.eng.Exec(ctx, script); err != nil {
			t.Fatal(err)
		}
		engines[i] = e
	}
	newBatches := func(e *engine) map[int64][][]string {
		data := e.out.Bytes()
		batches := map[int64][][]string{}
		for _, line := range strings.Split(strings.TrimSpace(string(data[e.seen:])), "\n") {
			if line == "" {
				continue
			}
			batch, _, cells, err := parseLine([]byte(line))
			if err != nil {
				t.Fatalf("console line %q: %v", line, err)
			}
			batches[batch] = append(batches[batch], cells)
		}
		e.seen = len(data)
		return batches
	}
	for n, chunk := range chunks {
		if err := os.Rename(filepath.Join(staging, chunk), filepath.Join(watch, chunk)); err != nil {
			t.Fatal(err)
		}
		for i, q := range queries {
			e := engines[i]
			if err := e.eng.ProcessAllAvailable(ctx, q.name); err != nil {
				t.Fatalf("%s after %s: %v", q.name, chunk, err)
			}
			batches := newBatches(e)
			got, ok := batches[int64(n)]
			if len(batches) != 1 || !ok {
				t.Fatalf("%s: moving %s in should print batch %d alone, got batches %v", q.name, chunk, n, batches)
			}
			if q.name == "sides" {
				// (i) buys and sells in this mini-batch, against the chunk file alone
				counts := map[string]int{}
				for _, r := range got {
					counts[r[0]]++
				}
				gotCounts := [][]string{{"B", strconv.Itoa(counts["B"])}, {"S", strconv.Itoa(counts["S"])}}
				want, err := batchRows(e.eng, fmt.Sprintf("CREATE TABLE %s %s WITH (connector = 'file', path = '%s', format = 'csv')", chunk, columns, filepath.Join(watch, chunk)),
					fmt.Sprintf("SELECT side, COUNT(*) FROM %s GROUP BY side", chunk))
				if err != nil {
					t.Fatal(err)
				}
				if err := compare(fmt.Sprintf("buys and sells of batch %d", n), gotCounts, want, false); err != nil {
					t.Fatal(err)
				}
				if len(got) != 1000 {
					t.Fatalf("batch %d has %d orders, the chunk 1000", n, len(got))
				}
				continue
			}
			want, err := batchRows(e.eng, "", fmt.Sprintf(q.sql, "orders_so_far"))
			if err != nil {
				t.Fatal(err)
			}
			if len(want) != 5 {
				t.Fatalf("%s: the batch oracle has %d rows, want 5", q.name, len(want))
			}
			if err := compare(fmt.Sprintf("%s after %d files", q.name, n+1), got, want, true); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// writeOrderChunks writes a deterministic orders.txt of n lines in dir and splits it into chunks
// of size lines named chunkaa, chunkab, ... (split -l size orders.txt chunk); it returns the
// chunk names. Order times advance about 3 seconds a line with up to a minute of disorder, so the
// four chunks of 1000 lines cover four hours.
func writeOrderChunks(t *testing.T, dir string, n, size int) []string {
	t.Helper()
	rng := rand.New(rand.NewPCG(2016, 322))
	symbols := []string{"EPE", "NFLX", "VALE", "SRPT", "BP", "MNKD", "CHK", "Z", "AU", "CTRE", "WLL", "AAPL", "MSFT", "GOOG", "AMZN"}
	base := time.Date(2016, 3, 22, 20, 0, 0, 0, time.UTC)
	var lines []string
	for i := 0; i < n; i++ {
		ts := base.Add(time.Duration(i*3+rng.IntN(60)) * time.Second)
		side := "B"
		if rng.IntN(2) == 0 {
			side = "S"
		}
		lines = append(lines, fmt.Sprintf("%s,%d,%d,%s,%d,%d.%02d,%s", ts.Format("2006-01-02 15:04:05"), i+1, 1+rng.IntN(100),
			symbols[rng.IntN(len(symbols))], 1+rng.IntN(1000), 1+rng.IntN(99), rng.IntN(100), side))
	}
	if err := os.WriteFile(filepath.Join(dir, "orders.txt"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var names []string
	for c := 0; c*size < n; c++ {
		name := fmt.Sprintf("chunk%c%c", 'a'+c/26, 'a'+c%26)
		part := lines[c*size : min((c+1)*size, n)]
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.Join(part, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	return names
}

// TestExampleScriptsRun runs the non-socket scripts of examples/streaming with the streamsql CLI,
// as a newcomer would: with trigger = 'available_now' they process their files and exit 0, and
// their last batches equal the batch queries over the same files.
func TestExampleScriptsRun(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to build cmd/streamsql")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "streamsql")
	if out, err := exec.Command(goTool, "build", "-o", bin, filepath.Join(root, "cmd", "streamsql")).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	run := func(script string) string {
		cmd := exec.Command(bin, "run", "-f", filepath.Join("examples", "streaming", script))
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("streamsql run -f %s: %v\n%s", script, err, out)
		}
		return string(out)
	}
	// oracle renders a batch query over a file table of the example's data as the console prints it.
	oracle := func(table, query string) string {
		eng, err := streamsql.Open(streamsql.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer eng.Close()
		if _, err := eng.Exec(context.Background(), table); err != nil {
			t.Fatal(err)
		}
		res, err := eng.Query(context.Background(), query)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Release()
		var sb strings.Builder
		if err := sinks.WriteTable(&sb, res.Schema, res.Records); err != nil {
			t.Fatal(err)
		}
		return sb.String()
	}
	phones := run("phone_events.sql")
	lastBatch := "Batch: 2\n-------------------------------------------\n" +
		oracle("", "SELECT TIMESTAMP '2024-01-01 01:00:00' AS window_start, TIMESTAMP '2024-01-01 02:00:00' AS window_end, 'open' AS action, 3 AS count UNION ALL SELECT TIMESTAMP '2024-01-01 02:00:00', TIMESTAMP '2024-01-01 03:00:00', 'open', 1")
	if !strings.Contains(phones, lastBatch) || strings.Count(phones, "Batch: ") != 3 {
		t.Errorf("phone_events.sql: want 3 batches, the last being\n%s\ngot\n%s", lastBatch, phones)
	}
	orders := run("orders.sql")
	table := fmt.Sprintf("CREATE TABLE orders (ts TIMESTAMP, order_id BIGINT, client_id BIGINT, symbol VARCHAR, qty BIGINT, price DECIMAL(10,2), side VARCHAR) WITH (connector = 'file', path = '%s', format = 'csv')",
		filepath.Join(root, "examples", "streaming", "orders"))
	for _, q := range []string{
		"SELECT client_id, SUM(qty * price) AS amount FROM orders GROUP BY client_id ORDER BY amount DESC, client_id LIMIT 5",
		"SELECT window_start, window_end, symbol, SUM(qty) AS traded FROM orders GROUP BY window(ts, '1 hour'), symbol ORDER BY window_start DESC, traded DESC, symbol LIMIT 5",
	} {
		want := "Batch: 2\n-------------------------------------------\n" + oracle(table, q)
		if !strings.Contains(orders, want) {
			t.Errorf("orders.sql: the last batch should be the batch query's result\n%s\ngot\n%s", want, orders)
		}
	}
	if got := strings.Count(orders, "CREATE SINK"); got != 3 {
		t.Errorf("orders.sql: %d sinks finished, want 3:\n%s", got, orders)
	}
	// The stream-static join: the view equals the batch join over the same files and table.
	joined := run("customers_join.sql")
	want := oracle(fmt.Sprintf("CREATE TABLE orders (customer_id BIGINT, amount BIGINT) WITH (connector = 'file', path = '%s', format = 'json'); "+
		"CREATE TABLE customers (customer_id BIGINT, name VARCHAR, country VARCHAR); INSERT INTO customers VALUES (1, 'alice', 'FR'), (2, 'bob', 'US')",
		filepath.Join(root, "examples", "streaming", "customers_join")),
		"SELECT country, COUNT(*) AS orders, SUM(amount) AS total FROM orders JOIN customers USING (customer_id) GROUP BY country ORDER BY country")
	if !strings.Contains(joined, want) {
		t.Errorf("customers_join.sql: want the batch join\n%s\ngot\n%s", want, joined)
	}
	// Two streams, read one file per epoch: every view equals its batch query over the files.
	two := run("two_streams.sql")
	dir := filepath.Join(root, "examples", "streaming", "two_streams")
	tables := fmt.Sprintf("CREATE TABLE orders (order_id BIGINT, customer VARCHAR, amount BIGINT) WITH (connector = 'file', path = '%s', format = 'json'); "+
		"CREATE TABLE payments (order_id BIGINT, paid BIGINT) WITH (connector = 'file', path = '%s', format = 'json')",
		filepath.Join(dir, "orders"), filepath.Join(dir, "payments"))
	for _, q := range []string{
		"SELECT o.order_id AS order_id, p.order_id AS payment_for, o.amount, SUM(p.paid) AS paid FROM orders o FULL OUTER JOIN payments p ON o.order_id = p.order_id GROUP BY o.order_id, p.order_id, o.amount ORDER BY order_id NULLS LAST, payment_for",
		"SELECT n AS orders, COUNT(*) AS customers FROM (SELECT customer, COUNT(*) AS n FROM orders GROUP BY customer) t GROUP BY n ORDER BY orders",
		"SELECT customer, SUM(amount) AS total FROM orders GROUP BY customer ORDER BY total DESC LIMIT 2",
	} {
		if want := oracle(tables, q); !strings.Contains(two, want) {
			t.Errorf("two_streams.sql: want the batch query's result\n%s\ngot\n%s", want, two)
		}
	}
}
