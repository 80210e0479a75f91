package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRunHTTP: `run --http` serves the console and the API while its continuous query runs, stops
// serving when the run ends, and refuses a non-loopback address (run has no password).
func TestRunHTTP(t *testing.T) {
	var stderr bytes.Buffer
	if code := runCommand([]string{"-f", "x.sql", "--http", "0.0.0.0:0"}, nil, io.Discard, &stderr); code != 2 || !strings.Contains(stderr.String(), "refusing to serve --http on 0.0.0.0:0") {
		t.Fatalf("non-loopback: exit %d, %s", code, stderr.String())
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.Mkdir(in, 0o755)
	os.WriteFile(filepath.Join(in, "1.csv"), []byte("1\n2\n"), 0o600)
	script := filepath.Join(dir, "run.sql")
	// The query runs until a bad record (on_error = 'fail') ends it, and the run with it.
	os.WriteFile(script, []byte(`CREATE SOURCE f (v BIGINT) WITH (connector = 'files', path = '`+in+`', format = 'csv', on_error = 'fail');
		CREATE MATERIALIZED VIEW c AS SELECT COUNT(*) AS n FROM f;`), 0o600)
	addrs := make(chan net.Addr, 1)
	onHTTPListen = func(a net.Addr) { addrs <- a }
	t.Cleanup(func() { onHTTPListen = nil })
	done := make(chan int, 1)
	var errOut syncBuffer
	go func() { done <- runCommand([]string{"-f", script, "--http", "127.0.0.1:0"}, nil, io.Discard, &errOut) }()
	var base string
	select {
	case a := <-addrs:
		base = "http://" + a.String()
	case code := <-done:
		t.Fatalf("run exited %d before serving: %s", code, errOut.String())
	}
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/"); code != 200 || !strings.Contains(body, "<title>streamsql console</title>") {
		t.Fatalf("/: %d %.200s", code, body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body := get("/api/queries")
		var qs []struct {
			Name string
			Last *struct{ BatchID int64 } `json:"lastProgress"`
		}
		if err := json.Unmarshal([]byte(body), &qs); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		if len(qs) == 1 && qs[0].Name == "c" && qs[0].Last != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("query c never showed progress: %s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	os.WriteFile(filepath.Join(in, ".2.csv"), []byte("x\n"), 0o600)
	os.Rename(filepath.Join(in, ".2.csv"), filepath.Join(in, "2.csv"))
	select {
	case code := <-done:
		if code != 1 || !strings.Contains(errOut.String(), "query c failed") {
			t.Fatalf("run exit %d, want 1 with the failure: %s", code, errOut.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not end with its failed query")
	}
	if !strings.Contains(errOut.String(), "streamsql run: web console at "+base+"/") {
		t.Errorf("run does not name the console: %s", errOut.String())
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("the console still answers after the run ended")
	}
}
