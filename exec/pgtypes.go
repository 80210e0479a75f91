package exec

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// PGType is one row of the PostgreSQL type catalog as streamsql presents it (pg_type,
// format_type, ::regtype). OIDs are PostgreSQL's own, so drivers that map OIDs to types
// (JDBC, pgx, node-postgres) recognise them.
type PGType struct {
	OID      int64
	Name     string // typname
	Format   string // format_type() spelling
	Len      int64  // typlen: -1 variable
	Category string // typcategory
	Elem     int64  // typelem: element type of an array type, else 0
	Array    int64  // typarray: the array type of this type, else 0
}

// PGTypes lists the types pg_type shows: the engine's types with their arrays, and the
// catalog's own column types (name, oid, "char", int2, int4, regclass, ...).
var pgTypes = []PGType{
	{16, "bool", "boolean", 1, "B", 0, 1000},
	{17, "bytea", "bytea", -1, "U", 0, 1001},
	{18, "char", "\"char\"", 1, "Z", 0, 1002},
	{19, "name", "name", 64, "S", 0, 1003},
	{20, "int8", "bigint", 8, "N", 0, 1016},
	{21, "int2", "smallint", 2, "N", 0, 1005},
	{23, "int4", "integer", 4, "N", 0, 1007},
	{24, "regproc", "regproc", 4, "N", 0, 1008},
	{25, "text", "text", -1, "S", 0, 1009},
	{26, "oid", "oid", 4, "N", 0, 1028},
	{114, "json", "json", -1, "U", 0, 199},
	{700, "float4", "real", 4, "N", 0, 1021},
	{701, "float8", "double precision", 8, "N", 0, 1022},
	{1000, "_bool", "boolean[]", -1, "A", 16, 0},
	{1002, "_char", "\"char\"[]", -1, "A", 18, 0},
	{1003, "_name", "name[]", -1, "A", 19, 0},
	{1005, "_int2", "smallint[]", -1, "A", 21, 0},
	{1007, "_int4", "integer[]", -1, "A", 23, 0},
	{1009, "_text", "text[]", -1, "A", 25, 0},
	{1015, "_varchar", "character varying[]", -1, "A", 1043, 0},
	{1016, "_int8", "bigint[]", -1, "A", 20, 0},
	{1022, "_float8", "double precision[]", -1, "A", 701, 0},
	{1028, "_oid", "oid[]", -1, "A", 26, 0},
	{1042, "bpchar", "character", -1, "S", 0, 1014},
	{1043, "varchar", "character varying", -1, "S", 0, 1015},
	{1082, "date", "date", 4, "D", 0, 1182},
	{1114, "timestamp", "timestamp without time zone", 8, "D", 0, 1115},
	{1115, "_timestamp", "timestamp without time zone[]", -1, "A", 1114, 0},
	{1182, "_date", "date[]", -1, "A", 1082, 0},
	{1184, "timestamptz", "timestamp with time zone", 8, "D", 0, 1185},
	{1186, "interval", "interval", 16, "T", 0, 1187},
	{1187, "_interval", "interval[]", -1, "A", 1186, 0},
	{1231, "_numeric", "numeric[]", -1, "A", 1700, 0},
	{1700, "numeric", "numeric", -1, "N", 0, 1231},
	{2205, "regclass", "regclass", 4, "N", 0, 2210},
	{2206, "regtype", "regtype", 4, "N", 0, 2211},
	{4089, "regnamespace", "regnamespace", 4, "N", 0, 4090},
}

// PGTypes returns the type catalog (a copy: callers may not change the engine's).
func PGTypes() []PGType { return append([]PGType(nil), pgTypes...) }

// LookupPGType finds a type by OID.
func LookupPGType(oid int64) (PGType, bool) {
	for _, t := range pgTypes {
		if t.OID == oid {
			return t, true
		}
	}
	return PGType{}, false
}

// PGTypeOf maps an engine type to its PostgreSQL type and type modifier (atttypmod: -1, or
// for numeric(p,s) ((p << 16) | s) + 4 as PostgreSQL encodes it).
func PGTypeOf(t arrow.DataType) (oid int64, typmod int64) {
	switch t.ID() {
	case arrow.BOOL:
		return 16, -1
	case arrow.INT64:
		return 20, -1
	case arrow.FLOAT64:
		return 701, -1
	case arrow.STRING:
		return 1043, -1
	case arrow.TIMESTAMP:
		return 1114, -1
	case arrow.DATE32:
		return 1082, -1
	case arrow.DURATION:
		return 1186, -1
	case arrow.DECIMAL128:
		d := t.(*arrow.Decimal128Type)
		return 1700, int64(d.Precision)<<16 | int64(d.Scale) + 4
	case arrow.LIST:
		elem, _ := PGTypeOf(t.(*arrow.ListType).Elem())
		if et, ok := LookupPGType(elem); ok && et.Array != 0 {
			return et.Array, -1
		}
		return 1009, -1
	}
	return 25, -1
}

// FormatPGType is format_type(oid, typmod): "numeric(10,2)", "bigint[]"; NULL (ok false) for a
// NULL oid, "???" for an OID that is no type, as PostgreSQL answers.
func FormatPGType(oid, typmod int64) string {
	t, ok := LookupPGType(oid)
	if !ok {
		return "???"
	}
	if t.OID == 1700 && typmod >= 4 {
		m := typmod - 4
		return fmt.Sprintf("numeric(%d,%d)", m>>16, m&0xffff)
	}
	if (t.OID == 1043 || t.OID == 1042) && typmod >= 4 {
		return fmt.Sprintf("%s(%d)", t.Format, typmod-4)
	}
	return t.Format
}
