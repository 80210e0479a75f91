package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql"
	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/sql"
)

// The console's endpoints (besides the read-only API in http.go):
//
//	GET  /                              the console (the files of HTTPConfig.Assets)
//	GET  /api/events                    server-sent events (see liveHub)
//	GET  /api/queries/{name}/series     the last hour of per-second samples ([]Sample)
//	POST /api/queries/{name}/stop       STOP QUERY name
//	POST /api/queries/{name}/drop       DROP SINK|MATERIALIZED VIEW name
//	POST /api/sql                       {"sql": "..."}: run ad-hoc statements (sqlAnswer)
//
// They sit behind the same password as the rest. The POSTs change things, so a browser must not
// be tricked into sending them from another site: they need Content-Type application/json (a
// cross-site form cannot send it without a CORS preflight, which is never granted) and an
// Origin, when sent, naming this host. Without a password (loopback only, see CheckHTTPListen)
// the console also refuses a Host that is not a loopback address or localhost, so a page on a
// DNS-rebound name cannot read or drive it.

// sqlRowLimit bounds the rows an ad-hoc statement returns to the page.
const sqlRowLimit = 1000

// sqlTimeout bounds an ad-hoc statement started from the console.
const sqlTimeout = 30 * time.Second

func (h *HTTP) routeConsole() {
	h.mux.Handle("GET /api/events", h.console(http.HandlerFunc(h.hub.serveEvents)))
	h.mux.Handle("GET /api/queries/{name}/series", h.console(http.HandlerFunc(h.series)))
	h.mux.Handle("POST /api/queries/{name}/stop", h.console(h.mutation(h.stopQuery)))
	h.mux.Handle("POST /api/queries/{name}/drop", h.console(h.mutation(h.dropQuery)))
	h.mux.Handle("POST /api/sql", h.console(h.mutation(h.runSQL)))
	if h.cfg.Assets != nil {
		files := http.FileServerFS(h.cfg.Assets)
		h.mux.Handle("GET /", h.console(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/" || r.URL.Path == "/index.html" {
				// The page names its hashed assets; it must not be cached across upgrades.
				w.Header().Set("Cache-Control", "no-cache")
			}
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:")
			files.ServeHTTP(w, r)
		})))
	}
}

// console guards a console endpoint: the password (as every path) and, without one, a loopback
// Host.
func (h *HTTP) console(next http.Handler) http.Handler {
	inner := next
	if h.cfg.Password == "" {
		inner = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !loopbackHost(r.Host) {
				http.Error(w, "the console without a password answers only on a loopback address or localhost", http.StatusForbidden)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	return h.guard(inner)
}

func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	return isLoopback(strings.Trim(host, "[]"))
}

// mutation refuses requests a browser could have been made to send by another site.
func (h *HTTP) mutation(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			h.writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "send Content-Type: application/json"})
			return
		}
		if o := r.Header.Get("Origin"); o != "" {
			u, err := url.Parse(o)
			if err != nil || u.Host != r.Host {
				h.writeJSON(w, http.StatusForbidden, map[string]string{"error": "cross-origin request refused"})
				return
			}
		}
		next(w, r)
	})
}

func (h *HTTP) series(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if _, ok := h.cfg.Monitor.eng.QueryInfo(name); !ok {
		h.writeJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("query %q does not exist", name)})
		return
	}
	h.writeJSON(w, http.StatusOK, h.hub.series.samples(name))
}

func (h *HTTP) stopQuery(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if _, ok := h.cfg.Monitor.eng.QueryInfo(name); !ok {
		h.writeJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("query %q does not exist", name)})
		return
	}
	h.runCommand(w, r, "STOP QUERY "+quoteIdent(name))
}

func (h *HTTP) dropQuery(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	info, ok := h.cfg.Monitor.eng.QueryInfo(name)
	if !ok {
		h.writeJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("query %q does not exist", name)})
		return
	}
	kind := "SINK"
	if info.Kind == "materialized view" {
		kind = "MATERIALIZED VIEW"
	}
	h.runCommand(w, r, "DROP "+kind+" "+quoteIdent(name))
}

func (h *HTTP) runCommand(w http.ResponseWriter, r *http.Request, stmt string) {
	ctx, cancel := context.WithTimeout(r.Context(), sqlTimeout)
	defer cancel()
	res, err := h.cfg.Monitor.eng.Exec(ctx, stmt)
	for _, x := range res {
		x.Release()
	}
	if err != nil {
		h.writeJSON(w, http.StatusConflict, map[string]any{"error": errorAnswer(err)})
		return
	}
	h.cfg.Logger.Info("console: "+stmt, "remote", r.RemoteAddr)
	h.writeJSON(w, http.StatusOK, map[string]string{"tag": res[0].Tag})
}

// sqlAnswer is what POST /api/sql returns: the result of every statement that ran, and the error
// of the one that failed (the statements after it did not run).
type sqlAnswer struct {
	Results []sqlResult  `json:"results"`
	Error   *errorDetail `json:"error,omitempty"`
}

type sqlResult struct {
	Tag     string      `json:"tag"`
	Columns []sqlColumn `json:"columns,omitempty"`
	Rows    [][]any     `json:"rows,omitempty"`
	// Truncated: the statement returned more than sqlRowLimit rows; Rows has the first ones.
	Truncated bool     `json:"truncated,omitempty"`
	Notices   []string `json:"notices,omitempty"`
}

type sqlColumn struct {
	Name string `json:"name"`
	// Type is the column's SQL type (pg_catalog's name: bigint, timestamp, ...).
	Type string `json:"type"`
}

// errorDetail is an error for the page: the message, the SQLSTATE and, for an error at a
// position of the statement, where (1-based line and column, in characters), that line and a
// caret line under it.
type errorDetail struct {
	Message string `json:"message"`
	Code    string `json:"code"`
	// Position is the 0-based character offset in the submitted text, -1 when not positioned.
	Position int    `json:"position"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
	Text     string `json:"text,omitempty"`
	Caret    string `json:"caret,omitempty"`
}

func errorAnswer(err error) *errorDetail {
	d := &errorDetail{Message: err.Error(), Code: string(sqlState(err)), Position: -1}
	var se *sql.Error
	if errors.As(err, &se) {
		d.Message = se.Msg
		if se.Kind == "syntax error" {
			d.Message = "syntax error: " + se.Msg
		}
		if se.Pos >= 0 && se.Source != "" {
			d.Line, d.Column, d.Text = se.Location()
			d.Position = len([]rune(se.Source[:min(se.Pos, len(se.Source))]))
			d.Caret = strings.Repeat(" ", d.Column-1) + "^"
		}
	}
	return d
}

// maxSQLBody bounds the submitted text.
const maxSQLBody = 1 << 20

func (h *HTTP) runSQL(w http.ResponseWriter, r *http.Request) {
	var req struct {
		SQL string `json:"sql"`
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSQLBody))
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		h.writeJSON(w, http.StatusBadRequest, map[string]string{"error": "the body must be JSON {\"sql\": \"...\"} of at most 1 MiB: " + err.Error()})
		return
	}
	if strings.TrimSpace(req.SQL) == "" {
		h.writeJSON(w, http.StatusBadRequest, map[string]string{"error": "no statement given"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), sqlTimeout)
	defer cancel()
	results, err := h.cfg.Monitor.eng.Exec(ctx, req.SQL)
	ans := sqlAnswer{Results: []sqlResult{}}
	for _, res := range results {
		ans.Results = append(ans.Results, toSQLResult(res))
		res.Release()
	}
	status := http.StatusOK
	if err != nil {
		ans.Error = errorAnswer(err)
		status = http.StatusUnprocessableEntity
	}
	h.writeJSON(w, status, ans)
}

func toSQLResult(res *streamsql.Result) sqlResult {
	out := sqlResult{Tag: res.Tag, Notices: res.Notices}
	if !res.HasRows() {
		return out
	}
	for _, f := range res.Schema.Fields() {
		out.Columns = append(out.Columns, sqlColumn{Name: f.Name, Type: typeName(f.Type)})
	}
	out.Rows = [][]any{}
	for _, rec := range res.Records {
		for i := 0; i < int(rec.NumRows()); i++ {
			if len(out.Rows) == sqlRowLimit {
				out.Truncated = true
				return out
			}
			row := make([]any, rec.NumCols())
			for c := range row {
				row[c] = jsonCell(rec.Column(c), i)
			}
			out.Rows = append(out.Rows, row)
		}
	}
	return out
}

// jsonCell renders one value for JSON: numbers and booleans as such (integers beyond 2^53 as
// text, which JavaScript would round), times in ISO 8601, the rest as PostgreSQL prints it.
func jsonCell(col arrow.Array, i int) any {
	if col.IsNull(i) {
		return nil
	}
	switch a := col.(type) {
	case interface{ Value(int) bool }:
		return a.Value(i)
	case interface{ Value(int) int64 }:
		if v := a.Value(i); v > -(1<<53) && v < 1<<53 {
			return v
		}
	case interface{ Value(int) int32 }:
		return a.Value(i)
	case interface{ Value(int) int16 }:
		return a.Value(i)
	case interface{ Value(int) float64 }:
		return jsonFloat(a.Value(i))
	case interface{ Value(int) float32 }:
		return jsonFloat(float64(a.Value(i)))
	case interface {
		Value(int) arrow.Timestamp
	}:
		unit := col.DataType().(*arrow.TimestampType).Unit
		return a.Value(i).ToTime(unit).UTC().Format("2006-01-02T15:04:05.999999Z")
	}
	return exec.FormatValue(col, i)
}

// typeName is a column's SQL type as format_type() prints it.
func typeName(t arrow.DataType) string {
	return exec.FormatPGType(exec.PGTypeOf(t))
}

// jsonFloat keeps NaN and the infinities, which JSON cannot carry, as text.
func jsonFloat(f float64) any {
	if f != f || f > 1.7976931348623157e308 || f < -1.7976931348623157e308 {
		return exec.FormatFloat(f)
	}
	return f
}
