package streamsql

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/incremental"
	"github.com/streamsql/streamsql/sinks"
)

// reviewSink is a test sink connector ("review_sink"): it records every row it is given as
// "epoch:col1,col2,...", fails the Write of the epochs listed in its failEpochs option once each,
// and counts Close calls, so the tests below can see what a query hands its sink.
type reviewSink struct {
	mu       sync.Mutex
	rows     []string
	failOnce map[int64]bool
	closed   int
	panicAt  int64 // Write panics at this epoch (-1: never)
	closeErr bool  // Close fails
}

var reviewSinks = struct {
	mu sync.Mutex
	m  map[string]*reviewSink // by the option "id"
}{m: map[string]*reviewSink{}}

// reviewOptions are engine options with the review_sink connector plugged in.
func reviewOptions(o Options) Options {
	o.SinkConnectors = map[string]func(sinks.Config) (sinks.Sink, error){"review_sink": openReviewSink}
	return o
}

func openReviewSink(cfg sinks.Config) (sinks.Sink, error) {
	s := &reviewSink{failOnce: map[int64]bool{}, panicAt: -1, closeErr: cfg.Options["close_error"] == "true"}
	if v, ok := cfg.Options["panic_epoch"]; ok {
		fmt.Sscan(v, &s.panicAt)
	}
	for _, e := range strings.Split(cfg.Options["fail_epochs"], ",") {
		var n int64
		if _, err := fmt.Sscan(e, &n); err == nil {
			s.failOnce[n] = true
		}
	}
	reviewSinks.mu.Lock()
	reviewSinks.m[cfg.Options["id"]] = s
	reviewSinks.mu.Unlock()
	return s, nil
}

func reviewSinkByID(id string) *reviewSink {
	reviewSinks.mu.Lock()
	defer reviewSinks.mu.Unlock()
	return reviewSinks.m[id]
}

func (s *reviewSink) Open(schema *arrow.Schema, mode sinks.OutputMode, keys []int) error {
	if mode == sinks.Complete {
		return errors.New("review_sink does not take complete mode")
	}
	return nil
}

func (s *reviewSink) Write(ctx context.Context, epoch int64, deltas []exec.Delta) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if epoch == s.panicAt {
		var m map[string]int
		m["boom"]++ // a connector bug: assignment to a nil map
	}
	if s.failOnce[epoch] {
		delete(s.failOnce, epoch)
		return fmt.Errorf("injected failure at epoch %d", epoch)
	}
	for _, d := range deltas {
		r := d.Rec
		for i := 0; i < int(r.NumRows()); i++ {
			var cols []string
			for c := 0; c < int(r.NumCols()); c++ {
				cols = append(cols, r.Column(c).(interface{ ValueStr(int) string }).ValueStr(i))
			}
			s.rows = append(s.rows, fmt.Sprintf("%d:%s", epoch, strings.Join(cols, ",")))
		}
	}
	return nil
}

func (s *reviewSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed++
	if s.closeErr {
		return errors.New("injected close failure")
	}
	return nil
}

func (s *reviewSink) snapshot() ([]string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string{}, s.rows...), s.closed
}

const reviewSource = "CREATE SOURCE ev (k VARCHAR, v BIGINT) WITH (connector = 'push');"

// A manual-trigger query whose sink failed mid-epoch must not run the epoch's input through its
// operators a second time on the next ProcessAllAvailable: that double-counts the aggregate (and,
// had the source grown in between, re-runs the epoch with other ranges than its offsets file).
func TestReviewFailedEpochIsNotRerunOnTopOfItsOwnState(t *testing.T) {
	ctx := context.Background()
	e, err := Open(reviewOptions(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.Exec(ctx, reviewSource+`CREATE SINK out WITH (connector = 'review_sink', id = 'rerun', fail_epochs = '1', output_mode = 'update', trigger = 'manual')
		AS SELECT k, COUNT(*) AS n FROM ev GROUP BY k`); err != nil {
		t.Fatal(err)
	}
	if err := e.Push("ev", [][]any{{"a", 1}}); err != nil {
		t.Fatal(err)
	}
	if err := e.ProcessAllAvailable(ctx, "out"); err != nil {
		t.Fatal(err)
	}
	if err := e.Push("ev", [][]any{{"a", 2}}); err != nil {
		t.Fatal(err)
	}
	if err := e.ProcessAllAvailable(ctx, "out"); err == nil || !strings.Contains(err.Error(), "injected failure") {
		t.Fatalf("epoch 1: got %v, want the sink's injected failure", err)
	}
	err = e.ProcessAllAvailable(ctx, "out")
	rows, _ := reviewSinkByID("rerun").snapshot()
	for _, r := range rows {
		if r == "1:a,3" {
			t.Fatalf("after a failed epoch the retry counted its rows twice: sink got %v", rows)
		}
	}
	if err == nil {
		// A retry may succeed only with the right answer.
		if want := []string{"0:a,1", "1:a,2"}; fmt.Sprint(rows) != fmt.Sprint(want) {
			t.Fatalf("sink rows %v, want %v", rows, want)
		}
		return
	}
	if st, qerr := e.queries.get("out").q.Status(); st != incremental.StatusFailed || qerr == nil || !strings.Contains(qerr.Error(), "injected failure") {
		t.Fatalf("status %s (%v), want failed with the sink's error", st, qerr)
	}
}

// A CREATE SINK that fails after its sink connector was constructed (here: the output mode is
// rejected by the sink's Open, and in the second case by the incremental check) must close the
// sink and must not leave the checkpoint directory it created, nor a registered query.
func TestReviewFailedCreateSinkCleansUp(t *testing.T) {
	ctx := context.Background()
	for i, c := range []struct{ stmt, want string }{
		{`CREATE SINK s0 WITH (connector = 'review_sink', id = 'fail0', output_mode = 'complete') AS SELECT k, COUNT(*) AS n FROM ev GROUP BY k`, "complete"},
		{`CREATE SINK s1 WITH (connector = 'review_sink', id = 'fail1', output_mode = 'append') AS SELECT k, COUNT(*) AS n FROM ev GROUP BY k`, "append"},
	} {
		dir := t.TempDir()
		e, err := Open(reviewOptions(Options{DataDir: dir}))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Exec(ctx, reviewSource); err != nil {
			t.Fatal(err)
		}
		_, err = e.Exec(ctx, c.stmt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("case %d: got %v, want an error about %s", i, err, c.want)
		}
		if _, closed := reviewSinkByID(fmt.Sprintf("fail%d", i)).snapshot(); closed != 1 {
			t.Errorf("case %d: the sink was closed %d times, want 1", i, closed)
		}
		name := fmt.Sprintf("s%d", i)
		if _, err := os.Stat(filepath.Join(dir, "checkpoints", name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("case %d: checkpoint directory left behind (stat: %v)", i, err)
		}
		if len(e.Queries()) != 0 {
			t.Errorf("case %d: a query is registered: %+v", i, e.Queries())
		}
		e.Close()
	}
}

// Stop may be reached twice (DROP racing Engine.Close, or a temporary SUBSCRIBE view closed by
// its ctx and by Close); the second call must neither panic nor close the sink again.
func TestReviewStopTwice(t *testing.T) {
	ctx := context.Background()
	e, err := Open(reviewOptions(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.Exec(ctx, reviewSource+`CREATE SINK out WITH (connector = 'review_sink', id = 'stop2', output_mode = 'update', trigger = 'manual')
		AS SELECT k, COUNT(*) AS n FROM ev GROUP BY k`); err != nil {
		t.Fatal(err)
	}
	if err := e.Push("ev", [][]any{{"a", 1}}); err != nil {
		t.Fatal(err)
	}
	if err := e.ProcessAllAvailable(ctx, "out"); err != nil {
		t.Fatal(err)
	}
	q := e.queries.get("out").q
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := q.Stop(); err != nil {
				t.Errorf("Stop: %v", err)
			}
		}()
	}
	wg.Wait()
	if _, closed := reviewSinkByID("stop2").snapshot(); closed != 1 {
		t.Errorf("sink closed %d times, want 1", closed)
	}
}

// Concurrency smoke test for the race detector: a background query and a manual one run while
// other goroutines push, drive epochs, list queries, describe them, and finally DROP them while
// ProcessAllAvailable may be running. The answer is checked against the pushed rows.
func TestReviewConcurrentControl(t *testing.T) {
	ctx := context.Background()
	e, err := Open(reviewOptions(Options{DataDir: t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.Exec(ctx, reviewSource+`
		CREATE MATERIALIZED VIEW bg AS SELECT k, COUNT(*) AS n FROM ev GROUP BY k;
		CREATE MATERIALIZED VIEW man WITH (trigger = 'manual') AS SELECT k, COUNT(*) AS n FROM ev GROUP BY k`); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(3)
	go func() {
		defer wg.Done()
		for i := 0; i < 200; i++ {
			if err := e.Push("ev", [][]any{{"a", i}}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			_ = e.ProcessAllAvailable(ctx, "bg")
			_ = e.ProcessAllAvailable(ctx, "man")
		}
	}()
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := e.Exec(ctx, "SHOW QUERIES"); err != nil {
				t.Error(err)
			}
			_ = e.Queries()
			_, _ = e.QueryInfo("bg")
			_, _ = e.Exec(ctx, "DESCRIBE QUERY man")
		}
	}()
	// Let the pusher finish, then check both views saw every row.
	for i := 0; i < 1000; i++ {
		if err := e.ProcessAllAvailable(ctx, "man"); err != nil {
			t.Fatal(err)
		}
		if err := e.ProcessAllAvailable(ctx, "bg"); err != nil {
			t.Fatal(err)
		}
		r1, err1 := e.Query(ctx, "SELECT n FROM man")
		r2, err2 := e.Query(ctx, "SELECT n FROM bg")
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		done := r1.NumRows() == 1 && r2.NumRows() == 1 && r1.Records[0].Column(0).(*array.Int64).Value(0) == 200 && r2.Records[0].Column(0).(*array.Int64).Value(0) == 200
		if done {
			break
		}
		if i == 999 {
			t.Fatalf("views never reached 200 rows")
		}
	}
	if _, err := e.Exec(ctx, "DROP MATERIALIZED VIEW man; DROP MATERIALIZED VIEW bg"); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
}

// A panic inside an epoch (here a sink connector bug) must fail that query with an error, as
// execOne does for statements, not kill the process from the query's goroutine.
func TestReviewPanicInEpochFailsTheQuery(t *testing.T) {
	ctx := context.Background()
	e, err := Open(reviewOptions(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.Exec(ctx, reviewSource+`CREATE SINK out WITH (connector = 'review_sink', id = 'panic', panic_epoch = '0', output_mode = 'update')
		AS SELECT k, COUNT(*) AS n FROM ev GROUP BY k`); err != nil {
		t.Fatal(err)
	}
	if err := e.Push("ev", [][]any{{"a", 1}}); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err = e.queries.get("out").q.Wait(wctx)
	if err == nil || !strings.Contains(err.Error(), "internal error") || !strings.Contains(err.Error(), "nil map") {
		t.Fatalf("got %v, want the query failed with an internal error naming the panic", err)
	}
	if st, _ := e.queries.get("out").q.Status(); st != incremental.StatusFailed {
		t.Fatalf("status %s, want failed", st)
	}
}

// DROP forgets the query even when closing its sink fails: the checkpoint must not survive, or a
// later CREATE under the same name would silently resume the dropped query.
func TestReviewDropRemovesCheckpointEvenIfCloseFails(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e, err := Open(reviewOptions(Options{DataDir: dir}))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.Exec(ctx, reviewSource+`CREATE SINK out WITH (connector = 'review_sink', id = 'closeerr', close_error = 'true', output_mode = 'update', trigger = 'manual')
		AS SELECT k, COUNT(*) AS n FROM ev GROUP BY k`); err != nil {
		t.Fatal(err)
	}
	if err := e.Push("ev", [][]any{{"a", 1}}); err != nil {
		t.Fatal(err)
	}
	if err := e.ProcessAllAvailable(ctx, "out"); err != nil {
		t.Fatal(err)
	}
	_, err = e.Exec(ctx, "DROP SINK out")
	if err == nil || !strings.Contains(err.Error(), "injected close failure") {
		t.Fatalf("DROP: got %v, want the sink's close error reported", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "checkpoints", "out")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("checkpoint of the dropped query survived (stat: %v)", err)
	}
}

// An absurdly large max_future must not overflow the clock + max_future limit (which would
// count every event as "from the future" and freeze the watermark).
func TestReviewHugeMaxFutureDoesNotFreezeWatermark(t *testing.T) {
	ctx := context.Background()
	e, err := Open(reviewOptions(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.Exec(ctx, `CREATE SOURCE ev (k VARCHAR, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '1 minute') WITH (connector = 'push', max_future = '106750000 days');
		CREATE MATERIALIZED VIEW mv WITH (trigger = 'manual') AS SELECT k, COUNT(*) AS n FROM ev GROUP BY k`); err != nil {
		t.Fatal(err)
	}
	if err := e.Push("ev", [][]any{{"a", time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)}}); err != nil {
		t.Fatal(err)
	}
	if err := e.ProcessAllAvailable(ctx, "mv"); err != nil {
		t.Fatal(err)
	}
	p, err := e.QueryProgress("mv")
	if err != nil {
		t.Fatal(err)
	}
	if p.NextWatermark != "2024-01-01 11:59:00" || p.Sources[0].FutureRows != 0 {
		t.Fatalf("next watermark %s with %d future rows, want 2024-01-01 11:59:00 and 0", p.NextWatermark, p.Sources[0].FutureRows)
	}
}
