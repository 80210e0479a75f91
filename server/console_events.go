package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/streamsql/streamsql"
	"github.com/streamsql/streamsql/incremental"
)

// event is one server-sent event: its type and its JSON payload.
type event struct {
	kind string
	data []byte
}

// subscriberBuffer is how many events a slow client may fall behind before its stream is closed
// (its EventSource reconnects and reloads the page's state).
const subscriberBuffer = 512

// liveHub feeds the console: it listens to the engine's progress (no polling), keeps the last
// hour of per-second samples and fans events out to the /api/events streams. Events:
//
//	progress  {"query": name, "progress": Progress}   after every epoch
//	sample    {"query": name, "sample": Sample}        once a second per query with epochs
//	queries   [QueryInfo without progress]             when a query appears, goes or changes status
type liveHub struct {
	eng    *streamsql.Engine
	clock  func() time.Time
	series *seriesStore
	remove func()
	stop   chan struct{}
	done   chan struct{}

	mu   sync.Mutex
	subs map[chan event]struct{}
	// statusKey is the last "queries" event's content, to send it only on a change.
	statusKey string
}

func newLiveHub(eng *streamsql.Engine, clock func() time.Time, tick time.Duration) *liveHub {
	h := &liveHub{eng: eng, clock: clock, series: newSeriesStore(clock), subs: map[chan event]struct{}{},
		stop: make(chan struct{}), done: make(chan struct{})}
	h.remove = eng.OnProgress(h.observe)
	go h.loop(tick)
	return h
}

// close stops the ticker and the listener and ends every stream.
func (h *liveHub) close() {
	select {
	case <-h.stop:
		return
	default:
	}
	h.remove()
	close(h.stop)
	<-h.done
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		close(ch)
		delete(h.subs, ch)
	}
}

// observe is the progress listener: it runs on the query's goroutine, so it only encodes and
// hands over; a full subscriber is dropped rather than waited for.
func (h *liveHub) observe(query string, p incremental.Progress) {
	for _, s := range h.series.add(query, p, h.clock()) {
		h.publish("sample", s)
	}
	if !h.watched() {
		return // no page open: skip encoding every epoch
	}
	h.publish("progress", struct {
		Query    string               `json:"query"`
		Progress incremental.Progress `json:"progress"`
	}{query, p})
}

func (h *liveHub) loop(tick time.Duration) {
	defer close(h.done)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
			infos := h.eng.Queries()
			keep := make(map[string]bool, len(infos))
			for _, q := range infos {
				keep[q.Name] = true
			}
			for _, s := range h.series.flush(h.clock(), keep) {
				h.publish("sample", s)
			}
			h.publishStatus(infos)
		}
	}
}

// statusList is QueryInfo without the progress, for the "queries" event.
func statusList(infos []streamsql.QueryInfo) []streamsql.QueryInfo {
	out := make([]streamsql.QueryInfo, len(infos))
	for i, q := range infos {
		q.Last, q.Recent = nil, nil
		out[i] = q
	}
	return out
}

func (h *liveHub) publishStatus(infos []streamsql.QueryInfo) {
	list := statusList(infos)
	b, err := json.Marshal(list)
	if err != nil {
		return
	}
	h.mu.Lock()
	changed := string(b) != h.statusKey
	h.statusKey = string(b)
	h.mu.Unlock()
	if changed {
		h.send(event{"queries", b})
	}
}

func (h *liveHub) publish(kind string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	h.send(event{kind, b})
}

func (h *liveHub) send(ev event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- ev:
		default:
			close(ch)
			delete(h.subs, ch)
		}
	}
}

// watched reports whether any stream is open.
func (h *liveHub) watched() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs) > 0
}

func (h *liveHub) subscribe() chan event {
	ch := make(chan event, subscriberBuffer)
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.stop:
		close(ch)
	default:
		h.subs[ch] = struct{}{}
	}
	return ch
}

func (h *liveHub) unsubscribe(ch chan event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[ch]; ok {
		delete(h.subs, ch)
		close(ch)
	}
}

// heartbeat keeps idle streams (and proxies in between) from timing out.
const heartbeat = 15 * time.Second

// serveEvents is GET /api/events: a text/event-stream of the hub's events, starting with the
// current "queries" list.
func (h *liveHub) serveEvents(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	// The server's WriteTimeout is for small requests; a stream lives as long as the page.
	_ = rc.SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	ch := h.subscribe()
	defer h.unsubscribe(ch)
	first, _ := json.Marshal(statusList(h.eng.Queries()))
	if writeEvent(w, event{"queries", first}) != nil || rc.Flush() != nil {
		return
	}
	beat := time.NewTicker(heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case ev, ok := <-ch:
			if !ok {
				return
			}
			if writeEvent(w, ev) != nil {
				return
			}
			// Send what else is queued in the same write.
			for n := len(ch); n > 0; n-- {
				if ev, ok = <-ch; !ok || writeEvent(w, ev) != nil {
					return
				}
			}
		case <-beat.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
		}
		if rc.Flush() != nil {
			return
		}
	}
}

// writeEvent writes one event; JSON has no raw newlines, but a data line must not hold one.
func writeEvent(w http.ResponseWriter, ev event) error {
	_, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.kind, strings.ReplaceAll(string(ev.data), "\n", "\ndata: "))
	return err
}
