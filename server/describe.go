package server

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql"
	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/pgcatalog"
	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sql"
)

// The extended protocol needs a statement's result columns and parameter types at Parse time,
// before any parameter value is known and without running the statement (an INSERT must not run
// twice). The engine has no prepare API, so the server binds queries itself: sql.BindQuery over a
// read-only view of the engine's catalog (schemas from DESCRIBE) gives the result schema and
// never executes anything.

// catalogView is an sql.Catalog whose tables only have schemas; Open is never called by binding.
type catalogView struct {
	ctx context.Context
	eng *streamsql.Engine
}

type schemaOnly struct {
	name   string
	schema *arrow.Schema
}

func (s schemaOnly) Schema() *arrow.Schema { return s.schema }
func (s schemaOnly) Open([]int) (exec.Source, error) {
	return nil, fmt.Errorf("internal: %s is a describe-only table view", s.name)
}

func (c catalogView) TableNames() []string { return c.eng.TableNames() }

func (c catalogView) LookupTable(name string) (planner.TableSource, bool) {
	if r, ok := pgcatalog.Lookup(name); ok {
		return r, true // pg_catalog and information_schema relations have fixed schemas
	}
	schema, err := tableSchema(c.ctx, c.eng, name)
	if err != nil {
		return nil, false
	}
	return schemaOnly{name, schema}, true
}

// quoteIdent renders name as a quoted identifier.
func quoteIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// tableSchema reads the schema of a table, view or source through DESCRIBE.
func tableSchema(ctx context.Context, eng *streamsql.Engine, name string) (*arrow.Schema, error) {
	res, err := eng.Query(ctx, "DESCRIBE "+quoteIdent(name))
	if err != nil {
		return nil, err
	}
	defer res.Release()
	var fields []arrow.Field
	for _, rec := range res.Records {
		for i := 0; i < int(rec.NumRows()); i++ {
			col := exec.FormatValue(rec.Column(0), i)
			t, err := parseTypeName(exec.FormatValue(rec.Column(1), i))
			if err != nil {
				return nil, fmt.Errorf("column %s of %s: %w", col, name, err)
			}
			fields = append(fields, arrow.Field{Name: col, Type: t, Nullable: true})
		}
	}
	return arrow.NewSchema(fields, nil), nil
}

// parseTypeName inverts exec.TypeName: "BIGINT", "DECIMAL(10,2)", "VARCHAR[]".
func parseTypeName(s string) (arrow.DataType, error) {
	if elem, ok := strings.CutSuffix(s, "[]"); ok {
		t, err := parseTypeName(elem)
		if err != nil {
			return nil, err
		}
		return arrow.ListOf(t), nil
	}
	name, args, hasArgs := strings.Cut(s, "(")
	var params []int
	if hasArgs {
		for _, a := range strings.Split(strings.TrimSuffix(args, ")"), ",") {
			n, err := strconv.Atoi(strings.TrimSpace(a))
			if err != nil {
				return nil, fmt.Errorf("bad type %q", s)
			}
			params = append(params, n)
		}
	}
	return exec.ParseType(name, params)
}

// described is what Parse learns about a statement.
type described struct {
	schema *arrow.Schema // nil: the statement returns no rows
	params []string      // engine type of each $n, as literal renders it
}

// paramCandidates are tried in order for a parameter whose type the client left open: the first
// type with which the statement binds wins. VARCHAR first (PostgreSQL's "unknown" defaults to
// text), DOUBLE before BIGINT so a comparison with a DOUBLE column never truncates a client's
// float; integer-only places (LIMIT) fall through to BIGINT.
var paramCandidates = []string{"VARCHAR", "DOUBLE", "BIGINT", "TIMESTAMP", "DATE", "INTERVAL", "BOOLEAN", "DECIMAL"}

// describe binds text (one statement) without running it. clientOIDs are the parameter types the
// client gave in Parse (0 or missing: infer).
func describe(ctx context.Context, eng *streamsql.Engine, text string, clientOIDs []uint32) (*described, error) {
	ph := placeholders(text)
	n := numParams(ph)
	d := &described{params: make([]string, n)}
	known := make([]bool, n)
	for i := 0; i < n && i < len(clientOIDs); i++ {
		if clientOIDs[i] != 0 {
			d.params[i], known[i] = engineTypeOf(clientOIDs[i]), true
		}
	}
	// withTypes renders the statement with a sample value of each parameter's type (untyped NULL
	// while unknown). Non-NULL samples keep binder paths that want a constant (LIMIT) working;
	// 1-like values keep constant folding (1/$1) from failing.
	withTypes := func(types []string) string {
		lits := make([]string, n)
		for i, t := range types {
			lits[i] = probeValues[t]
		}
		out, _ := substitute(text, ph, lits)
		return out
	}
	cat := catalogView{ctx, eng}
	stmt, err := sql.Parse(withTypes(d.params))
	if err != nil {
		return nil, err
	}
	bind := func(src string) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("internal error while binding: %v", r)
			}
		}()
		st, err := sql.Parse(src)
		if err != nil {
			return err
		}
		switch s := st.(type) {
		case *sql.Query:
			_, err = bindQuery(cat, s)
		case *sql.Insert:
			if s.Query != nil {
				_, err = bindQuery(cat, s.Query)
			}
		}
		return err
	}
	if ins, ok := stmt.(*sql.Insert); ok {
		for k, col := range insertValueColumns(ctx, eng, text, ins) {
			if k <= n && !known[k-1] {
				d.params[k-1], known[k-1] = col, true
			}
		}
	}
	for i := range n {
		if known[i] {
			continue
		}
		d.params[i] = "VARCHAR"
		for _, cand := range paramCandidates {
			trial := append([]string(nil), d.params...)
			trial[i] = cand
			if bind(withTypes(trial)) == nil {
				d.params[i] = cand
				break
			}
		}
	}
	if stmt, err = sql.Parse(withTypes(d.params)); err != nil {
		return nil, err
	}
	switch s := stmt.(type) {
	case *sql.Query:
		plan, err := bindQuery(cat, s)
		if err != nil {
			return nil, err
		}
		d.schema = planner.SchemaOf(plan)
	case *sql.Show, *sql.Describe, *sql.DescribeQuery, *sql.Explain:
		// Read-only and cheap: run them once for their columns.
		res, err := eng.Query(ctx, withTypes(d.params))
		if err != nil {
			return nil, err
		}
		d.schema = res.Schema
		res.Release()
	}
	return d, nil
}

// probeValues are the sample literals describe binds parameters with, by engine type.
var probeValues = map[string]string{
	// The VARCHAR probe converts to no other type: a quoted literal takes the type of the other
	// operand (id = '5' is a BIGINT comparison), so '1' would make every parameter "text".
	"": "NULL", "VARCHAR": "'<text>'", "BIGINT": "1", "DOUBLE": "CAST('1' AS DOUBLE)",
	"DECIMAL": "CAST('1' AS DECIMAL(38,9))", "TIMESTAMP": "TIMESTAMP '2000-01-01 00:00:00'",
	"DATE": "DATE '2000-01-01'", "INTERVAL": "INTERVAL '1 second'", "BOOLEAN": "TRUE",
}

// bindQuery is sql.BindQuery with a binder panic turned into an error.
func bindQuery(cat sql.Catalog, q *sql.Query) (plan planner.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error while binding: %v", r)
		}
	}()
	return sql.BindQuery(cat, q)
}

// insertValueColumns maps each $n that stands alone as a value of INSERT ... VALUES to the engine
// type of its target column.
func insertValueColumns(ctx context.Context, eng *streamsql.Engine, text string, ins *sql.Insert) map[int]string {
	schema, err := tableSchema(ctx, eng, ins.Table)
	if err != nil {
		return nil
	}
	var targets []arrow.DataType
	if len(ins.Columns) == 0 {
		for _, f := range schema.Fields() {
			targets = append(targets, f.Type)
		}
	} else {
		for _, c := range ins.Columns {
			idx := -1
			for i, f := range schema.Fields() {
				if strings.EqualFold(f.Name, c) {
					idx = i
				}
			}
			if idx < 0 {
				return nil
			}
			targets = append(targets, schema.Field(idx).Type)
		}
	}
	toks := sql.Lex(text)
	out := map[int]string{}
	start := -1
	for i, t := range toks {
		if t.Is("VALUES") {
			start = i + 1
			break
		}
	}
	if start < 0 {
		return nil
	}
	depth, col := 0, 0
	var elem []sql.Token
	flush := func() {
		if len(elem) == 2 && elem[0].IsOp("$") && elem[1].Kind == sql.TokNumber && col < len(targets) {
			if k, err := strconv.Atoi(elem[1].Text); err == nil && k > 0 {
				name := exec.TypeName(targets[col])
				if targets[col].ID() == arrow.DECIMAL128 {
					name = "DECIMAL"
				}
				if _, dup := out[k]; dup && out[k] != name {
					name = "VARCHAR"
				}
				out[k] = name
			}
		}
		elem = elem[:0]
	}
	for _, t := range toks[start:] {
		switch {
		case t.IsOp("("):
			depth++
			if depth == 1 {
				col = 0
				continue
			}
		case t.IsOp(")"):
			depth--
			if depth == 0 {
				flush()
				continue
			}
		case t.IsOp(",") && depth == 1:
			flush()
			col++
			continue
		}
		if depth >= 1 {
			elem = append(elem, t)
		}
	}
	return out
}

// oidOfEngineType is the ParameterDescription OID of an engine type name from describe.
func oidOfEngineType(t string) uint32 {
	switch t {
	case "BOOLEAN":
		return oidBool
	case "BIGINT":
		return oidInt8
	case "DOUBLE":
		return oidFloat8
	case "DECIMAL":
		return oidNumeric
	case "TIMESTAMP":
		return oidTimestamp
	case "DATE":
		return oidDate
	case "INTERVAL":
		return oidInterval
	}
	return oidText
}
