package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestServeHTTPRefusesNonLoopbackWithoutPassword(t *testing.T) {
	t.Setenv("STREAMSQL_PASSWORD", "")
	var stderr bytes.Buffer
	code := serve(context.Background(), []string{"--listen", "127.0.0.1:0", "--http", "0.0.0.0:0"}, &bytes.Buffer{}, &stderr, nil)
	if code != 2 || !strings.Contains(stderr.String(), "refusing to serve --http on 0.0.0.0:0 without a password") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	stderr.Reset()
	if code := serve(context.Background(), []string{"--http", "nonsense"}, &bytes.Buffer{}, &stderr, nil); code != 2 || !strings.Contains(stderr.String(), `--http address "nonsense"`) {
		t.Fatalf("bad address: exit %d, stderr %q", code, stderr.String())
	}
}

// TestServeHTTP runs serve with --http and a password on loopback: /metrics needs the password,
// shows the init script's query, and the logs name the query's start and its stop at shutdown.
func TestServeHTTP(t *testing.T) {
	srv := startServeHTTP(t, `CREATE SOURCE g (id BIGINT) WITH (connector = 'datagen', rows_per_second = '1000');
		CREATE MATERIALIZED VIEW c AS SELECT COUNT(*) AS n FROM g;`, "pw-for-http")
	base, stderr := srv.base, srv.stderr
	get := func(path string, auth bool) (int, string) {
		req, _ := http.NewRequest("GET", base+path, nil)
		if auth {
			req.SetBasicAuth("ops", "pw-for-http")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/metrics", false); code != http.StatusUnauthorized {
		t.Fatalf("/metrics without the password: %d", code)
	}
	if code, body := get("/healthz", false); code != 200 || body != "ok\n" {
		t.Fatalf("/healthz: %d %q", code, body)
	}
	// The datagen source produces 1000 rows/s: wait for some to be counted.
	re := regexp.MustCompile(`(?m)^streamsql_query_input_rows_total\{query="c"\} (\d+)$`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := get("/metrics", true)
		if code != 200 {
			t.Fatalf("/metrics: %d %s", code, body)
		}
		if m := re.FindStringSubmatch(body); m != nil {
			if n, _ := strconv.Atoi(m[1]); n > 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no input rows counted for query c:\n%s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code := srv.stop(); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	logs := stderr.String()
	for _, want := range []string{`msg="serving HTTP (/metrics, /api/queries, /healthz)"`, `msg="query started" query=c`, `msg="query stopped" query=c`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "pw-for-http") {
		t.Errorf("the password appears in the logs:\n%s", logs)
	}
}
