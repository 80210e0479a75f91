package pgcatalog

import (
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
)

func informationSchemaRelations() []relation {
	return []relation{
		{info, "schemata", "v", columns("catalog_name sql_identifier, schema_name sql_identifier, schema_owner sql_identifier, default_character_set_catalog sql_identifier, default_character_set_schema sql_identifier, default_character_set_name sql_identifier, sql_path character_data"),
			func(_ *Catalog, s *exec.Session) [][]any {
				var out [][]any
				for _, n := range []string{"information_schema", "pg_catalog", "public"} {
					out = append(out, []any{s.Database, n, s.User, nil, nil, nil, nil})
				}
				return out
			}},
		{info, "tables", "v", columns("table_catalog sql_identifier, table_schema sql_identifier, table_name sql_identifier, table_type character_data, self_referencing_column_name sql_identifier, reference_generation character_data, user_defined_type_catalog sql_identifier, user_defined_type_schema sql_identifier, user_defined_type_name sql_identifier, is_insertable_into yes_or_no, is_typed yes_or_no, commit_action character_data"),
			func(c *Catalog, s *exec.Session) [][]any {
				var out [][]any
				for _, e := range c.all() {
					typ, insertable := "BASE TABLE", "NO"
					switch e.relkind {
					case "m":
						continue // PostgreSQL leaves materialized views out of information_schema
					case "v":
						typ = "VIEW"
					}
					if e.obj != nil && e.obj.Kind == Table {
						insertable = "YES"
					}
					ns, _ := exec.NamespaceName(e.namespace)
					out = append(out, []any{s.Database, ns, e.name, typ, nil, nil, nil, nil, nil, insertable, "NO", nil})
				}
				return out
			}},
		{info, "columns", "v", columns("table_catalog sql_identifier, table_schema sql_identifier, table_name sql_identifier, column_name sql_identifier, ordinal_position cardinal_number, column_default character_data, is_nullable yes_or_no, data_type character_data, character_maximum_length cardinal_number, character_octet_length cardinal_number, numeric_precision cardinal_number, numeric_precision_radix cardinal_number, numeric_scale cardinal_number, datetime_precision cardinal_number, interval_type character_data, interval_precision cardinal_number, collation_catalog sql_identifier, collation_schema sql_identifier, collation_name sql_identifier, domain_catalog sql_identifier, domain_schema sql_identifier, domain_name sql_identifier, udt_catalog sql_identifier, udt_schema sql_identifier, udt_name sql_identifier, dtd_identifier sql_identifier, is_self_referencing yes_or_no, is_identity yes_or_no, identity_generation character_data, is_generated character_data, generation_expression character_data, is_updatable yes_or_no"),
			func(c *Catalog, s *exec.Session) [][]any {
				var out [][]any
				for _, e := range c.all() {
					if e.relkind == "m" {
						continue
					}
					ns, _ := exec.NamespaceName(e.namespace)
					for i, col := range e.columns {
						oid, _ := exec.PGTypeOf(col.Type)
						t, _ := exec.LookupPGType(oid)
						dataType := t.Format
						if t.Elem != 0 {
							dataType = "ARRAY"
						}
						var prec, radix, scale, dtPrec any
						switch col.Type.ID() {
						case arrow.INT64:
							prec, radix, scale = 64, 2, 0
						case arrow.FLOAT64:
							prec, radix = 53, 2
						case arrow.DECIMAL128:
							d := col.Type.(*arrow.Decimal128Type)
							prec, radix, scale = int64(d.Precision), 10, int64(d.Scale)
							dataType = "numeric"
						case arrow.TIMESTAMP, arrow.DURATION:
							dtPrec = 6
						case arrow.DATE32:
							dtPrec = 0
						}
						nullable := "YES"
						if col.NotNull {
							nullable = "NO"
						}
						updatable := "NO"
						if e.obj != nil && e.obj.Kind == Table {
							updatable = "YES"
						}
						out = append(out, []any{s.Database, ns, e.name, col.Name, i + 1, nil, nullable, dataType, nil, nil, prec, radix, scale, dtPrec, nil, nil, nil, nil, nil, nil, nil, nil, s.Database, "pg_catalog", t.Name, itoa(int64(i + 1)), "NO", "NO", nil, "NEVER", nil, updatable})
					}
				}
				return out
			}},
		{info, "views", "v", columns("table_catalog sql_identifier, table_schema sql_identifier, table_name sql_identifier, view_definition character_data, check_option character_data, is_updatable yes_or_no, is_insertable_into yes_or_no, is_trigger_updatable yes_or_no, is_trigger_deletable yes_or_no, is_trigger_insertable_into yes_or_no"),
			func(c *Catalog, s *exec.Session) [][]any {
				var out [][]any
				for _, e := range c.all() {
					if e.relkind == "v" {
						ns, _ := exec.NamespaceName(e.namespace)
						out = append(out, []any{s.Database, ns, e.name, definition(e), "NONE", "NO", "NO", "NO", "NO", "NO"})
					}
				}
				return out
			}},
		{info, "routines", "v", columns("specific_catalog sql_identifier, specific_schema sql_identifier, specific_name sql_identifier, routine_catalog sql_identifier, routine_schema sql_identifier, routine_name sql_identifier, routine_type character_data, data_type character_data, type_udt_name sql_identifier, routine_body character_data, routine_definition character_data, external_language character_data, is_deterministic yes_or_no, is_null_call yes_or_no"),
			func(_ *Catalog, s *exec.Session) [][]any {
				var out [][]any
				for _, f := range exec.PGFunctions() {
					res := exec.FunctionResult(f.F)
					udt := any(nil)
					if oid, err := exec.RegtypeIn(res); err == nil {
						t, _ := exec.LookupPGType(oid)
						udt = t.Name
					}
					specific := f.F.Name + "_" + itoa(f.OID)
					out = append(out, []any{s.Database, "pg_catalog", specific, s.Database, "pg_catalog", f.F.Name, "FUNCTION", res, udt, "EXTERNAL", nil, "INTERNAL", "YES", "NO"})
				}
				return out
			}},
	}
}
