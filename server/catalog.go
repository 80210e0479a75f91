package server

import (
	"context"
	"errors"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/jeroenrinzema/psql-wire/codes"
	pgerror "github.com/jeroenrinzema/psql-wire/errors"

	"github.com/streamsql/streamsql"
)

// Session statements PostgreSQL clients send on their own (session SET/SHOW, transaction
// control) answered by the server. Everything else goes to the engine, catalog queries
// included: pg_catalog and information_schema are relations of the engine (package pgcatalog),
// and current_user, version(), current_setting(), pg_backend_pid() ... are its functions,
// which read the connection's Session (sessionOf).
//
// Recognised patterns, first match wins:
//
//	SET / RESET / DISCARD / DEALLOCATE ...     accepted and ignored (tag only)
//	BEGIN / START TRANSACTION / COMMIT / END   accepted: every statement takes effect at once
//	ROLLBACK / ABORT                           refused (0A000): nothing can be undone
//	SHOW <setting>, SHOW ALL                   the settings table below; the engine's own SHOW
//	                                           TABLES/SOURCES/SINKS/QUERIES/... pass through
var emulations = []struct {
	name string
	re   *regexp.Regexp
	fn   func(s *Server, ctx context.Context, m []string) *emulated
}{
	{"set", regexp.MustCompile(`(?is)^\s*(SET|RESET)\b`), tagOnly},
	{"discard", regexp.MustCompile(`(?is)^\s*(DISCARD\s+ALL|DEALLOCATE)\b`), tagOnly},
	{"begin", regexp.MustCompile(`(?is)^\s*(BEGIN|START\s+TRANSACTION)\b`), func(*Server, context.Context, []string) *emulated { return command("BEGIN") }},
	{"commit", regexp.MustCompile(`(?is)^\s*(COMMIT|END)\b`), func(*Server, context.Context, []string) *emulated { return command("COMMIT") }},
	{"rollback", regexp.MustCompile(`(?is)^\s*(ROLLBACK|ABORT)\b`), func(*Server, context.Context, []string) *emulated {
		return &emulated{err: pgerror.WithCode(errors.New("ROLLBACK is not supported: streamsql has no transactions and every statement takes effect at once"), codes.FeatureNotSupported)}
	}},
	{"show all", regexp.MustCompile(`(?is)^\s*SHOW\s+ALL\s*;?\s*$`), showAll},
	{"show setting", regexp.MustCompile(`(?is)^\s*SHOW\s+"?([a-z_.]+)"?\s*;?\s*$`), showSetting},
}

// emulate answers query from the table above; ok is false when the engine should run it.
func (s *Server) emulate(ctx context.Context, query string) (*emulated, bool) {
	for _, e := range emulations {
		if m := e.re.FindStringSubmatch(query); m != nil {
			if em := e.fn(s, ctx, m); em != nil {
				return em, true
			}
		}
	}
	return nil, false
}

func command(tag string) *emulated { return &emulated{tag: tag, noRows: true} }

func tagOnly(_ *Server, _ context.Context, m []string) *emulated {
	return command(strings.ToUpper(strings.Join(strings.Fields(m[1]), " ")))
}

// settings answers SHOW for the session parameters clients ask about. Values are fixed: SET is
// accepted and ignored.
func (s *Server) settings() map[string]string {
	timeout := "0"
	if s.cfg.StatementTimeout > 0 {
		timeout = strconv.FormatInt(s.cfg.StatementTimeout.Milliseconds(), 10)
	}
	return map[string]string{
		"server_version": s.serverVersion(), "server_version_num": pgVersionNum,
		"standard_conforming_strings": "on", "client_encoding": "UTF8", "server_encoding": "UTF8",
		"datestyle": "ISO, MDY", "timezone": "UTC", "intervalstyle": "postgres",
		"integer_datetimes": "on", "transaction_isolation": "read committed",
		"default_transaction_isolation": "read committed", "transaction_read_only": "off",
		"search_path": "public", "max_identifier_length": "63", "application_name": "",
		"extra_float_digits": "1", "is_superuser": "off", "lc_collate": "C", "lc_ctype": "C",
		"statement_timeout": timeout, "max_connections": strconv.Itoa(s.cfg.MaxConnections),
	}
}

func showSetting(s *Server, _ context.Context, m []string) *emulated {
	name := strings.ToLower(m[1])
	v, ok := s.settings()[name]
	if !ok {
		return nil // SHOW TABLES and friends belong to the engine
	}
	return &emulated{tag: "SHOW", names: []string{name}, oids: []uint32{oidText}, rows: [][]any{{v}}}
}

func showAll(s *Server, _ context.Context, _ []string) *emulated {
	set := s.settings()
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	em := &emulated{tag: "SHOW", names: []string{"name", "setting", "description"}, oids: []uint32{oidText, oidText, oidText}}
	for _, n := range names {
		em.rows = append(em.rows, []any{n, set[n], ""})
	}
	return em
}

// sessionOf is the engine Session of connection c: its user and database from the startup
// message, its process id, and the settings SHOW answers with.
func (s *Server) sessionOf(c *conn) streamsql.Session {
	db := c.database
	if db == "" {
		db = c.user // PostgreSQL's default database is the user's name
	}
	return streamsql.Session{User: c.user, Database: db, PID: int64(c.pid), Settings: s.settings()}
}
