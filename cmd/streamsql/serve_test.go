package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// syncBuffer is a bytes.Buffer safe for the server's logger and the test reading it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServeRefusesNonLoopbackWithoutPassword(t *testing.T) {
	t.Setenv("STREAMSQL_PASSWORD", "")
	var stderr bytes.Buffer
	code := serve(context.Background(), []string{"--listen", "0.0.0.0:0"}, &bytes.Buffer{}, &stderr, nil)
	if code != 2 || !strings.Contains(stderr.String(), "without a password") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	stderr.Reset()
	if code := serve(context.Background(), []string{"--tls-cert", "x.pem"}, &bytes.Buffer{}, &stderr, nil); code != 2 || !strings.Contains(stderr.String(), "go together") {
		t.Fatalf("half a TLS pair: exit %d, stderr %q", code, stderr.String())
	}
}

func TestServeRunsInitScriptAndStopsOnSignal(t *testing.T) {
	dir := t.TempDir()
	initSQL := filepath.Join(dir, "init.sql")
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(initSQL, []byte("CREATE TABLE kv (k VARCHAR, v BIGINT); INSERT INTO kv VALUES ('a', 1), ('b', 2);"), 0o600)
	os.WriteFile(pwFile, []byte("hunter2-secret\n"), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan net.Addr, 1)
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- serve(ctx, []string{"--listen", "127.0.0.1:0", "-f", initSQL, "--password-file", pwFile, "--log-level", "debug"},
			&bytes.Buffer{}, &stderr, func(a net.Addr) { addrs <- a })
	}()
	var addr net.Addr
	select {
	case addr = <-addrs:
	case code := <-done:
		t.Fatalf("serve exited %d: %s", code, stderr.String())
	}
	cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer ccancel()
	c, err := pgx.Connect(cctx, "postgres://u:hunter2-secret@"+addr.String()+"/db?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	if err := c.QueryRow(cctx, "SELECT sum(v) FROM kv").Scan(&sum); err != nil || sum != 3 {
		t.Fatalf("sum %d err %v", sum, err)
	}
	if _, err := c.Exec(cctx, "SELECT 1/0"); err == nil {
		t.Fatal("want division by zero")
	}
	c.Close(cctx)
	cancel() // what SIGINT/SIGTERM do
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
	logs := stderr.String()
	if strings.Contains(logs, "hunter2") {
		t.Fatalf("the password appears in the logs:\n%s", logs)
	}
	if !strings.Contains(logs, "serving the PostgreSQL wire protocol") || !strings.Contains(logs, `msg="statement failed"`) {
		t.Fatalf("logs:\n%s", logs)
	}
}

func TestServeRefusesWhitespacePassword(t *testing.T) {
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("  \t \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	code := serve(context.Background(), []string{"--listen", "127.0.0.1:0", "--password-file", pwFile}, &bytes.Buffer{}, &stderr, nil)
	if code != 2 || !strings.Contains(stderr.String(), "only white space") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	t.Setenv("STREAMSQL_PASSWORD", "   ")
	stderr.Reset()
	code = serve(context.Background(), []string{"--listen", "127.0.0.1:0"}, &bytes.Buffer{}, &stderr, nil)
	if code != 2 || !strings.Contains(stderr.String(), "only white space") {
		t.Fatalf("env: exit %d, stderr %q", code, stderr.String())
	}
}
