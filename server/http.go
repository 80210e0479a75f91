package server

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/streamsql/streamsql/incremental"
)

// HTTPConfig configures the operations endpoint (streamsql serve --http).
type HTTPConfig struct {
	// Monitor provides /metrics and the engine behind /api/queries. Required.
	Monitor *Monitor
	// Server, when set, makes /healthz answer 503 once it is closed.
	Server *Server
	// Password, when set, is required (HTTP basic authentication, any user name) by every path
	// but /healthz.
	Password string
	// Logger receives failures to write a response and the console's STOP and DROP.
	// Default: discarded.
	Logger *slog.Logger
	// Assets, when set, are the console's files, served at / (streamsql/web.Dist).
	Assets fs.FS
	// Clock gives the time of the console's samples and their watermark lag (nil: time.Now).
	Clock func() time.Time
	// Tick is how often the console closes its per-second samples and checks the queries'
	// status (default one second).
	Tick time.Duration
}

// HTTP serves the operations endpoint:
//
//	GET /metrics             Prometheus exposition of the per-query and connection metrics
//	GET /api/queries         JSON array: each query's name, kind, status, mode, trigger, sink,
//	                         SQL and latest progress
//	GET /api/queries/{name}  JSON object: the same with the recent progress history (404 if none)
//	GET /healthz             200 "ok" while serving and no query failed; 503 once shutting
//	                         down, or listing the failed queries
//
// and the console (console.go). Call Close when done.
// No connector option appears in any answer (see streamsql.QueryInfo).
type HTTP struct {
	cfg      HTTPConfig
	mux      *http.ServeMux
	hub      *liveHub
	draining atomic.Bool
}

// NewHTTP builds the operations handler.
func NewHTTP(cfg HTTPConfig) (*HTTP, error) {
	if cfg.Monitor == nil {
		return nil, fmt.Errorf("server: HTTPConfig.Monitor is nil")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Tick <= 0 {
		cfg.Tick = time.Second
	}
	h := &HTTP{cfg: cfg, mux: http.NewServeMux()}
	h.hub = newLiveHub(cfg.Monitor.eng, cfg.Clock, cfg.Tick)
	metrics := promhttp.HandlerFor(cfg.Monitor.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	h.mux.Handle("GET /metrics", h.guard(metrics))
	h.mux.Handle("GET /api/queries", h.guard(http.HandlerFunc(h.queries)))
	h.mux.Handle("GET /api/queries/{name}", h.guard(http.HandlerFunc(h.query)))
	h.mux.HandleFunc("GET /healthz", h.healthz)
	h.routeConsole()
	return h, nil
}

// Close ends the console's event streams and stops following the engine's progress.
func (h *HTTP) Close() { h.hub.close() }

// ServeHTTP implements http.Handler.
func (h *HTTP) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Drain makes /healthz answer 503, so load balancers stop sending traffic before shutdown.
func (h *HTTP) Drain() { h.draining.Store(true) }

// NewHTTPServer wraps h in an http.Server with timeouts suited to small monitoring requests.
func NewHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	var errLog = slog.NewLogLogger(slog.DiscardHandler, slog.LevelDebug)
	if log != nil {
		errLog = slog.NewLogLogger(log.Handler(), slog.LevelDebug)
	}
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, ErrorLog: errLog}
}

// CheckHTTPListen refuses to serve the operations endpoint on a non-loopback address without a
// password, as CheckListen does for the wire protocol: query SQL, errors and rates are not for
// anyone who can reach the port. Host names other than localhost count as non-loopback.
func CheckHTTPListen(addr string, hasPassword bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--http address %q: %v", addr, err)
	}
	if hasPassword || isLoopback(host) {
		return nil
	}
	return fmt.Errorf("refusing to serve --http on %s without a password: anyone who can reach it could read the queries and their metrics; set --password-file or STREAMSQL_PASSWORD, or use 127.0.0.1", addr)
}

// guard requires the password (basic authentication) when one is configured.
func (h *HTTP) guard(next http.Handler) http.Handler {
	if h.cfg.Password == "" {
		return next
	}
	want := []byte(h.cfg.Password)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pw, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(pw), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="streamsql", charset="UTF-8"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (h *HTTP) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if h.draining.Load() || (h.cfg.Server != nil && h.cfg.Server.Closed()) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("shutting down\n"))
		return
	}
	// Names only: /healthz needs no password, and an error message may say more than a name.
	var failed []string
	for _, q := range h.cfg.Monitor.eng.Queries() {
		if q.Status == incremental.StatusFailed {
			failed = append(failed, q.Name)
		}
	}
	if len(failed) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = fmt.Fprintf(w, "failed queries: %s\n", strings.Join(failed, ", "))
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

func (h *HTTP) queries(w http.ResponseWriter, _ *http.Request) {
	h.writeJSON(w, http.StatusOK, h.cfg.Monitor.eng.Queries())
}

func (h *HTTP) query(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	info, ok := h.cfg.Monitor.eng.QueryInfo(name)
	if !ok {
		h.writeJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("query %q does not exist", name)})
		return
	}
	h.writeJSON(w, http.StatusOK, info)
}

func (h *HTTP) writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		h.cfg.Logger.Error("encoding an HTTP answer", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
