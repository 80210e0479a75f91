package main

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// servedHTTP is a `streamsql serve --listen 127.0.0.1:0 --http 127.0.0.1:0 -f init.sql` running in
// the test: base is its HTTP address, stop cancels it and returns its exit code.
type servedHTTP struct {
	base   string
	stderr *syncBuffer
	stop   func() int
}

// startServeHTTP writes initScript to a file, starts serve with it and waits for the HTTP
// listener. STREAMSQL_PASSWORD is set to password for the test ("" for none). The server is
// stopped at the end of the test if stop was not called.
func startServeHTTP(t *testing.T, initScript, password string) *servedHTTP {
	t.Helper()
	initSQL := filepath.Join(t.TempDir(), "init.sql")
	if err := os.WriteFile(initSQL, []byte(initScript), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("STREAMSQL_PASSWORD", password)
	httpAddrs := make(chan net.Addr, 1)
	onHTTPListen = func(a net.Addr) { httpAddrs <- a }
	t.Cleanup(func() { onHTTPListen = nil })
	ctx, cancel := context.WithCancel(context.Background())
	s := &servedHTTP{stderr: &syncBuffer{}}
	done := make(chan int, 1)
	go func() {
		done <- serve(ctx, []string{"--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "-f", initSQL}, io.Discard, s.stderr, nil)
	}()
	stopped, code := false, 0
	s.stop = func() int {
		if stopped {
			return code
		}
		stopped = true
		cancel()
		select {
		case code = <-done:
		case <-time.After(10 * time.Second):
			t.Error("serve did not stop within 10 s")
			code = -1
		}
		return code
	}
	t.Cleanup(func() { s.stop() })
	select {
	case a := <-httpAddrs:
		s.base = "http://" + a.String()
	case code := <-done:
		stopped = true
		t.Fatalf("serve exited %d: %s", code, s.stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start listening")
	}
	return s
}
