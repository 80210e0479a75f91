package server

import (
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgtype"
	wire "github.com/jeroenrinzema/psql-wire"
)

// Array parameters. pgx and node-postgres send a list for "x = ANY($1)" / "x <> ALL($1)" as one
// array parameter (int8[], text[], float8[], ...; text format '{1,2,3}' or binary). The engine
// takes ANY/ALL over an ARRAY[...] list, so the server renders an array parameter as
// ARRAY[lit, lit, ...] with each element a typed literal of the element type (literalOf). A NULL
// array becomes ARRAY[NULL], which gives NULL for every x as PostgreSQL's x = ANY(NULL) does.
// Elsewhere arrays are not values the engine has, and the engine's own error says so.

// arrayElem maps the array type OIDs the server accepts to their element OIDs.
var arrayElem = map[uint32]uint32{
	1000: oidBool, 1005: oidInt2, 1007: oidInt4, 1016: oidInt8, 1028: oidOID,
	1021: oidFloat4, 1022: oidFloat8, 1231: oidNumeric,
	1009: oidText, 1015: oidVarchar, 1014: oidBPChar, 1003: oidName,
	1182: oidDate, 1115: oidTimestamp, 1185: oidTimestTZ, 1187: oidInterval, 1183: oidTime,
}

// arrayOIDOf is the array OID announced for an element engine type (the inverse for describe).
var arrayOIDOf = map[string]uint32{
	"BOOLEAN": 1000, "BIGINT": 1016, "DOUBLE": 1022, "DECIMAL": 1231, "VARCHAR": 1009,
	"DATE": 1182, "TIMESTAMP": 1115, "TIMESTAMPTZ": 1185, "INTERVAL": 1187, "TIME": 1183,
}

// maxArrayParamElements bounds an array parameter: each element becomes a literal in the
// statement text.
const maxArrayParamElements = 1 << 20

// arrayLiteral renders an array parameter (elem is the element OID) as ARRAY[...].
func arrayLiteral(m *pgtype.Map, oid, elem uint32, p wire.Parameter) (string, error) {
	et := engineTypeOf(elem)
	if p.Value() == nil {
		return "ARRAY[CAST(NULL AS " + sqlTypeOf(et) + ")]", nil
	}
	if _, ok := m.TypeForOID(oid); !ok {
		return "", fmt.Errorf("array type %d is not supported", oid)
	}
	format := int16(pgtype.TextFormatCode)
	if p.Format() == wire.BinaryFormat {
		format = pgtype.BinaryFormatCode
	}
	var elems []any
	if err := m.PlanScan(oid, format, &elems).Scan(p.Value(), &elems); err != nil {
		return "", fmt.Errorf("invalid input syntax for type %s[]: %v", strings.ToLower(et), err)
	}
	if len(elems) > maxArrayParamElements {
		return "", fmt.Errorf("array parameter has %d elements; at most %d are supported", len(elems), maxArrayParamElements)
	}
	var sb strings.Builder
	sb.WriteString("ARRAY[")
	for i, e := range elems {
		if i > 0 {
			sb.WriteString(", ")
		}
		if e == nil {
			sb.WriteString("CAST(NULL AS " + sqlTypeOf(et) + ")")
			continue
		}
		if _, nested := e.([]any); nested {
			return "", fmt.Errorf("multidimensional array parameters are not supported")
		}
		lit, err := literalOf(et, elementValue(et, e))
		if err != nil {
			return "", fmt.Errorf("element %d: %w", i+1, err)
		}
		sb.WriteString(lit)
	}
	sb.WriteString("]")
	return sb.String(), nil
}

// elementValue adapts what pgx decodes an array element to (for its element type) to what
// literalOf takes: a string for text, Go numbers, time.Time, pgtype values.
func elementValue(t string, e any) any {
	switch x := e.(type) {
	case pgtype.Date:
		if x.InfinityModifier != pgtype.Finite {
			return x.InfinityModifier
		}
		return x.Time
	case pgtype.Timestamp:
		if x.InfinityModifier != pgtype.Finite {
			return x.InfinityModifier
		}
		return x.Time
	case pgtype.Timestamptz:
		if x.InfinityModifier != pgtype.Finite {
			return x.InfinityModifier
		}
		return x.Time
	}
	return e
}
