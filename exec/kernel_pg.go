package exec

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// PostgreSQL's session and catalog functions: what psql, JDBC, DBeaver and Grafana call on
// connect and in their catalog queries. They read the statement's Session (so they are volatile:
// never folded at bind time, where no session exists). streamsql has one role, which owns every
// object and holds every privilege, and no indexes, constraints or rules.

// pgForm is one signature of a pgFunc.
type pgForm []arrow.DataType

// pgFunc registers name; eval sees one row's argument values (Datums of the declared types).
// strict functions return NULL when any argument is NULL without calling eval.
func pgFunc(name, usage string, ret arrow.DataType, strict bool, forms []pgForm, eval func(s *Session, args []Datum) (Datum, error)) {
	pgFuncV(name, usage, ret, strict, true, forms, eval)
}

// pgFuncV is pgFunc for functions that may or may not read the session: volatile ones are never
// constant-folded; pure ones (array_upper) fold, so generate_series(1, array_upper(...)) works.
func pgFuncV(name, usage string, ret arrow.DataType, strict, volatile bool, forms []pgForm, eval func(s *Session, args []Datum) (Datum, error)) {
	register(&Function{Name: name, Usage: usage, Bind: func(args []arrow.DataType) (*Bound, error) {
		for _, f := range forms {
			if len(f) != len(args) {
				continue
			}
			ok := true
			for i := range f {
				ok = ok && (implicitlyConverts(args[i], f[i]) || f[i].ID() == arrow.LIST && args[i].ID() == arrow.LIST)
			}
			if !ok {
				continue
			}
			decl := append([]arrow.DataType(nil), f...)
			for i := range decl {
				if decl[i].ID() == arrow.LIST { // any list: keep the argument's own element type
					decl[i] = args[i]
				}
			}
			return &Bound{Args: decl, Ret: ret, Volatile: volatile, Kernel: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
				s := ctx.session()
				b := array.NewBuilder(ctx.Mem, ret)
				defer b.Release()
				vals := make([]Datum, len(a))
				for i := 0; i < n; i++ {
					null := false
					for j, col := range a {
						vals[j] = listValueAt(col, i)
						null = null || vals[j] == nil
					}
					if strict && null {
						b.AppendNull()
						continue
					}
					v, err := eval(s, vals)
					if err != nil {
						return nil, err
					}
					if err := appendPG(b, v); err != nil {
						return nil, err
					}
				}
				return b.NewArray(), nil
			}}, nil
		}
		return nil, ArgTypeError(name, usage, args)
	}})
}

// listValueAt is ValueAt that also reads a list cell, as a []Datum.
func listValueAt(arr arrow.Array, i int) Datum {
	l, ok := arr.(*array.List)
	if !ok || l.IsNull(i) {
		return ValueAt(arr, i)
	}
	start, end := l.ValueOffsets(i)
	out := make([]Datum, 0, end-start)
	for k := start; k < end; k++ {
		out = append(out, ValueAt(l.ListValues(), int(k)))
	}
	return out
}

// appendPG is AppendDatum that also appends a []string to a list of VARCHAR.
func appendPG(b array.Builder, v Datum) error {
	if ss, ok := v.([]string); ok {
		lb := b.(*array.ListBuilder)
		lb.Append(true)
		vb := lb.ValueBuilder().(*array.StringBuilder)
		for _, s := range ss {
			vb.Append(s)
		}
		return nil
	}
	if ns, ok := v.([]int64); ok {
		lb := b.(*array.ListBuilder)
		lb.Append(true)
		vb := lb.ValueBuilder().(*array.Int64Builder)
		for _, n := range ns {
			vb.Append(n)
		}
		return nil
	}
	return AppendDatum(b, v)
}

var (
	noArgs   = []pgForm{{}}
	oneOID   = []pgForm{{Int64}}
	anyList  = arrow.ListOf(String) // matches any list argument (see pgFunc)
	privArgs = []pgForm{{String, String}, {Int64, String}, {String, String, String}, {Int64, String, String}, {String, Int64, String}, {Int64, Int64, String}}
)

func init() {
	constant := func(name string, ret arrow.DataType, f func(s *Session) Datum) {
		pgFunc(name, name+"()", ret, false, noArgs, func(s *Session, _ []Datum) (Datum, error) { return f(s), nil })
	}
	constant("current_schema", String, func(*Session) Datum { return "public" })
	constant("current_database", String, func(s *Session) Datum { return s.Database })
	constant("current_catalog", String, func(s *Session) Datum { return s.Database })
	for _, n := range []string{"current_user", "session_user", "user", "current_role", "getpgusername"} {
		constant(n, String, func(s *Session) Datum { return s.User })
	}
	constant("version", String, func(s *Session) Datum { return VersionString(s.Settings["server_version"]) })
	constant("pg_backend_pid", Int64, func(s *Session) Datum { return s.PID })
	pgFuncV("current_schemas", "current_schemas(include_implicit BOOLEAN) -> VARCHAR[]", arrow.ListOf(String), true, false, []pgForm{{Bool}}, func(_ *Session, a []Datum) (Datum, error) {
		if a[0].(bool) {
			return []string{"pg_catalog", "public"}, nil
		}
		return []string{"public"}, nil
	})
	pgFunc("current_setting", "current_setting(name VARCHAR[, missing_ok BOOLEAN])", String, true, []pgForm{{String}, {String, Bool}}, func(s *Session, a []Datum) (Datum, error) {
		v, ok := s.Settings[strings.ToLower(a[0].(string))]
		if !ok {
			if len(a) == 2 && a[1].(bool) {
				return nil, nil
			}
			return nil, Errorf(CodeUndefinedObject, "unrecognized configuration parameter %q", a[0])
		}
		return v, nil
	})
	// set_config answers like SET: the server accepts session settings without applying them,
	// so it returns the value it was given.
	pgFunc("set_config", "set_config(name VARCHAR, value VARCHAR, is_local BOOLEAN)", String, false, []pgForm{{String, String, Bool}}, func(_ *Session, a []Datum) (Datum, error) {
		if a[0] == nil {
			return nil, Errorf(CodeInvalidParameter, "set_config: the setting name must not be NULL")
		}
		return a[1], nil
	})
	pgFunc("pg_get_userbyid", "pg_get_userbyid(role OID)", String, true, oneOID, func(s *Session, a []Datum) (Datum, error) {
		if a[0].(int64) == BootstrapRoleOID {
			return s.User, nil
		}
		return fmt.Sprintf("unknown (OID=%d)", a[0]), nil
	})
	pgFunc("pg_table_is_visible", "pg_table_is_visible(relation OID)", Bool, true, oneOID, func(s *Session, a []Datum) (Datum, error) {
		name, ok := relationName(s, a[0].(int64))
		return ok && !strings.HasPrefix(name, "information_schema."), nil
	})
	pgFunc("pg_type_is_visible", "pg_type_is_visible(type OID)", Bool, true, oneOID, func(_ *Session, a []Datum) (Datum, error) {
		_, ok := LookupPGType(a[0].(int64))
		return ok, nil
	})
	pgFunc("pg_function_is_visible", "pg_function_is_visible(function OID)", Bool, true, oneOID, func(_ *Session, a []Datum) (Datum, error) {
		_, ok := FunctionByOID(a[0].(int64))
		return ok, nil
	})
	pgFunc("format_type", "format_type(type OID, typmod INTEGER)", String, false, []pgForm{{Int64, Int64}}, func(_ *Session, a []Datum) (Datum, error) {
		if a[0] == nil {
			return nil, nil
		}
		mod := int64(-1)
		if a[1] != nil {
			mod = a[1].(int64)
		}
		return FormatPGType(a[0].(int64), mod), nil
	})
	// Defaults and partition bounds are stored as text: pg_get_expr shows them as they are.
	pgFunc("pg_get_expr", "pg_get_expr(expr VARCHAR, relation OID[, pretty BOOLEAN])", String, true, []pgForm{{String, Int64}, {String, Int64, Bool}}, func(_ *Session, a []Datum) (Datum, error) {
		return a[0], nil
	})
	// There are no indexes or constraints: every OID is unknown, for which PostgreSQL says NULL.
	pgFunc("pg_get_indexdef", "pg_get_indexdef(index OID[, column INTEGER, pretty BOOLEAN])", String, false, []pgForm{{Int64}, {Int64, Int64, Bool}}, func(*Session, []Datum) (Datum, error) { return nil, nil })
	pgFunc("pg_get_constraintdef", "pg_get_constraintdef(constraint OID[, pretty BOOLEAN])", String, false, []pgForm{{Int64}, {Int64, Bool}}, func(*Session, []Datum) (Datum, error) { return nil, nil })
	pgFunc("pg_get_viewdef", "pg_get_viewdef(view OID[, pretty BOOLEAN])", String, true, []pgForm{{Int64}, {Int64, Bool}}, func(s *Session, a []Datum) (Datum, error) {
		if s.Catalog == nil {
			return nil, nil
		}
		if d, ok := s.Catalog.ViewDefinition(a[0].(int64)); ok {
			return d, nil
		}
		return nil, nil
	})
	describe := func(s *Session, oid, sub int64) Datum {
		if s.Catalog == nil {
			return nil
		}
		if d, ok := s.Catalog.Description(oid, sub); ok {
			return d
		}
		return nil
	}
	pgFunc("obj_description", "obj_description(object OID[, catalog VARCHAR])", String, true, []pgForm{{Int64}, {Int64, String}}, func(s *Session, a []Datum) (Datum, error) {
		if len(a) == 2 && a[1].(string) != "pg_class" {
			return nil, nil // only relations carry descriptions
		}
		return describe(s, a[0].(int64), 0), nil
	})
	pgFunc("col_description", "col_description(relation OID, column INTEGER)", String, true, []pgForm{{Int64, Int64}}, func(s *Session, a []Datum) (Datum, error) {
		return describe(s, a[0].(int64), a[1].(int64)), nil
	})
	pgFunc("shobj_description", "shobj_description(object OID, catalog VARCHAR)", String, true, []pgForm{{Int64, String}}, func(*Session, []Datum) (Datum, error) { return nil, nil })
	// One role holds every privilege; a relation named by text must exist, as in PostgreSQL.
	for _, n := range []string{"has_table_privilege", "has_any_column_privilege", "has_column_privilege", "has_schema_privilege", "has_database_privilege", "has_function_privilege", "has_sequence_privilege"} {
		forms := privArgs
		if n == "has_column_privilege" {
			forms = []pgForm{{String, String, String}, {Int64, String, String}, {Int64, Int64, String}, {String, String, String, String}}
		}
		table := n == "has_table_privilege" || n == "has_any_column_privilege"
		pgFunc(n, n+"([user,] object, privilege VARCHAR)", Bool, true, forms, func(s *Session, a []Datum) (Datum, error) {
			if table {
				obj := a[len(a)-2]
				if name, ok := obj.(string); ok {
					if _, err := RegclassIn(s, name); err != nil {
						return nil, err
					}
				}
			}
			return true, nil
		})
	}
	pgFunc("pg_encoding_to_char", "pg_encoding_to_char(encoding INTEGER)", String, true, []pgForm{{Int64}}, func(_ *Session, a []Datum) (Datum, error) {
		switch a[0].(int64) {
		case 0:
			return "SQL_ASCII", nil
		case 6:
			return "UTF8", nil
		}
		return "", nil
	})
	listLen := func(a []Datum) (int64, bool) {
		if len(a) == 2 && a[1].(int64) != 1 {
			return 0, false // one-dimensional arrays only
		}
		n := int64(len(a[0].([]Datum)))
		return n, n > 0
	}
	pgFuncV("array_upper", "array_upper(array ANY[], dimension BIGINT)", Int64, true, false, []pgForm{{anyList, Int64}}, func(_ *Session, a []Datum) (Datum, error) {
		if n, ok := listLen(a); ok {
			return n, nil
		}
		return nil, nil
	})
	pgFuncV("array_lower", "array_lower(array ANY[], dimension BIGINT)", Int64, true, false, []pgForm{{anyList, Int64}}, func(_ *Session, a []Datum) (Datum, error) {
		if _, ok := listLen(a); ok {
			return int64(1), nil
		}
		return nil, nil
	})
	pgFuncV("array_length", "array_length(array ANY[], dimension BIGINT)", Int64, true, false, []pgForm{{anyList, Int64}}, func(_ *Session, a []Datum) (Datum, error) {
		if n, ok := listLen(a); ok {
			return n, nil
		}
		return nil, nil
	})
	pgFuncV("cardinality", "cardinality(array ANY[])", Int64, true, false, []pgForm{{anyList}}, func(_ *Session, a []Datum) (Datum, error) {
		return int64(len(a[0].([]Datum))), nil
	})
	pgFunc("array_to_string", "array_to_string(array ANY[], delimiter VARCHAR[, null_string VARCHAR])", String, false, []pgForm{{anyList, String}, {anyList, String, String}}, func(_ *Session, a []Datum) (Datum, error) {
		if a[0] == nil || a[1] == nil {
			return nil, nil
		}
		var parts []string
		for _, v := range a[0].([]Datum) {
			switch {
			case v != nil:
				parts = append(parts, fmt.Sprint(v))
			case len(a) == 3 && a[2] != nil:
				parts = append(parts, a[2].(string))
			}
		}
		return strings.Join(parts, a[1].(string)), nil
	})
	pgFunc("quote_ident", "quote_ident(name VARCHAR)", String, true, []pgForm{{String}}, func(_ *Session, a []Datum) (Datum, error) {
		return QuoteIdent(a[0].(string)), nil
	})
	pgFunc("pg_get_function_result", "pg_get_function_result(function OID)", String, true, oneOID, func(_ *Session, a []Datum) (Datum, error) {
		if f, ok := FunctionByOID(a[0].(int64)); ok {
			return FunctionResult(f), nil
		}
		return nil, nil
	})
	for _, n := range []string{"pg_get_function_arguments", "pg_get_function_identity_arguments"} {
		pgFunc(n, n+"(function OID)", String, true, oneOID, func(_ *Session, a []Datum) (Datum, error) {
			if f, ok := FunctionByOID(a[0].(int64)); ok {
				return FunctionArguments(f), nil
			}
			return nil, nil
		})
	}
	// The casts ::regclass, ::regtype, ::regnamespace and back to text: the binder calls these.
	pgFunc("__regclass_in", "'name'::regclass", Int64, true, []pgForm{{String}}, func(s *Session, a []Datum) (Datum, error) {
		return RegclassIn(s, a[0].(string))
	})
	pgFunc("__regclass_out", "oid::regclass::text", String, true, oneOID, func(s *Session, a []Datum) (Datum, error) {
		if name, ok := relationName(s, a[0].(int64)); ok {
			return name, nil
		}
		return strconv.FormatInt(a[0].(int64), 10), nil
	})
	pgFunc("__regtype_in", "'name'::regtype", Int64, true, []pgForm{{String}}, func(_ *Session, a []Datum) (Datum, error) {
		return RegtypeIn(a[0].(string))
	})
	pgFunc("__regtype_out", "oid::regtype::text", String, true, oneOID, func(_ *Session, a []Datum) (Datum, error) {
		if t, ok := LookupPGType(a[0].(int64)); ok {
			return t.Format, nil
		}
		return strconv.FormatInt(a[0].(int64), 10), nil
	})
	pgFunc("__regnamespace_in", "'name'::regnamespace", Int64, true, []pgForm{{String}}, func(_ *Session, a []Datum) (Datum, error) {
		for _, oid := range []int64{NamespacePGCatalog, NamespacePublic, NamespaceInformationSchema} {
			if n, _ := NamespaceName(oid); n == unquoteIdent(a[0].(string)) {
				return oid, nil
			}
		}
		return nil, Errorf(CodeUndefinedSchema, "schema %q does not exist", a[0])
	})
	pgFunc("__regnamespace_out", "oid::regnamespace::text", String, true, oneOID, func(_ *Session, a []Datum) (Datum, error) {
		if n, ok := NamespaceName(a[0].(int64)); ok {
			return n, nil
		}
		return strconv.FormatInt(a[0].(int64), 10), nil
	})
	// regproc values are function names (pg_type.typinput is "array_in"): the cast drops the
	// schema, so typinput = 'pg_catalog.array_in'::regproc compares names.
	pgFuncV("__regproc_in", "'name'::regproc", String, true, false, []pgForm{{String}}, func(_ *Session, a []Datum) (Datum, error) {
		return strings.TrimPrefix(a[0].(string), "pg_catalog."), nil
	})
}

// VersionString is version()'s answer for a server_version setting.
func VersionString(serverVersion string) string {
	if serverVersion == "" {
		serverVersion = "17.0"
	}
	if strings.Contains(serverVersion, "streamsql") {
		return "PostgreSQL " + serverVersion
	}
	return "PostgreSQL " + serverVersion + " (streamsql)"
}

func relationName(s *Session, oid int64) (string, bool) {
	if s.Catalog == nil {
		return "", false
	}
	return s.Catalog.RelationName(oid)
}

// RegclassIn is 'name'::regclass: the relation's OID, or 42P01 when there is none.
func RegclassIn(s *Session, name string) (int64, error) {
	if oid, err := strconv.ParseInt(strings.TrimSpace(name), 10, 64); err == nil {
		return oid, nil // '16384'::regclass is the OID itself
	}
	if s.Catalog != nil {
		if oid, ok := s.Catalog.RelationOID(name); ok {
			return oid, nil
		}
	}
	return 0, Errorf(CodeUndefinedTable, "relation %q does not exist", name)
}

// RegtypeIn is 'name'::regtype: PostgreSQL's names (int8, bigint, character varying, text[])
// and the engine's (BIGINT, VARCHAR, DOUBLE).
func RegtypeIn(name string) (int64, error) {
	n := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), "pg_catalog.")))
	n = unquoteIdent(n)
	for _, t := range pgTypes {
		if t.Name == n || t.Format == n {
			return t.OID, nil
		}
	}
	base, arr := strings.CutSuffix(n, "[]")
	if t, err := ParseType(base, nil); err == nil {
		oid, _ := PGTypeOf(t)
		if arr {
			pt, _ := LookupPGType(oid)
			return pt.Array, nil
		}
		return oid, nil
	}
	return 0, Errorf(CodeUndefinedObject, "type %q does not exist", name)
}

func unquoteIdent(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
	}
	return s
}

// QuoteIdent quotes name as an SQL identifier when it needs it (PostgreSQL's quote_ident).
func QuoteIdent(name string) string {
	plain := name != ""
	for i, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			plain = false
		}
	}
	if plain {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// FunctionOID is the stable OID pg_proc shows for a registered function: derived from its name,
// in a range no other catalog object uses (below PostgreSQL's first user OID, 16384, and above
// the fixed OIDs of types and namespaces).
func FunctionOID(name string) int64 {
	h := fnv.New32a()
	h.Write([]byte(name))
	return 14000 + int64(h.Sum32()%2000) // PGFunctions resolves collisions
}

// PGFunctions lists the functions pg_proc shows, sorted by name, with their OIDs: every
// identifier-named registered function except the binder's internal ones. OIDs come from
// FunctionOID, moving to the next free value on a collision (in name order, so stable as long
// as the set of functions is).
func PGFunctions() []struct {
	OID int64
	F   *Function
} {
	names := FunctionNames()
	sort.Strings(names)
	used := map[int64]bool{}
	var out []struct {
		OID int64
		F   *Function
	}
	for _, n := range names {
		if strings.HasPrefix(n, "__") {
			continue
		}
		oid := FunctionOID(n)
		for used[oid] {
			oid++
		}
		used[oid] = true
		out = append(out, struct {
			OID int64
			F   *Function
		}{oid, registry[n]})
	}
	return out
}

// FunctionByOID finds a function pg_proc lists.
func FunctionByOID(oid int64) (*Function, bool) {
	for _, f := range PGFunctions() {
		if f.OID == oid {
			return f.F, true
		}
	}
	return nil, false
}

// FunctionArguments is pg_get_function_arguments: the argument list of the function's usage.
func FunctionArguments(f *Function) string {
	u := f.Usage
	open := strings.IndexByte(u, '(')
	if open < 0 {
		return ""
	}
	depth := 0
	for i := open; i < len(u); i++ {
		switch u[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return u[open+1 : i]
			}
		}
	}
	return u[open+1:]
}

// FunctionResult is pg_get_function_result: the type after "->" in the usage, else the type the
// function returns for the argument types its usage declares.
func FunctionResult(f *Function) string {
	if _, after, ok := strings.Cut(f.Usage, "->"); ok {
		return strings.ToLower(strings.Fields(after)[0])
	}
	var args []arrow.DataType
	for _, part := range strings.Split(FunctionArguments(f), ",") {
		part = strings.TrimSpace(strings.Split(part, "[")[0])
		if part == "" {
			continue
		}
		ws := strings.Fields(part)
		var t arrow.DataType
		switch w := ws[len(ws)-1]; w {
		case "OID":
			t = Int64
		case "ANY[]":
			t = arrow.ListOf(String)
		default:
			var err error
			if t, err = ParseType(strings.TrimSuffix(w, "[]"), nil); err != nil {
				break
			}
			if strings.HasSuffix(w, "[]") {
				t = arrow.ListOf(t)
			}
		}
		if t == nil {
			break
		}
		args = append(args, t)
	}
	if b, err := f.Bind(args); err == nil {
		return FormatPGType(PGTypeOf(b.Ret))
	}
	return "unknown"
}

func init() {
	// __scalar_subquery(n, v) is the value of a decorrelated scalar subquery that matched n rows
	// (NULL: none): v, or PostgreSQL's error when more than one row matched.
	register(&Function{Name: "__scalar_subquery", Usage: "__scalar_subquery(rows BIGINT, value)", Bind: func(args []arrow.DataType) (*Bound, error) {
		if len(args) != 2 || args[0].ID() != arrow.INT64 {
			return nil, ArgTypeError("__scalar_subquery", "__scalar_subquery(rows BIGINT, value)", args)
		}
		return &Bound{Args: args, Ret: args[1], Kernel: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			rows := a[0].(*array.Int64)
			for i := 0; i < n; i++ {
				if !rows.IsNull(i) && rows.Value(i) > 1 {
					return nil, Errorf(CodeCardinality, "more than one row returned by a subquery used as an expression")
				}
			}
			a[1].Retain()
			return a[1], nil
		}}, nil
	}})
}

func init() {
	// Sizes are not tracked: the size functions answer NULL ("unknown"), which psql's \dt+ and
	// \l+ show as an empty Size.
	for _, n := range []string{"pg_table_size", "pg_relation_size", "pg_total_relation_size", "pg_indexes_size", "pg_database_size"} {
		pgFunc(n, n+"(relation OID)", Int64, true, []pgForm{{Int64}, {String}}, func(*Session, []Datum) (Datum, error) { return nil, nil })
	}
	pgFuncV("pg_size_pretty", "pg_size_pretty(bytes BIGINT)", String, true, false, []pgForm{{Int64}}, func(_ *Session, a []Datum) (Datum, error) {
		return SizePretty(a[0].(int64)), nil
	})
	// Built-in functions have no SQL body (prosrc names them).
	pgFunc("pg_get_function_sqlbody", "pg_get_function_sqlbody(function OID)", String, true, oneOID, func(*Session, []Datum) (Datum, error) { return nil, nil })
	// One role holds every privilege and is a member of every role.
	pgFunc("pg_has_role", "pg_has_role([user,] role, privilege VARCHAR)", Bool, true, []pgForm{{String, String}, {Int64, String}, {String, String, String}, {Int64, String, String}, {String, Int64, String}, {Int64, Int64, String}}, func(*Session, []Datum) (Datum, error) {
		return true, nil
	})
}

// SizePretty is pg_size_pretty: below 10 kB in bytes; otherwise in the largest of kB, MB, GB, TB
// that keeps the number below 10,240 (PB beyond), rounded half away from zero. One extra low
// bit is kept while shifting so the last step can round.
func SizePretty(n int64) string {
	const limit = 10 * 1024
	if n > -limit && n < limit {
		return strconv.FormatInt(n, 10) + " bytes"
	}
	half := func(x int64) int64 {
		if x < 0 {
			return (x - 1) / 2
		}
		return (x + 1) / 2
	}
	v := n >> 9 // kB with one extra bit
	for _, unit := range []string{"kB", "MB", "GB", "TB"} {
		if v > -(2*limit-1) && v < 2*limit-1 {
			return strconv.FormatInt(half(v), 10) + " " + unit
		}
		v >>= 10
	}
	return strconv.FormatInt(half(v), 10) + " PB"
}
