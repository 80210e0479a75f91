package server

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/streamsql/streamsql"
	"github.com/streamsql/streamsql/incremental"
)

// Monitor collects an engine's per-query metrics for /metrics. Counters (input rows, epochs, ...)
// are summed from every epoch's progress since the monitor was created, so create it before the
// queries start (before running an init script) and Close it when done.
type Monitor struct {
	eng    *streamsql.Engine
	clock  func() time.Time
	remove func()
	reg    *prometheus.Registry

	mu     sync.Mutex
	totals map[string]*queryTotals
	srv    *Server // set by Attach; nil: no connection metrics
}

// epochBuckets are the upper bounds (seconds) of the epoch duration histogram.
var epochBuckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// queryTotals are one query's counters. stale marks an entry whose query was missing from the
// engine at the last scrape; it is dropped at the next one unless an epoch revives it.
type queryTotals struct {
	epochs, inputRows, outputRows, droppedLate, badRecords uint64
	durSum                                                 float64
	durBuckets                                             []uint64 // per bucket, not cumulative; the last is +Inf
	stale                                                  bool
}

// NewMonitor starts collecting eng's query progress. clock gives the time watermark lag is
// measured against (nil: time.Now); pass the engine's clock when it has one.
func NewMonitor(eng *streamsql.Engine, clock func() time.Time) *Monitor {
	if clock == nil {
		clock = time.Now
	}
	m := &Monitor{eng: eng, clock: clock, totals: map[string]*queryTotals{}, reg: prometheus.NewRegistry()}
	m.remove = eng.OnProgress(m.observe)
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), (*engineCollector)(m))
	return m
}

// Attach adds srv's connection counts to the metrics.
func (m *Monitor) Attach(srv *Server) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.srv = srv
}

// Close stops collecting; the metrics keep their last values.
func (m *Monitor) Close() { m.remove() }

// Registry is the Prometheus registry /metrics serves; callers may register more collectors.
func (m *Monitor) Registry() *prometheus.Registry { return m.reg }

// observe is the engine's progress listener: it runs on the query's goroutine after each epoch.
func (m *Monitor) observe(query string, p incremental.Progress) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.totals[query]
	if t == nil {
		t = &queryTotals{durBuckets: make([]uint64, len(epochBuckets)+1)}
		m.totals[query] = t
	}
	t.stale = false
	t.epochs++
	t.inputRows += uint64(max(p.NumInputRows, 0))
	t.outputRows += uint64(max(p.OutputRows, 0))
	t.droppedLate += uint64(max(p.DroppedLateRows, 0))
	t.badRecords += uint64(max(p.BadRecords, 0))
	d := epochSeconds(p)
	t.durSum += d
	i := 0
	for i < len(epochBuckets) && d > epochBuckets[i] {
		i++
	}
	t.durBuckets[i]++
}

var (
	queryLabel = []string{"query"}

	descInfo = prometheus.NewDesc("streamsql_query_info",
		"A continuous query (always 1), labelled with its kind, output mode, trigger and sink connector.",
		[]string{"query", "kind", "mode", "trigger", "sink"}, nil)
	descStatus = prometheus.NewDesc("streamsql_query_status",
		"1 for the query's current status (running, finished, stopped, failed), 0 for the others. A failed query (sink or source error) stays failed until dropped.",
		[]string{"query", "status"}, nil)
	descEpochs = prometheus.NewDesc("streamsql_query_epochs_total",
		"Epochs the query ran.", queryLabel, nil)
	descInput = prometheus.NewDesc("streamsql_query_input_rows_total",
		"Rows the query read, over all its sources.", queryLabel, nil)
	descOutput = prometheus.NewDesc("streamsql_query_output_rows_total",
		"Rows the query handed to its sink.", queryLabel, nil)
	descDropped = prometheus.NewDesc("streamsql_query_dropped_late_rows_total",
		"Rows dropped because they were older than the watermark.", queryLabel, nil)
	descBad = prometheus.NewDesc("streamsql_query_bad_records_total",
		"Input records that did not parse or fit the schema (skipped or dead-lettered).", queryLabel, nil)
	descDuration = prometheus.NewDesc("streamsql_query_epoch_duration_seconds",
		"Duration of the query's epochs (planning, processing and sink).", queryLabel, nil)
	descProcessed = prometheus.NewDesc("streamsql_query_processed_rows_per_second",
		"Rows per second of processing time in the latest epoch.", queryLabel, nil)
	descInputRate = prometheus.NewDesc("streamsql_query_input_rows_per_second",
		"Input rate between the starts of the two latest epochs.", queryLabel, nil)
	descLastDuration = prometheus.NewDesc("streamsql_query_last_epoch_duration_seconds",
		"Duration of the latest epoch.", queryLabel, nil)
	descLastEpoch = prometheus.NewDesc("streamsql_query_last_epoch_timestamp_seconds",
		"Unix time the latest epoch started.", queryLabel, nil)
	descLag = prometheus.NewDesc("streamsql_query_watermark_lag_seconds",
		"Clock minus the query's event-time watermark; absent before the first event or without a watermark.", queryLabel, nil)
	descStateRows = prometheus.NewDesc("streamsql_query_state_rows",
		"Rows held in the query's state, over its stateful operators.", queryLabel, nil)
	descStateBytes = prometheus.NewDesc("streamsql_query_state_bytes",
		"Memory used by the query's state, over its stateful operators.", queryLabel, nil)
	descConns = prometheus.NewDesc("streamsql_connections",
		"Open PostgreSQL wire protocol connections.", nil, nil)
	descConnsTotal = prometheus.NewDesc("streamsql_connections_total",
		"PostgreSQL wire protocol connections accepted since start.", nil, nil)
)

var statuses = []incremental.Status{incremental.StatusRunning, incremental.StatusFinished, incremental.StatusStopped, incremental.StatusFailed}

// engineCollector reads the engine's queries at scrape time; it is the Monitor under another
// method set.
type engineCollector Monitor

func (c *engineCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descInfo, descStatus, descEpochs, descInput, descOutput, descDropped, descBad,
		descDuration, descProcessed, descInputRate, descLastDuration, descLastEpoch, descLag, descStateRows, descStateBytes,
		descConns, descConnsTotal} {
		ch <- d
	}
}

func (c *engineCollector) Collect(ch chan<- prometheus.Metric) {
	m := (*Monitor)(c)
	infos := m.eng.Queries()
	now := m.clock()

	m.mu.Lock()
	listed := make(map[string]bool, len(infos))
	snap := make(map[string]queryTotals, len(infos))
	for _, q := range infos {
		listed[q.Name] = true
		if t := m.totals[q.Name]; t != nil {
			cp := *t
			cp.durBuckets = append([]uint64(nil), t.durBuckets...)
			snap[q.Name] = cp
		}
	}
	for name, t := range m.totals {
		if !listed[name] {
			if t.stale {
				delete(m.totals, name)
			} else {
				t.stale = true
			}
		}
	}
	srv := m.srv
	m.mu.Unlock()

	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	for _, q := range infos {
		name := q.Name
		gauge(descInfo, 1, name, q.Kind, q.Mode, q.Trigger, q.Sink)
		for _, s := range statuses {
			v := 0.0
			if q.Status == s {
				v = 1
			}
			gauge(descStatus, v, name, string(s))
		}
		t := snap[name]
		counter(descEpochs, t.epochs, name)
		counter(descInput, t.inputRows, name)
		counter(descOutput, t.outputRows, name)
		counter(descDropped, t.droppedLate, name)
		counter(descBad, t.badRecords, name)
		buckets := make(map[float64]uint64, len(epochBuckets))
		var cum uint64
		for i, ub := range epochBuckets {
			if t.durBuckets != nil {
				cum += t.durBuckets[i]
			}
			buckets[ub] = cum
		}
		ch <- prometheus.MustNewConstHistogram(descDuration, t.epochs, t.durSum, buckets, name)

		p := q.Last
		if p == nil {
			continue
		}
		gauge(descProcessed, p.ProcessedRowsPerSecond, name)
		gauge(descInputRate, p.InputRowsPerSecond, name)
		gauge(descLastDuration, epochSeconds(*p), name)
		gauge(descLastEpoch, float64(p.Timestamp.UnixMicro())/1e6, name)
		if wm, ok := parseWatermark(p.NextWatermark); ok {
			gauge(descLag, now.Sub(wm).Seconds(), name)
		}
		var rows, bytes int64
		for _, s := range p.StateOperators {
			rows += s.Rows
			bytes += s.Bytes
		}
		gauge(descStateRows, float64(rows), name)
		gauge(descStateBytes, float64(bytes), name)
	}
	if srv != nil {
		gauge(descConns, float64(srv.Connections()))
		counter(descConnsTotal, uint64(srv.ConnectionsTotal()))
	}
}

// epochSeconds is an epoch's whole duration, with microsecond resolution when the progress
// carries it (DurationSeconds), else from the millisecond figure.
func epochSeconds(p incremental.Progress) float64 {
	if d, ok := p.DurationSeconds["triggerExecution"]; ok {
		return d
	}
	return float64(p.DurationMs["triggerExecution"]) / 1000
}

// parseWatermark reads a progress watermark (watermark.Time.String: UTC, microseconds); the
// sentinels -inf and +inf have no lag.
func parseWatermark(s string) (time.Time, bool) {
	t, err := time.Parse("2006-01-02 15:04:05.999999", s)
	return t, err == nil
}
