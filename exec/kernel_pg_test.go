package exec

import (
	"context"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// callPG evaluates a registered function over one row of constant arguments with session s.
func callPG(t *testing.T, s *Session, name string, args ...Datum) (Datum, error) {
	t.Helper()
	ctx := NewCtx(context.Background(), time.Unix(0, 0))
	ctx.Session = s
	var types []arrow.DataType
	var cols []arrow.Array
	for _, a := range args {
		var typ arrow.DataType
		switch v := a.(type) {
		case int64:
			typ = Int64
		case string:
			typ = String
		case bool:
			typ = Bool
		case []string:
			typ = arrow.ListOf(String)
			b := array.NewListBuilder(ctx.Mem, String)
			b.Append(true)
			for _, x := range v {
				b.ValueBuilder().(*array.StringBuilder).Append(x)
			}
			cols = append(cols, b.NewArray())
			types = append(types, typ)
			continue
		}
		arr, err := ConstantArray(ctx.Mem, typ, a, 1)
		if err != nil {
			t.Fatal(err)
		}
		types, cols = append(types, typ), append(cols, arr)
	}
	b, err := BindCall(name, types)
	if err != nil {
		return nil, err
	}
	out, err := b.Kernel(ctx, cols, 1)
	if err != nil {
		return nil, err
	}
	return ValueAt(out, 0), nil
}

type fakeCatalog map[string]int64

func (f fakeCatalog) RelationOID(name string) (int64, bool) { oid, ok := f[name]; return oid, ok }
func (f fakeCatalog) RelationName(oid int64) (string, bool) {
	for n, o := range f {
		if o == oid {
			return n, true
		}
	}
	return "", false
}
func (f fakeCatalog) Description(oid, sub int64) (string, bool) {
	return "about " + fmtInt(oid), sub == 0 && oid == f["t"]
}
func (f fakeCatalog) ViewDefinition(int64) (string, bool) { return "", false }

func fmtInt(n int64) string { return FormatDatum(Int64, n) }

func TestPGFunctions(t *testing.T) {
	s := &Session{User: "bob", Database: "shop", PID: 7, Settings: map[string]string{"server_version": "15.4", "search_path": "public"},
		Catalog: fakeCatalog{"t": 16400, "information_schema.tables": 13100}}
	cases := []struct {
		name string
		args []Datum
		want Datum
		code string
	}{
		{"current_user", nil, "bob", ""},
		{"current_database", nil, "shop", ""},
		{"pg_backend_pid", nil, int64(7), ""},
		{"version", nil, "PostgreSQL 15.4 (streamsql)", ""},
		{"current_setting", []Datum{"SEARCH_PATH"}, "public", ""},
		{"current_setting", []Datum{"nope"}, nil, CodeUndefinedObject},
		{"current_setting", []Datum{"nope", true}, nil, ""},
		{"format_type", []Datum{int64(1700), int64(10<<16 | 2 + 4)}, "numeric(10,2)", ""},
		{"format_type", []Datum{int64(1043), int64(-1)}, "character varying", ""},
		{"format_type", []Datum{int64(1043), int64(14)}, "character varying(10)", ""},
		{"format_type", []Datum{int64(99999), int64(-1)}, "???", ""},
		{"pg_get_userbyid", []Datum{int64(10)}, "bob", ""},
		{"pg_get_userbyid", []Datum{int64(11)}, "unknown (OID=11)", ""},
		{"pg_table_is_visible", []Datum{int64(16400)}, true, ""},
		{"pg_table_is_visible", []Datum{int64(13100)}, false, ""},
		{"pg_table_is_visible", []Datum{int64(1)}, false, ""},
		{"obj_description", []Datum{int64(16400), "pg_class"}, "about 16400", ""},
		{"obj_description", []Datum{int64(16400), "pg_type"}, nil, ""},
		{"has_table_privilege", []Datum{"t", "SELECT"}, true, ""},
		{"has_table_privilege", []Datum{"nope", "SELECT"}, nil, CodeUndefinedTable},
		{"pg_encoding_to_char", []Datum{int64(6)}, "UTF8", ""},
		{"quote_ident", []Datum{"Mixed Case"}, `"Mixed Case"`, ""},
		{"quote_ident", []Datum{"plain_1"}, "plain_1", ""},
		{"array_to_string", []Datum{[]string{"a", "b"}, ", "}, "a, b", ""},
		{"array_upper", []Datum{[]string{"a", "b"}, int64(1)}, int64(2), ""},
		{"array_upper", []Datum{[]string{}, int64(1)}, nil, ""},
		{"element_at", []Datum{[]string{"a", "b"}, int64(2)}, "b", ""},
		{"element_at", []Datum{[]string{"a", "b"}, int64(3)}, nil, ""},
		{"element_at", []Datum{[]string{"a", "b"}, int64(0)}, nil, ""},
		{"__regclass_in", []Datum{"t"}, int64(16400), ""},
		{"__regclass_in", []Datum{"16401"}, int64(16401), ""},
		{"__regclass_in", []Datum{"nope"}, nil, CodeUndefinedTable},
		{"__regclass_out", []Datum{int64(16400)}, "t", ""},
		{"__regclass_out", []Datum{int64(5)}, "5", ""},
		{"__regtype_in", []Datum{"character varying"}, int64(1043), ""},
		{"__regtype_in", []Datum{"BIGINT"}, int64(20), ""},
		{"__regtype_in", []Datum{"int8[]"}, int64(1016), ""},
		{"__regtype_in", []Datum{"nope"}, nil, CodeUndefinedObject},
		{"__regnamespace_out", []Datum{int64(2200)}, "public", ""},
		{"__regproc_in", []Datum{"pg_catalog.array_in"}, "array_in", ""},
		{"pg_size_pretty", []Datum{int64(10239)}, "10239 bytes", ""},
		{"pg_size_pretty", []Datum{int64(10240)}, "10 kB", ""},
		{"pg_size_pretty", []Datum{int64(1536 * 1024)}, "1536 kB", ""},
		{"pg_size_pretty", []Datum{int64(20 << 20)}, "20 MB", ""},
		{"pg_size_pretty", []Datum{int64(-20 << 20)}, "-20 MB", ""},
		{"pg_table_size", []Datum{int64(16400)}, nil, ""},
	}
	for _, c := range cases {
		got, err := callPG(t, s, c.name, c.args...)
		if c.code != "" {
			if SQLState(err) != c.code {
				t.Errorf("%s%v: %v, want SQLSTATE %s", c.name, c.args, err, c.code)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s%v = %v (%v), want %v", c.name, c.args, got, err, c.want)
		}
	}
	// Without a session the functions answer as user and database streamsql.
	if got, _ := callPG(t, nil, "current_user"); got != "streamsql" {
		t.Errorf("current_user without a session = %v", got)
	}
}

func TestPGFunctionCatalog(t *testing.T) {
	seen := map[int64]bool{}
	for _, f := range PGFunctions() {
		if seen[f.OID] || f.OID < 14000 || f.OID >= 16384 {
			t.Fatalf("%s: OID %d reused or out of range", f.F.Name, f.OID)
		}
		seen[f.OID] = true
		if g, ok := FunctionByOID(f.OID); !ok || g != f.F {
			t.Fatalf("FunctionByOID(%d) is not %s", f.OID, f.F.Name)
		}
	}
	f, _ := LookupFunction("substring")
	if got := FunctionArguments(f); got != "str VARCHAR, start BIGINT[, len BIGINT]" {
		t.Errorf("arguments of substring: %q", got)
	}
	if got := FunctionResult(f); got != "character varying" {
		t.Errorf("result of substring: %q", got)
	}
	if _, ok := FunctionByOID(FunctionOID("__regclass_in")); ok {
		t.Error("internal functions are not in pg_proc")
	}
}
