package server

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/streamsql/streamsql/incremental"
)

// post sends a console request as the page does (JSON), with optional extra headers.
func (f *opsFixture) post(t *testing.T, path, body string, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", f.http.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestConsoleSQL(t *testing.T) {
	f := startOps(t, "")
	mustRun(t, f.eng, `CREATE TABLE t (k VARCHAR, v BIGINT, ts TIMESTAMP, d DOUBLE PRECISION);
		INSERT INTO t VALUES ('a', 1, TIMESTAMP '2024-01-01 00:00:01', 0.5), ('b', NULL, TIMESTAMP '2024-01-01 00:00:02.25', 1.5);
		CREATE VIEW tv AS SELECT k, v, ts, d FROM t`)
	code, body := f.post(t, "/api/sql", `{"sql": "SELECT * FROM tv ORDER BY k"}`, nil)
	if code != 200 {
		t.Fatalf("SELECT: %d %s", code, body)
	}
	var ans sqlAnswer
	if err := json.Unmarshal([]byte(body), &ans); err != nil {
		t.Fatal(err)
	}
	if len(ans.Results) != 1 || ans.Error != nil {
		t.Fatalf("answer %+v", ans)
	}
	r := ans.Results[0]
	types := []string{}
	for _, c := range r.Columns {
		types = append(types, c.Name+" "+c.Type)
	}
	if strings.Join(types, ", ") != "k character varying, v bigint, ts timestamp without time zone, d double precision" {
		t.Errorf("columns %v", types)
	}
	rows, _ := json.Marshal(r.Rows)
	want := `[["a",1,"2024-01-01T00:00:01Z",0.5],["b",null,"2024-01-01T00:00:02.25Z",1.5]]`
	if string(rows) != want {
		t.Errorf("rows %s, want %s", rows, want)
	}

	// A syntax error in the second line of the second statement: the first ran, the error
	// points at the offending token.
	code, body = f.post(t, "/api/sql", `{"sql": "SELECT 1;\nSELECT k\n  FROM tv WHERE WHERE"}`, nil)
	ans = sqlAnswer{}
	if err := json.Unmarshal([]byte(body), &ans); err != nil {
		t.Fatal(err)
	}
	if code != http.StatusUnprocessableEntity || len(ans.Results) != 1 || ans.Error == nil {
		t.Fatalf("syntax error: %d %s", code, body)
	}
	e := ans.Error
	if e.Line != 3 || e.Column != 17 || e.Text != "  FROM tv WHERE WHERE" || e.Caret != strings.Repeat(" ", 16)+"^" || e.Code != "42601" || e.Position != 35 {
		t.Errorf("error %+v, want line 3 column 17 (offset 35) under the second WHERE, code 42601", e)
	}
	if code, body = f.post(t, "/api/sql", `{"sql": "SELECT * FROM nosuch"}`, nil); code != http.StatusUnprocessableEntity || !strings.Contains(body, "nosuch") {
		t.Errorf("unknown table: %d %s", code, body)
	}
	if code, _ = f.post(t, "/api/sql", `not json`, nil); code != http.StatusBadRequest {
		t.Errorf("bad body: %d", code)
	}
	if code, _ = f.post(t, "/api/sql", `{"sql": "  "}`, nil); code != http.StatusBadRequest {
		t.Errorf("empty statement: %d", code)
	}
}

// TestConsoleRefusesForeignRequests: a page of another site cannot drive the console (no JSON
// content type without a preflight, a foreign Origin), nor can a DNS-rebound host name.
func TestConsoleRefusesForeignRequests(t *testing.T) {
	f := startOps(t, "")
	mustRun(t, f.eng, `CREATE TABLE t (k VARCHAR)`)
	req, _ := http.NewRequest("POST", f.http.URL+"/api/sql", strings.NewReader(`{"sql": "DROP TABLE t"}`))
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain POST: %d, want 415", resp.StatusCode)
	}
	if code, _ := f.post(t, "/api/sql", `{"sql": "DROP TABLE t"}`, map[string]string{"Origin": "http://evil.example"}); code != http.StatusForbidden {
		t.Errorf("foreign Origin: %d, want 403", code)
	}
	if code, _ := f.post(t, "/api/sql", `{"sql": "DROP TABLE t"}`, map[string]string{"Host": "evil.example:80"}); code != http.StatusForbidden {
		t.Errorf("foreign Host: %d, want 403", code)
	}
	if names := f.eng.TableNames(); len(names) != 1 {
		t.Fatalf("a refused request dropped the table: %v", names)
	}
	if code, _ := f.post(t, "/api/sql", `{"sql": "SELECT 1"}`, map[string]string{"Origin": f.http.URL}); code != 200 {
		t.Errorf("same Origin: %d, want 200", code)
	}
}

func TestConsoleStopDrop(t *testing.T) {
	f := startOps(t, "pw")
	mustRun(t, f.eng, `CREATE SOURCE ev (k VARCHAR) WITH (connector = 'push');
		CREATE MATERIALIZED VIEW a WITH (trigger = 'manual') AS SELECT k, COUNT(*) AS n FROM ev GROUP BY k;
		CREATE MATERIALIZED VIEW b WITH (trigger = 'manual') AS SELECT k FROM ev`)
	auth := func(pw string) map[string]string {
		req, _ := http.NewRequest("GET", "/", nil)
		req.SetBasicAuth("console", pw)
		return map[string]string{"Authorization": req.Header.Get("Authorization")}
	}
	if code, _ := f.post(t, "/api/queries/a/stop", "{}", nil); code != http.StatusUnauthorized {
		t.Fatalf("STOP without the password: %d", code)
	}
	if code, _ := f.post(t, "/api/queries/a/stop", "{}", auth("wrong")); code != http.StatusUnauthorized {
		t.Fatalf("STOP with a wrong password: %d", code)
	}
	if info, _ := f.eng.QueryInfo("a"); info.Status != incremental.StatusRunning {
		t.Fatalf("refused STOP changed the status to %s", info.Status)
	}
	if code, body := f.post(t, "/api/queries/a/stop", "{}", auth("pw")); code != 200 || !strings.Contains(body, "STOP QUERY") {
		t.Fatalf("STOP: %d %s", code, body)
	}
	if info, _ := f.eng.QueryInfo("a"); info.Status != incremental.StatusStopped {
		t.Errorf("after STOP: %s", info.Status)
	}
	if code, body := f.post(t, "/api/queries/b/drop", "{}", auth("pw")); code != 200 || !strings.Contains(body, "DROP MATERIALIZED VIEW") {
		t.Fatalf("DROP: %d %s", code, body)
	}
	if _, ok := f.eng.QueryInfo("b"); ok {
		t.Error("b still exists after DROP")
	}
	if code, _ := f.post(t, "/api/queries/nope/drop", "{}", auth("pw")); code != http.StatusNotFound {
		t.Errorf("DROP of an unknown query: %d", code)
	}
	if code, _ := f.get(t, "/api/events"); code != http.StatusUnauthorized {
		t.Errorf("/api/events without the password: %d", code)
	}
}

// sseReader reads server-sent events from a stream.
type sseReader struct{ sc *bufio.Scanner }

func (s *sseReader) next() (kind, data string, err error) {
	for s.sc.Scan() {
		line := s.sc.Text()
		switch {
		case line == "" && kind != "":
			return kind, data, nil
		case strings.HasPrefix(line, "event: "):
			kind = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data += strings.TrimPrefix(line, "data: ")
		}
	}
	return "", "", io.ErrUnexpectedEOF
}

// TestConsoleEvents: the stream starts with the query list, then carries each epoch's progress
// as it happens, the second's sample once it is over, and a status change.
func TestConsoleEvents(t *testing.T) {
	f := startOpsWith(t, HTTPConfig{Tick: 20 * time.Millisecond})
	mustRun(t, f.eng, `CREATE SOURCE ev (k VARCHAR) WITH (connector = 'push');
		CREATE MATERIALIZED VIEW a WITH (trigger = 'manual') AS SELECT k, COUNT(*) AS n FROM ev GROUP BY k`)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", f.http.URL+"/api/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	ev := &sseReader{bufio.NewScanner(resp.Body)}
	kind, data, err := ev.next()
	if err != nil || kind != "queries" || !strings.Contains(data, `"name":"a"`) || !strings.Contains(data, `"status":"running"`) {
		t.Fatalf("first event %s %s (%v)", kind, data, err)
	}
	if err := f.eng.Push("ev", [][]any{{"x"}, {"y"}, {"x"}}); err != nil {
		t.Fatal(err)
	}
	if err := f.eng.ProcessAllAvailable(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	mustRun(t, f.eng, "STOP QUERY a")
	var gotProgress, gotSample, gotStopped bool
	for !(gotProgress && gotSample && gotStopped) {
		kind, data, err := ev.next()
		if err != nil {
			t.Fatalf("stream ended (progress %v, sample %v, stopped %v): %v", gotProgress, gotSample, gotStopped, err)
		}
		switch kind {
		case "progress":
			var p struct {
				Query    string
				Progress incremental.Progress
			}
			if err := json.Unmarshal([]byte(data), &p); err != nil {
				t.Fatal(err)
			}
			gotProgress = p.Query == "a" && p.Progress.NumInputRows == 3
		case "sample":
			var s namedSample
			if err := json.Unmarshal([]byte(data), &s); err != nil {
				t.Fatal(err)
			}
			gotSample = s.Query == "a" && s.Sample.InputRows == 3 && s.Sample.Epochs == 1 && s.Sample.StateRows > 0
		case "queries":
			gotStopped = strings.Contains(data, `"status":"stopped"`)
		}
	}
	code, body := f.get(t, "/api/queries/a/series")
	var samples []Sample
	if err := json.Unmarshal([]byte(body), &samples); code != 200 || err != nil || len(samples) != 1 || samples[0].InputRows != 3 {
		t.Fatalf("series: %d %s (%v)", code, body, err)
	}
}

// TestHealthzReportsFailedQueries: a query that failed turns /healthz to 503 naming it, without
// its error message.
func TestHealthzReportsFailedQueries(t *testing.T) {
	f := startOps(t, "")
	mustRun(t, f.eng, `CREATE SOURCE ev (v BIGINT) WITH (connector = 'push');
		CREATE MATERIALIZED VIEW broken WITH (trigger = 'manual') AS SELECT 10 / (v - v) AS x FROM ev`)
	if code, body := f.get(t, "/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("before the failure: %d %q", code, body)
	}
	if err := f.eng.Push("ev", [][]any{{int64(1)}}); err != nil {
		t.Fatal(err)
	}
	if err := f.eng.ProcessAllAvailable(context.Background(), "broken"); err == nil || !strings.Contains(err.Error(), "division by zero") {
		t.Fatalf("the query did not fail on division by zero: %v", err)
	}
	code, body := f.get(t, "/healthz")
	if code != http.StatusServiceUnavailable || body != "failed queries: broken\n" {
		t.Fatalf("after the failure: %d %q", code, body)
	}
}
