package streamsql

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/sinks"
)

// statusSink reports a retry status through sinks.Config.Status when written, as a SQL sink
// retrying an outage does.
type statusSink struct{ cfg sinks.Config }

func (s *statusSink) Open(*arrow.Schema, sinks.OutputMode, []int) error { return nil }
func (s *statusSink) Close() error                                      { return nil }
func (s *statusSink) Write(_ context.Context, _ int64, _ []exec.Delta) error {
	s.cfg.Status("retrying write of epoch 0 since 2026-01-02T03:04:05Z (attempt 3, next in 400ms): dial tcp 127.0.0.1:1: connect: connection refused")
	return nil
}

// TestSinkRetryStatusIsShown: the status a sink reports appears in SHOW QUERIES (error column),
// DESCRIBE QUERY (sinkStatus) and QueryInfo (the HTTP /api/queries JSON).
func TestSinkRetryStatusIsShown(t *testing.T) {
	eng, err := Open(Options{SinkConnectors: map[string]func(sinks.Config) (sinks.Sink, error){
		"flaky": func(cfg sinks.Config) (sinks.Sink, error) { return &statusSink{cfg}, nil }}})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	mustExec(t, eng, "CREATE SOURCE p (v BIGINT) WITH (connector = 'push')")
	mustExec(t, eng, "CREATE SINK o WITH (connector = 'flaky', trigger = 'manual') AS SELECT v FROM p")
	if err := eng.Push("p", [][]any{{int64(1)}}); err != nil {
		t.Fatal(err)
	}
	ckptProcess(t, eng, "o")
	const want = "retrying write of epoch 0 since 2026-01-02T03:04:05Z (attempt 3, next in 400ms)"
	if got := strings.Join(query(t, eng, "SHOW QUERIES"), "\n"); !strings.Contains(got, "sink "+want) {
		t.Fatalf("SHOW QUERIES:\n%s", got)
	}
	if got := strings.Join(query(t, eng, "DESCRIBE QUERY o"), "\n"); !strings.Contains(got, `"sinkStatus": "`+want) || !strings.Contains(got, `"batchId": 0`) {
		t.Fatalf("DESCRIBE QUERY:\n%s", got)
	}
	if info, ok := eng.QueryInfo("o"); !ok || !strings.Contains(info.SinkStatus, want) {
		t.Fatalf("QueryInfo: %+v", info)
	}
}
