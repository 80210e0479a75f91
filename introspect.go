package streamsql

import (
	"errors"
	"sync"

	"github.com/streamsql/streamsql/incremental"
)

// QueryInfo describes one continuous query for monitoring (the serve command's /api/queries and
// /metrics, the run command's progress line). It carries no connector options: the sink is named
// by its connector only, so credentials given in WITH (...) never appear.
type QueryInfo struct {
	Name string `json:"name"`
	// Kind is "sink" or "materialized view".
	Kind   string             `json:"kind"`
	Status incremental.Status `json:"status"`
	// Error is the failure of a query whose Status is failed, else "".
	Error string `json:"error,omitempty"`
	// SinkStatus is what a struggling sink reports (a retry: since when, attempts, next delay,
	// the last error), "" while it works.
	SinkStatus string `json:"sinkStatus,omitempty"`
	Mode       string `json:"mode"`
	Trigger    string `json:"trigger"`
	// Sink is the sink's connector ("memory" for a materialized view).
	Sink string `json:"sink"`
	// SQL is the query's SELECT as written (the part after AS, without the WITH options).
	SQL string `json:"sql"`
	// Last is the latest epoch's progress, nil before the first epoch.
	Last *incremental.Progress `json:"lastProgress"`
	// Recent holds up to the last 100 epochs' progress, oldest first. Queries leaves it nil;
	// QueryInfo fills it.
	Recent []incremental.Progress `json:"recentProgress,omitempty"`
	// Plan is the streaming plan as EXPLAIN CREATE renders it: one line per operator, indented
	// two spaces per level. QueryInfo fills it.
	Plan string `json:"plan,omitempty"`
	// DeadLetterTable names the table holding the query's dead-lettered records
	// (<name>_errors), "" when that name was taken by another object.
	DeadLetterTable string `json:"deadLetterTable,omitempty"`
}

// Queries describes every continuous query of the engine, sorted by name, with its latest
// progress only (see QueryInfo for the recent history).
func (e *Engine) Queries() []QueryInfo {
	list := e.queries.list()
	out := make([]QueryInfo, 0, len(list))
	for _, rq := range list {
		out = append(out, rq.info())
	}
	return out
}

// QueryInfo describes one continuous query with its recent progress history; ok is false when
// no query has that name.
func (e *Engine) QueryInfo(name string) (info QueryInfo, ok bool) {
	rq := e.queries.get(name)
	if rq == nil {
		return QueryInfo{}, false
	}
	info = rq.info()
	info.Recent = rq.q.RecentProgress()
	info.Plan = rq.explain
	return info, true
}

func (rq *runningQuery) info() QueryInfo {
	st, err := rq.q.Status()
	info := QueryInfo{
		Name: rq.name, Kind: "sink", Status: st, Mode: rq.q.Mode().String(),
		Trigger: rq.q.Trigger().String(), Sink: rq.sink, SQL: rq.sql, Last: rq.q.LastProgress(),
	}
	if rq.view {
		info.Kind = "materialized view"
	}
	if rq.restoredStatus != "" {
		// Restored stopped or failed: the query object was rebuilt stopped; report what it was.
		info.Status, info.Trigger = rq.restoredStatus, rq.restoredTrigger
		if rq.restoredError != "" {
			err = errors.New(rq.restoredError)
		}
	}
	if err != nil {
		info.Error = err.Error()
	}
	info.DeadLetterTable = rq.errorsName
	info.SinkStatus = rq.getSinkStatus()
	return info
}

// ProgressListener receives the progress of every epoch of every continuous query of an engine.
// It is called on the query's goroutine after the epoch committed, so it must return quickly and
// must not call back into the query (Stop, ProcessAllAvailable) or run statements.
type ProgressListener func(query string, p incremental.Progress)

// progressListeners holds the listeners of every engine. It lives outside Engine so that adding
// listeners needs no change to the engine's construction; entries go away with their remove
// function.
var progressListeners = struct {
	mu sync.RWMutex
	m  map[*Engine]map[int]ProgressListener
	id int
}{m: map[*Engine]map[int]ProgressListener{}}

// OnProgress registers fn for the epochs of queries started from now on or already running,
// starting with their next epoch. The returned function unregisters it; call it when done, since
// a registered listener keeps the engine reachable.
func (e *Engine) OnProgress(fn ProgressListener) (remove func()) {
	pl := &progressListeners
	pl.mu.Lock()
	defer pl.mu.Unlock()
	pl.id++
	id := pl.id
	if pl.m[e] == nil {
		pl.m[e] = map[int]ProgressListener{}
	}
	pl.m[e][id] = fn
	var once sync.Once
	return func() {
		once.Do(func() {
			pl.mu.Lock()
			defer pl.mu.Unlock()
			delete(pl.m[e], id)
			if len(pl.m[e]) == 0 {
				delete(pl.m, e)
			}
		})
	}
}

// progressHook is the incremental.Config.OnProgress of the query named name: it hands each
// epoch's progress to the engine's listeners.
func (e *Engine) progressHook(name string) func(incremental.Progress) {
	return func(p incremental.Progress) {
		pl := &progressListeners
		pl.mu.RLock()
		fns := make([]ProgressListener, 0, len(pl.m[e]))
		for _, fn := range pl.m[e] {
			fns = append(fns, fn)
		}
		pl.mu.RUnlock()
		for _, fn := range fns {
			fn(name, p)
		}
	}
}
