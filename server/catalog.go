package server

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	wire "github.com/jeroenrinzema/psql-wire"
	"github.com/jeroenrinzema/psql-wire/codes"
	pgerror "github.com/jeroenrinzema/psql-wire/errors"

	"github.com/streamsql/streamsql/exec"
)

// Catalog emulation: the statements PostgreSQL clients send on their own (session SET/SHOW,
// transaction control, psql's \d queries, driver probes) answered by the server from the
// engine's catalog. Everything the clients send that is not in this table goes to the engine.
//
// Recognised patterns, first match wins:
//
//	SET / RESET / DISCARD / DEALLOCATE ...     accepted and ignored (tag only)
//	BEGIN / START TRANSACTION / COMMIT / END   accepted: every statement takes effect at once
//	ROLLBACK / ABORT                           refused (0A000): nothing can be undone
//	SHOW <setting>, SHOW ALL                   the settings table below; the engine's own SHOW
//	                                           TABLES/SOURCES/SINKS/QUERIES/... pass through
//	SELECT version() | current_schema() | current_database() | current_user | session_user |
//	       current_setting('x') | pg_backend_pid()                  one value
//	psql \d, \dt, \dv, \dm, \dE (list relations)                    from SHOW TABLES/SOURCES/VIEWS
//	psql \d NAME: oid lookup, relation details, columns             from DESCRIBE
//	any other query naming pg_catalog, information_schema or pg_*   empty result
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
	{"select function", regexp.MustCompile(`(?is)^\s*SELECT\s+(?:pg_catalog\.)?(version\(\)|current_schema(?:\(\))?|current_database\(\)|current_user|session_user|pg_backend_pid\(\)|current_setting\(\s*'([^']*)'\s*\))\s*(?:AS\s+("?\w+"?))?\s*;?\s*$`), selectFunction},
	{"psql list relations", regexp.MustCompile(`(?is)^\s*SELECT n\.nspname as "Schema",\s*c\.relname as "Name",.*FROM pg_catalog\.pg_class c`), listRelations},
	{"psql relation oid", regexp.MustCompile(`(?is)^\s*SELECT c\.oid,\s*n\.nspname,\s*c\.relname\s+FROM pg_catalog\.pg_class c`), relationOIDs},
	{"psql relation details", regexp.MustCompile(`(?is)^\s*SELECT c\.relchecks, c\.relkind,.*WHERE c\.oid = '(\d+)'`), relationDetails},
	{"psql columns", regexp.MustCompile(`(?is)^\s*SELECT a\.attname,.*FROM pg_catalog\.pg_attribute a\s+WHERE a\.attrelid = '(\d+)' AND a\.attnum > 0`), relationColumns},
	// Only a query (SELECT/WITH) naming a catalog outside string literals (see emulate): an
	// INSERT of the text 'pg_class' must reach the engine, not get an empty answer.
	{"other catalog query", regexp.MustCompile(`(?is)^\s*\(?\s*(?:SELECT|WITH)\b.*\b(pg_catalog\.|information_schema\.|pg_(class|type|namespace|attribute|database|settings|roles|user|proc|index|constraint|am|description|inherits|trigger|policy|publication|statistic_ext)\b)`), emptyResult},
}

// emulate answers query from the table above; ok is false when the engine should run it.
func (s *Server) emulate(ctx context.Context, query string) (*emulated, bool) {
	for _, e := range emulations {
		text := query
		if e.name == "other catalog query" {
			text = blankStringLiterals(query)
		}
		if m := e.re.FindStringSubmatch(text); m != nil {
			if em := e.fn(s, ctx, m); em != nil {
				return em, true
			}
		}
	}
	return nil, false
}

// blankStringLiterals returns query with the contents of its '...' literals (and E'...' ones,
// whose \' escapes are honoured) removed, so patterns match only the statement's own words.
func blankStringLiterals(query string) string {
	var sb strings.Builder
	in, escapes := false, false
	for i := 0; i < len(query); i++ {
		ch := query[i]
		switch {
		case !in && ch == '\'':
			in = true
			escapes = i > 0 && (query[i-1] == 'E' || query[i-1] == 'e')
			sb.WriteByte(ch)
		case in && escapes && ch == '\\':
			i++ // the escaped character
		case in && ch == '\'':
			if i+1 < len(query) && query[i+1] == '\'' {
				i++ // '' inside a literal
				continue
			}
			in = false
			sb.WriteByte(ch)
		case !in:
			sb.WriteByte(ch)
		}
	}
	return sb.String()
}

func command(tag string) *emulated { return &emulated{tag: tag, noRows: true} }

func tagOnly(_ *Server, _ context.Context, m []string) *emulated {
	return command(strings.ToUpper(strings.Join(strings.Fields(m[1]), " ")))
}

func emptyResult(*Server, context.Context, []string) *emulated {
	return &emulated{tag: "SELECT", names: []string{"?column?"}, oids: []uint32{oidText}}
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

func selectFunction(s *Server, ctx context.Context, m []string) *emulated {
	fn := strings.ToLower(m[1])
	col := strings.Trim(m[3], `"`)
	var v any
	oid := oidText
	params := wire.ClientParameters(ctx)
	switch {
	case fn == "version()":
		v, col = s.versionString(), or(col, "version")
	case strings.HasPrefix(fn, "current_schema"):
		v, col = "public", or(col, "current_schema")
	case fn == "current_database()":
		v, col = or(params[wire.ParamDatabase], "streamsql"), or(col, "current_database")
	case fn == "current_user" || fn == "session_user":
		v, col = params[wire.ParamUsername], or(col, fn)
	case fn == "pg_backend_pid()":
		c := s.connOf(ctx)
		if c == nil {
			return nil
		}
		v, oid, col = int64(c.pid), oidInt8, or(col, "pg_backend_pid")
	default: // current_setting('x')
		set, ok := s.settings()[strings.ToLower(m[2])]
		if !ok {
			return &emulated{err: fmt.Errorf("unrecognized configuration parameter %q", m[2])}
		}
		v, col = set, or(col, "current_setting")
	}
	return &emulated{tag: "SELECT", names: []string{col}, oids: []uint32{oid}, rows: [][]any{{v}}}
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// relation is one FROM-able object as psql sees it.
type relation struct {
	name string
	kind string // pg_class.relkind: r table, m materialized view, f source (a foreign table)
	oid  uint32
}

var relkindNames = map[string]string{"r": "table", "m": "materialized view", "f": "foreign table"}

// relations lists tables, materialized views and sources with stable OIDs derived from names.
func (s *Server) relations(ctx context.Context) []relation {
	var out []relation
	for _, k := range []struct{ show, kind string }{{"SHOW TABLES", "r"}, {"SHOW MATERIALIZED VIEWS", "m"}, {"SHOW SOURCES", "f"}} {
		res, err := s.cfg.Engine.Query(ctx, k.show)
		if err != nil {
			continue
		}
		for _, rec := range res.Records {
			for i := 0; i < int(rec.NumRows()); i++ {
				name := exec.FormatValue(rec.Column(0), i)
				out = append(out, relation{name: name, kind: k.kind, oid: relOID(name)})
			}
		}
		res.Release()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// relOID maps a name into the user OID range (PostgreSQL's first user OID is 16384).
func relOID(name string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(name))
	return 16384 + h.Sum32()%(1<<30)
}

var (
	relkindList = regexp.MustCompile(`(?is)c\.relkind IN \(([^)]*)\)`)
	relnameRe   = regexp.MustCompile(`(?is)c\.relname OPERATOR\(pg_catalog\.~\) '((?:[^']|'')*)'`)
)

// nameFilter applies psql's name pattern (a POSIX regular expression such as '^(t.*)$').
func nameFilter(query string) func(string) bool {
	m := relnameRe.FindStringSubmatch(query)
	if m == nil {
		return func(string) bool { return true }
	}
	re, err := regexp.Compile(strings.ReplaceAll(m[1], "''", "'"))
	if err != nil {
		return func(string) bool { return false }
	}
	return re.MatchString
}

func listRelations(s *Server, ctx context.Context, m []string) *emulated {
	kinds := "'r','m','f'"
	if k := relkindList.FindStringSubmatch(m[0]); k != nil {
		kinds = k[1]
	}
	match := nameFilter(m[0])
	em := &emulated{tag: "SELECT", names: []string{"Schema", "Name", "Type", "Owner"}, oids: []uint32{oidName, oidName, oidText, oidName}}
	for _, r := range s.relations(ctx) {
		if strings.Contains(kinds, "'"+r.kind+"'") && match(r.name) {
			em.rows = append(em.rows, []any{"public", r.name, relkindNames[r.kind], "streamsql"})
		}
	}
	return em
}

func relationOIDs(s *Server, ctx context.Context, m []string) *emulated {
	match := nameFilter(m[0])
	em := &emulated{tag: "SELECT", names: []string{"oid", "nspname", "relname"}, oids: []uint32{oidOID, oidName, oidName}}
	for _, r := range s.relations(ctx) {
		if match(r.name) {
			em.rows = append(em.rows, []any{r.oid, "public", r.name})
		}
	}
	return em
}

func (s *Server) relationByOID(ctx context.Context, oid string) (relation, bool) {
	for _, r := range s.relations(ctx) {
		if strconv.FormatUint(uint64(r.oid), 10) == oid {
			return r, true
		}
	}
	return relation{}, false
}

func relationDetails(s *Server, ctx context.Context, m []string) *emulated {
	em := &emulated{tag: "SELECT",
		names: []string{"relchecks", "relkind", "relhasindex", "relhasrules", "relhastriggers", "relrowsecurity", "relforcerowsecurity", "relhasoids", "relispartition", "?column?", "reltablespace", "reloftype", "relpersistence", "relreplident", "amname"},
		oids:  []uint32{oidInt8, oidText, oidBool, oidBool, oidBool, oidBool, oidBool, oidBool, oidBool, oidText, oidOID, oidText, oidText, oidText, oidName}}
	if r, ok := s.relationByOID(ctx, m[1]); ok {
		em.rows = append(em.rows, []any{int64(0), r.kind, false, false, false, false, false, false, false, "", uint32(0), "", "p", "d", nil})
	}
	return em
}

func relationColumns(s *Server, ctx context.Context, m []string) *emulated {
	em := &emulated{tag: "SELECT",
		names: []string{"attname", "format_type", "?column?", "attnotnull", "attcollation", "attidentity", "attgenerated"},
		oids:  []uint32{oidName, oidText, oidText, oidBool, oidName, oidText, oidText}}
	r, ok := s.relationByOID(ctx, m[1])
	if !ok {
		return em
	}
	schema, err := tableSchema(ctx, s.cfg.Engine, r.name)
	if err != nil {
		return &emulated{err: err}
	}
	for _, f := range schema.Fields() {
		em.rows = append(em.rows, []any{f.Name, pgTypeName(f.Type), nil, false, nil, "", ""})
	}
	return em
}

// pgTypeName is PostgreSQL's format_type() spelling of an engine type.
func pgTypeName(t arrow.DataType) string {
	switch t.ID() {
	case arrow.BOOL:
		return "boolean"
	case arrow.INT64:
		return "bigint"
	case arrow.FLOAT64:
		return "double precision"
	case arrow.STRING:
		return "character varying"
	case arrow.TIMESTAMP:
		return "timestamp without time zone"
	case arrow.DATE32:
		return "date"
	case arrow.DURATION:
		return "interval"
	case arrow.DECIMAL128:
		d := t.(*arrow.Decimal128Type)
		return fmt.Sprintf("numeric(%d,%d)", d.Precision, d.Scale)
	case arrow.LIST:
		return pgTypeName(t.(*arrow.ListType).Elem()) + "[]"
	}
	return strings.ToLower(exec.TypeName(t))
}
