package streamsql

import (
	"context"
	"fmt"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/pgcatalog"
)

// Session describes the client a statement runs for: what current_user, current_database(),
// pg_backend_pid(), current_setting() and the pg_catalog relations (pg_roles, pg_database,
// pg_settings) answer. The wire-protocol server attaches one per connection with WithSession;
// without one, statements run as user "streamsql" in database "streamsql" with DefaultSettings.
type Session struct {
	User     string
	Database string
	PID      int64
	// Settings are the session parameters by lower-case name; nil means DefaultSettings.
	Settings map[string]string
}

type sessionKey struct{}

// WithSession returns ctx carrying s for the statements run with it.
func WithSession(ctx context.Context, s Session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}

// DefaultSettings are the session parameters of statements run without a Session.
func DefaultSettings() map[string]string {
	return map[string]string{
		"server_version": "17.0 (streamsql)", "server_version_num": "170000", "server_encoding": "UTF8",
		"client_encoding": "UTF8", "datestyle": "ISO, MDY", "timezone": "UTC", "intervalstyle": "postgres",
		"standard_conforming_strings": "on", "integer_datetimes": "on", "search_path": "public",
		"max_identifier_length": "63", "transaction_isolation": "read committed",
	}
}

// session is the exec.Session of a statement run with ctx: the client's identity and a
// snapshot of the catalog for the pg_catalog relations and functions.
func (e *Engine) session(ctx context.Context) *exec.Session {
	s, ok := ctx.Value(sessionKey{}).(Session)
	if !ok {
		s = Session{User: "streamsql", Database: "streamsql"}
	}
	if s.Settings == nil {
		s.Settings = DefaultSettings()
	}
	return &exec.Session{User: s.User, Database: s.Database, PID: s.PID, Settings: s.Settings, Catalog: pgcatalog.NewLazy(e.catalogObjects)}
}

// catalogObjects describes every table, source, materialized view and sink for pgcatalog.
func (e *Engine) catalogObjects() []pgcatalog.Object {
	var out []pgcatalog.Object
	deadLetters := map[string]string{} // dead-letter table -> its query
	running := map[string]*runningQuery{}
	for _, rq := range e.queries.list() {
		running[rq.name] = rq
		if rq.errorsName != "" {
			deadLetters[rq.errorsName] = rq.name
		}
		if rq.view {
			continue // listed with the catalog's views below
		}
		o := pgcatalog.Object{Name: rq.name, Kind: pgcatalog.Sink, Definition: rq.sql,
			Description: fmt.Sprintf("sink (connector %s, %s mode): a continuous query whose rows go to the connector", rq.sink, rq.q.Mode())}
		if rq.schema != nil {
			o.Columns = columnsOf(rq.schema.Fields())
		}
		out = append(out, o)
	}
	c := e.catalog
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, t := range c.tables {
		desc := ""
		if t.file != nil {
			desc = fmt.Sprintf("table reading %s files (read-only)", t.file.format)
		}
		out = append(out, pgcatalog.Object{Name: t.name, Kind: pgcatalog.Table, Columns: columnsOf(t.schema.Fields()), Description: desc})
	}
	for _, s := range c.sources {
		desc := fmt.Sprintf("source (connector %s): a stream, read by continuous queries", s.options["connector"])
		if s.timeCol >= 0 {
			desc += fmt.Sprintf("; watermark on %s", s.schema.Field(s.timeCol).Name)
		}
		out = append(out, pgcatalog.Object{Name: s.name, Kind: pgcatalog.Source, Columns: columnsOf(s.schema.Fields()), Description: desc})
	}
	for _, v := range c.views {
		o := pgcatalog.Object{Name: v.name, Kind: pgcatalog.MaterializedView, Columns: columnsOf(v.Schema().Fields())}
		if q, ok := deadLetters[v.name]; ok {
			o.Kind, o.Description = pgcatalog.Table, fmt.Sprintf("dead-letter table of %s: the input records it could not process", q)
		} else if rq := running[v.name]; rq != nil {
			o.Definition = rq.sql
			o.Description = fmt.Sprintf("materialized view (%s mode), kept current by its continuous query", rq.q.Mode())
		}
		out = append(out, o)
	}
	for n, v := range c.plain {
		out = append(out, pgcatalog.Object{Name: n, Kind: pgcatalog.View, Columns: columnsOf(v.schema.Fields()), Definition: v.text, Description: "view: a stored query, expanded where it is named"})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func columnsOf(fields []arrow.Field) []pgcatalog.Column {
	out := make([]pgcatalog.Column, len(fields))
	for i, f := range fields {
		out[i] = pgcatalog.Column{Name: f.Name, Type: f.Type, NotNull: !f.Nullable}
	}
	return out
}
