package sinks

import (
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSQLSinkRetryStatus: while a SQL sink retries an unreachable database it logs a line per
// attempt and reports, through Config.Status, since when it retries, the attempt, the next delay
// and the cause (without the password); the status is cleared when it gives up.
func TestSQLSinkRetryStatus(t *testing.T) {
	var mu sync.Mutex
	var statuses []string
	var logBuf syncBuffer
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s, err := NewPostgres(Config{Query: "q", Options: map[string]string{"url": "postgres://u:secretpw@127.0.0.1:1/db?connect_timeout=1", "table": "t"},
		Logger: slog.New(slog.NewTextHandler(&logBuf, nil)), Clock: func() time.Time { return start },
		Status: func(st string) { mu.Lock(); statuses = append(statuses, st); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.(*sqlSink).openTimeout = 1200 * time.Millisecond
	err = s.Open(rejectSchema, Append, nil)
	if err == nil || !strings.Contains(err.Error(), "gave up after") {
		t.Fatalf("Open of an unreachable database: err = %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(statuses) < 3 || statuses[len(statuses)-1] != "" {
		t.Fatalf("statuses %q: want retries then a cleared status", statuses)
	}
	second := statuses[1]
	for _, want := range []string{"retrying open since 2026-01-02T03:04:05Z", "attempt 2", "next in 200ms", "connect"} {
		if !strings.Contains(second, want) {
			t.Fatalf("status %q lacks %q", second, want)
		}
	}
	logs := logBuf.String()
	if strings.Count(logs, "failed, retrying") < 2 || !strings.Contains(logs, "attempt=2") || !strings.Contains(logs, "backoff=200ms") {
		t.Fatalf("retry log lines:\n%s", logs)
	}
	if strings.Contains(logs+strings.Join(statuses, "\n"), "secretpw") {
		t.Fatalf("the password leaked:\n%s\n%q", logs, statuses)
	}
}
