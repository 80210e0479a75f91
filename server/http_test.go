package server

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/streamsql/streamsql"
	"github.com/streamsql/streamsql/incremental"
)

// opsFixture is an engine with a fixed clock, a wire server and the operations handler.
type opsFixture struct {
	eng  *streamsql.Engine
	srv  *Server
	addr string // wire protocol
	http *httptest.Server
	ops  *HTTP
}

var fixtureNow = time.Date(2024, 1, 1, 0, 10, 0, 0, time.UTC)

func startOps(t *testing.T, password string) *opsFixture {
	t.Helper()
	return startOpsWith(t, HTTPConfig{Password: password})
}

// startOpsWith is startOps with more of the handler's configuration (Monitor and Server are
// the fixture's).
func startOpsWith(t *testing.T, cfg HTTPConfig) *opsFixture {
	t.Helper()
	password := cfg.Password
	eng, err := streamsql.Open(streamsql.Options{Clock: func() time.Time { return fixtureNow }})
	if err != nil {
		t.Fatal(err)
	}
	mon := NewMonitor(eng, func() time.Time { return fixtureNow })
	srv, err := New(Config{Engine: eng, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	mon.Attach(srv)
	cfg.Monitor, cfg.Server = mon, srv
	ops, err := NewHTTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	hs := httptest.NewServer(ops)
	t.Cleanup(func() {
		ops.Close()
		hs.Close()
		srv.Close()
		<-done
		mon.Close()
		eng.Close()
	})
	return &opsFixture{eng: eng, srv: srv, addr: l.Addr().String(), http: hs, ops: ops}
}

func (f *opsFixture) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(f.http.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// scrape parses /metrics into family name -> label signature -> metric.
func (f *opsFixture) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := f.get(t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parsing /metrics: %v\n%s", err, body)
	}
	return fams
}

// value returns the value of the series of family name whose labels include want; ok is false
// when there is none.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	fam := fams[name]
	if fam == nil {
		return 0, false
	}
next:
	for _, m := range fam.Metric {
		got := map[string]string{}
		for _, lp := range m.Label {
			got[lp.GetName()] = lp.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func mustRun(t *testing.T, eng *streamsql.Engine, script string) {
	t.Helper()
	res, err := eng.Exec(context.Background(), script)
	for _, r := range res {
		r.Release()
	}
	if err != nil {
		t.Fatalf("%s: %v", script, err)
	}
}

func TestMetricsPerQuery(t *testing.T) {
	f := startOps(t, "")
	ctx := context.Background()
	mustRun(t, f.eng, `CREATE SOURCE ev (k VARCHAR, v BIGINT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '5 seconds') WITH (connector = 'push');
		CREATE MATERIALIZED VIEW agg WITH (trigger = 'manual') AS SELECT k, COUNT(*) AS n FROM ev GROUP BY k`)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(sec int) time.Time { return base.Add(time.Duration(sec) * time.Second) }

	// Before any epoch: the query is listed with zero counters and no progress gauges.
	fams := f.scrape(t)
	q := map[string]string{"query": "agg"}
	if v, ok := value(fams, "streamsql_query_input_rows_total", q); !ok || v != 0 {
		t.Fatalf("input rows before any epoch: %v %v", v, ok)
	}
	if _, ok := value(fams, "streamsql_query_watermark_lag_seconds", q); ok {
		t.Fatal("watermark lag reported before any event")
	}

	if err := f.eng.Push("ev", [][]any{{"a", int64(1), at(10)}, {"b", int64(2), at(20)}, {"a", int64(3), at(30)}}); err != nil {
		t.Fatal(err)
	}
	if err := f.eng.ProcessAllAvailable(ctx, "agg"); err != nil {
		t.Fatal(err)
	}
	if err := f.eng.Push("ev", [][]any{{"b", int64(4), at(40)}, {"c", int64(5), at(50)}}); err != nil {
		t.Fatal(err)
	}
	if err := f.eng.ProcessAllAvailable(ctx, "agg"); err != nil {
		t.Fatal(err)
	}
	// Oracle: the query's own history (fewer than 100 epochs, so complete) and hand-computed
	// values: 5 rows pushed, groups a, b, c, watermark max(ts) - 5s = 00:00:45.
	info, ok := f.eng.QueryInfo("agg")
	if !ok {
		t.Fatal("QueryInfo(agg) not found")
	}
	var outRows int64
	for _, p := range info.Recent {
		outRows += p.OutputRows
	}

	fams = f.scrape(t)
	want := map[string]float64{
		"streamsql_query_input_rows_total":        5,
		"streamsql_query_epochs_total":            float64(len(info.Recent)),
		"streamsql_query_epoch_duration_seconds":  float64(len(info.Recent)), // sample count
		"streamsql_query_output_rows_total":       float64(outRows),
		"streamsql_query_dropped_late_rows_total": 0,
		"streamsql_query_bad_records_total":       0,
		// 3 groups, and the view's result table (3 rows) kept to refill the view on a restart.
		"streamsql_query_state_rows":            6,
		"streamsql_query_watermark_lag_seconds": fixtureNow.Sub(at(45)).Seconds(),
	}
	for name, w := range want {
		if v, ok := value(fams, name, q); !ok || v != w {
			t.Errorf("%s{query=agg} = %v (present %v), want %v", name, v, ok, w)
		}
	}
	if len(info.Recent) < 2 {
		t.Errorf("expected at least 2 epochs, history has %d", len(info.Recent))
	}
	if v, ok := value(fams, "streamsql_query_state_bytes", q); !ok || v <= 0 {
		t.Errorf("state bytes = %v (present %v), want > 0", v, ok)
	}
	if v, ok := value(fams, "streamsql_query_processed_rows_per_second", q); !ok || v < 0 {
		t.Errorf("processed rows/s = %v (present %v)", v, ok)
	}
	if v, _ := value(fams, "streamsql_query_status", map[string]string{"query": "agg", "status": "running"}); v != 1 {
		t.Errorf("status running = %v, want 1", v)
	}
	if v, _ := value(fams, "streamsql_query_status", map[string]string{"query": "agg", "status": "failed"}); v != 0 {
		t.Errorf("status failed = %v, want 0", v)
	}
	if v, ok := value(fams, "streamsql_query_info", map[string]string{"query": "agg", "kind": "materialized view", "mode": "update", "sink": "memory"}); !ok || v != 1 {
		t.Errorf("query info series missing: %v", fams["streamsql_query_info"])
	}

	// Dropping the query removes its series.
	mustRun(t, f.eng, "DROP MATERIALIZED VIEW agg")
	fams = f.scrape(t)
	if _, ok := value(fams, "streamsql_query_input_rows_total", q); ok {
		t.Error("series of a dropped query are still exported")
	}
}

func TestMetricsConnections(t *testing.T) {
	f := startOps(t, "")
	c1 := connect(t, "postgres://tester@"+f.addr+"/db?sslmode=disable")
	c2 := connect(t, "postgres://tester@"+f.addr+"/db?sslmode=disable")
	if _, err := c1.Exec(context.Background(), "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	fams := f.scrape(t)
	if v, _ := value(fams, "streamsql_connections", nil); v != 2 {
		t.Errorf("connections = %v, want 2", v)
	}
	c2.Close(context.Background())
	waitFor(t, func() bool { return f.srv.Connections() == 1 })
	fams = f.scrape(t)
	if v, _ := value(fams, "streamsql_connections", nil); v != 1 {
		t.Errorf("connections after one closed = %v, want 1", v)
	}
	if v, _ := value(fams, "streamsql_connections_total", nil); v != 2 {
		t.Errorf("connections_total = %v, want 2", v)
	}
}

func TestAPIQueries(t *testing.T) {
	f := startOps(t, "")
	mustRun(t, f.eng, `CREATE SOURCE ev (k VARCHAR, v BIGINT) WITH (connector = 'push');
		CREATE MATERIALIZED VIEW agg WITH (trigger = 'manual') AS SELECT k, SUM(v) AS s FROM ev GROUP BY k;
		CREATE SINK out WITH (connector = 'files', path = '`+t.TempDir()+`', format = 'csv', trigger = 'manual') AS SELECT k, v FROM ev`)
	for i := 0; i < 3; i++ {
		if err := f.eng.Push("ev", [][]any{{"a", int64(i)}, {"b", int64(10)}}); err != nil {
			t.Fatal(err)
		}
		if err := f.eng.ProcessAllAvailable(context.Background(), "agg"); err != nil {
			t.Fatal(err)
		}
	}

	code, body := f.get(t, "/api/queries")
	if code != http.StatusOK {
		t.Fatalf("/api/queries: %d %s", code, body)
	}
	var list []struct {
		Name, Kind, Status, Mode, Trigger, Sink string
		Last                                    *incremental.Progress  `json:"lastProgress"`
		Recent                                  []incremental.Progress `json:"recentProgress"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	if len(list) != 2 || list[0].Name != "agg" || list[1].Name != "out" {
		t.Fatalf("queries = %+v", list)
	}
	a, o := list[0], list[1]
	if a.Kind != "materialized view" || a.Status != "running" || a.Mode != "update" || a.Trigger != "manual" || a.Sink != "memory" {
		t.Errorf("agg = %+v", a)
	}
	if o.Kind != "sink" || o.Mode != "append" || o.Sink != "files" || o.Last != nil {
		t.Errorf("out (never stepped) = %+v", o)
	}
	if a.Last == nil || a.Last.Epoch != 2 || a.Last.NumInputRows != 2 || a.Recent != nil {
		t.Errorf("agg last progress = %+v, recent %d", a.Last, len(a.Recent))
	}
	if strings.Contains(body, f.http.URL) || strings.Contains(body, "path") {
		t.Errorf("connector options leak into /api/queries:\n%s", body)
	}

	code, body = f.get(t, "/api/queries/agg")
	if code != http.StatusOK {
		t.Fatalf("/api/queries/agg: %d %s", code, body)
	}
	var one struct {
		Name   string
		Recent []incremental.Progress `json:"recentProgress"`
	}
	if err := json.Unmarshal([]byte(body), &one); err != nil {
		t.Fatal(err)
	}
	if one.Name != "agg" || len(one.Recent) != 3 {
		t.Fatalf("agg detail: name %q, %d epochs, want 3", one.Name, len(one.Recent))
	}
	for i, p := range one.Recent {
		if p.Epoch != int64(i) || p.NumInputRows != 2 {
			t.Errorf("epoch %d: %+v", i, p)
		}
	}
	if code, body = f.get(t, "/api/queries/nope"); code != http.StatusNotFound || !strings.Contains(body, `query \"nope\" does not exist`) {
		t.Errorf("/api/queries/nope: %d %s", code, body)
	}
}

func TestHealthz(t *testing.T) {
	f := startOps(t, "")
	if code, body := f.get(t, "/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("/healthz = %d %q", code, body)
	}
	f.ops.Drain()
	if code, _ := f.get(t, "/healthz"); code != http.StatusServiceUnavailable {
		t.Fatalf("/healthz while draining = %d, want 503", code)
	}
	g := startOps(t, "")
	g.srv.Close()
	if code, _ := g.get(t, "/healthz"); code != http.StatusServiceUnavailable {
		t.Fatalf("/healthz after Server.Close = %d, want 503", code)
	}
	if code, _ := g.get(t, "/nope"); code != http.StatusNotFound {
		t.Fatalf("/nope = %d, want 404", code)
	}
}

func TestHTTPPassword(t *testing.T) {
	f := startOps(t, "s3cret-pw")
	for _, path := range []string{"/metrics", "/api/queries", "/api/queries/x"} {
		if code, _ := f.get(t, path); code != http.StatusUnauthorized {
			t.Errorf("%s without credentials: %d, want 401", path, code)
		}
		for _, pw := range []string{"wrong", "s3cret-pw"} {
			req, _ := http.NewRequest("GET", f.http.URL+path, nil)
			req.SetBasicAuth("anyone", pw)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			ok := resp.StatusCode == 200 || (path == "/api/queries/x" && resp.StatusCode == 404)
			if (pw == "s3cret-pw") != ok {
				t.Errorf("%s with password %q: %d", path, pw, resp.StatusCode)
			}
		}
	}
	if code, _ := f.get(t, "/healthz"); code != 200 {
		t.Errorf("/healthz needs no credentials, got %d", code)
	}
}

func TestCheckHTTPListen(t *testing.T) {
	for _, c := range []struct {
		addr string
		pw   bool
		ok   bool
	}{
		{"127.0.0.1:8080", false, true},
		{"[::1]:8080", false, true},
		{"localhost:8080", false, true},
		{"0.0.0.0:8080", false, false},
		{":8080", false, false},
		{"example.com:8080", false, false},
		{"0.0.0.0:8080", true, true},
		{"no-port", true, false},
	} {
		err := CheckHTTPListen(c.addr, c.pw)
		if (err == nil) != c.ok {
			t.Errorf("CheckHTTPListen(%q, %v) = %v", c.addr, c.pw, err)
		}
	}
}
