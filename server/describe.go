package server

import (
	"context"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql"
	"github.com/streamsql/streamsql/exec"
)

// The extended protocol needs a statement's result columns and parameter types at Parse time,
// before any parameter value is known and without running the statement (an INSERT must not run
// twice). Engine.Prepare gives both: it binds the statement against the catalog with typed
// parameters, inferring each $n's type from where it stands.

// quoteIdent renders name as a quoted identifier.
func quoteIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// tableSchema is the schema of a table, view or source.
func tableSchema(ctx context.Context, eng *streamsql.Engine, name string) (*arrow.Schema, error) {
	p, err := eng.Prepare(ctx, "SELECT * FROM "+quoteIdent(name), nil)
	if err != nil {
		return nil, err
	}
	return p.Schema, nil
}

// described is what Parse learns about a statement.
type described struct {
	schema *arrow.Schema // nil: the statement returns no rows
	params []string      // engine type of each $n, as literal renders it ("BIGINT[]" for arrays)
}

// describe prepares text (one statement with n parameters) without running it. clientOIDs are
// the parameter types the client gave in Parse (0 or missing: infer).
func describe(ctx context.Context, eng *streamsql.Engine, text string, n int, clientOIDs []uint32) (*described, error) {
	declared := make([]arrow.DataType, n)
	for i := 0; i < n && i < len(clientOIDs); i++ {
		declared[i] = arrowTypeOfOID(clientOIDs[i])
	}
	p, err := eng.Prepare(ctx, text, declared)
	if err != nil {
		return nil, err
	}
	d := &described{schema: p.Schema, params: make([]string, n)}
	for i := range d.params {
		d.params[i] = "VARCHAR"
		if i < len(p.Params) {
			d.params[i] = engineTypeName(p.Params[i])
		}
	}
	return d, nil
}

// arrowTypeOfOID is the engine type a client's declared parameter type binds as; nil (infer) for
// unknown and text types, which stay open like untyped literals.
func arrowTypeOfOID(oid uint32) arrow.DataType {
	if elem, ok := arrayElem[oid]; ok {
		if t := arrowTypeOfOID(elem); t != nil {
			return arrow.ListOf(t)
		}
		return arrow.ListOf(exec.String)
	}
	switch engineTypeOf(oid) {
	case "BOOLEAN":
		return exec.Bool
	case "BIGINT":
		return exec.Int64
	case "DOUBLE":
		return exec.Float64
	case "DECIMAL":
		if t, err := exec.ParseType("DECIMAL", []int{38, 9}); err == nil {
			return t
		}
	case "TIMESTAMP", "TIMESTAMPTZ":
		return exec.Timestamp
	case "DATE":
		return exec.Date
	case "INTERVAL":
		return exec.Interval
	}
	return nil
}

// engineTypeName is the literal type name (params.go) of an engine type.
func engineTypeName(t arrow.DataType) string {
	switch t.ID() {
	case arrow.LIST:
		return engineTypeName(t.(*arrow.ListType).Elem()) + "[]"
	case arrow.BOOL:
		return "BOOLEAN"
	case arrow.INT64:
		return "BIGINT"
	case arrow.FLOAT64:
		return "DOUBLE"
	case arrow.DECIMAL128:
		return "DECIMAL"
	case arrow.TIMESTAMP:
		return "TIMESTAMP"
	case arrow.DATE32:
		return "DATE"
	case arrow.DURATION:
		return "INTERVAL"
	}
	return "VARCHAR"
}

// oidOfEngineType is the ParameterDescription OID of an engine type name from describe.
func oidOfEngineType(t string) uint32 {
	if elem, ok := strings.CutSuffix(t, "[]"); ok {
		if oid, ok := arrayOIDOf[elem]; ok {
			return oid
		}
		return 1009 // text[]
	}
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
	case "TIMESTAMPTZ":
		return oidTimestTZ
	case "TIME":
		return oidTime
	case "DATE":
		return oidDate
	case "INTERVAL":
		return oidInterval
	}
	return oidText
}
