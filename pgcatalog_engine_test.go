package streamsql

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/internal/testdb"
)

// catalogRows runs query on e and renders its rows as "a|b" lines.
func catalogRows(t *testing.T, e *Engine, ctx context.Context, query string) []string {
	t.Helper()
	res, err := e.Query(ctx, query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer res.Release()
	var out []string
	for _, rec := range res.Records {
		for i := 0; i < int(rec.NumRows()); i++ {
			var cells []string
			for c := 0; c < int(rec.NumCols()); c++ {
				cells = append(cells, exec.FormatValue(rec.Column(c), i))
			}
			out = append(out, strings.Join(cells, "|"))
		}
	}
	return out
}

// pgRows runs query on PostgreSQL and renders its rows like catalogRows (NULL as "NULL").
func pgRows(t *testing.T, conn *pgx.Conn, query string) ([]string, error) {
	t.Helper()
	rows, err := conn.Query(context.Background(), query, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, err
		}
		cells := make([]string, len(vals))
		for i, v := range vals {
			cells[i] = fmt.Sprint(v)
			if v == nil {
				cells[i] = "NULL"
			}
		}
		out = append(out, strings.Join(cells, "|"))
	}
	return out, rows.Err()
}

func TestCatalogRelationsInTheEngine(t *testing.T) {
	e, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := WithSession(context.Background(), Session{User: "alice", Database: "shop", PID: 42})
	if _, err := e.Exec(ctx, `CREATE TABLE t (a BIGINT, s VARCHAR);
CREATE SOURCE src (id BIGINT, ts TIMESTAMP) WITH (connector = 'push');
CREATE MATERIALIZED VIEW mv AS SELECT id, count(*) AS n FROM src GROUP BY id;
CREATE TABLE "MyT" (x BIGINT)`); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		query string
		want  []string
	}{
		{"SELECT current_user, session_user, current_database(), current_schema(), pg_backend_pid()", []string{"alice|alice|shop|public|42"}},
		{"SELECT current_setting('search_path'), current_setting('no_such', true) IS NULL", []string{"public|true"}},
		{"SELECT c.relname, c.relkind, pg_get_userbyid(c.relowner) FROM pg_catalog.pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' ORDER BY 1", []string{"MyT|r|alice", "mv|m|alice", "mv_errors|r|alice", "src|r|alice", "t|r|alice"}},
		{`SELECT '"MyT"'::regclass::text, 'public."MyT"'::regclass = '"MyT"'::regclass`, []string{`"MyT"|true`}},
		{"SELECT 't'::regclass = c.oid, 't'::regclass::oid::regclass::text, 'pg_class'::regclass::text, 'information_schema.tables'::regclass::text FROM pg_class c WHERE c.relname = 't'", []string{"true|t|pg_class|information_schema.tables"}},
		{"SELECT a.attname, format_type(a.atttypid, a.atttypmod), 'bigint'::regtype::text FROM pg_attribute a WHERE a.attrelid = 't'::regclass ORDER BY a.attnum", []string{"a|bigint|bigint", "s|character varying|bigint"}},
		{"SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1", []string{"MyT|BASE TABLE", "mv_errors|BASE TABLE", "src|BASE TABLE", "t|BASE TABLE"}},
		{"SELECT proname, pg_get_function_result(oid) FROM pg_proc WHERE proname IN ('upper', 'now', 'version', 'format_type', 'length', '__regclass_in') ORDER BY 1", []string{"format_type|character varying", "length|bigint", "now|timestamp without time zone", "upper|character varying", "version|character varying"}},
		{"SELECT rolname, datname FROM pg_roles, pg_database", []string{"alice|shop"}},
		{"SELECT relname FROM pg_class WHERE relname ~ '^(s.*)$' COLLATE pg_catalog.default AND relname OPERATOR(pg_catalog.~) '^src'", []string{"src"}},
		{`SELECT array_to_string(parse_ident('a."B c".D'), '|'), s, i FROM string_to_array('x,y', ',') s, generate_series(1, array_length(current_schemas(true), 1)) i ORDER BY i`, []string{"a|B c|d|[x, y]|1", "a|B c|d|[x, y]|2"}},
		{"SELECT u FROM unnest(current_schemas(true)) AS u ORDER BY u DESC", []string{"public", "pg_catalog"}},
		{"SELECT (current_schemas(true))[1], (current_schemas(true))[3] IS NULL, array_upper(current_schemas(false), 1)", []string{"pg_catalog|true|1"}},
	}
	for _, c := range checks {
		if got := catalogRows(t, e, ctx, c.query); strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s:\ngot  %q\nwant %q", c.query, got, c.want)
		}
	}
	// A relation's OID stays with its name: dropped and created again, the same OID.
	before := catalogRows(t, e, ctx, "SELECT 't'::regclass::oid")
	if _, err := e.Exec(ctx, "DROP TABLE t; CREATE TABLE t (x DOUBLE)"); err != nil {
		t.Fatal(err)
	}
	if after := catalogRows(t, e, ctx, "SELECT 't'::regclass::oid"); after[0] != before[0] {
		t.Errorf("OID of t changed from %s to %s", before[0], after[0])
	}
	for query, code := range map[string]string{
		"SELECT 'nope'::regclass":                    "42P01",
		"SELECT * FROM nope.t":                       "3F000",
		"SELECT * FROM pg_catalog.nope":              "42P01",
		"SELECT current_setting('nope')":             "42704",
		"SELECT 1 COLLATE \"de_DE\"":                 "0A000",
		"SELECT ARRAY(SELECT relname FROM pg_class)": "0A000",
	} {
		_, err := e.Query(ctx, query)
		if exec.SQLState(err) != code {
			t.Errorf("%s: %v (SQLSTATE %q), want %s", query, err, exec.SQLState(err), code)
		}
	}
}

// TestInformationSchemaColumnsMatchPostgres compares information_schema.columns for one table
// with what PostgreSQL says for the same CREATE TABLE.
func TestInformationSchemaColumnsMatchPostgres(t *testing.T) {
	conn, err := pgx.Connect(context.Background(), testdb.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	create := "CREATE TABLE streamsql_isc (a BIGINT, f DOUBLE PRECISION, d DECIMAL(10,2), s VARCHAR, ts TIMESTAMP, day DATE, ok BOOLEAN, span INTERVAL)"
	for _, q := range []string{"DROP TABLE IF EXISTS streamsql_isc", create} {
		if _, err := conn.Exec(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	defer conn.Exec(context.Background(), "DROP TABLE IF EXISTS streamsql_isc")
	e, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	if _, err := e.Exec(ctx, create); err != nil {
		t.Fatal(err)
	}
	query := `SELECT column_name, ordinal_position, data_type, is_nullable, numeric_precision, numeric_precision_radix, numeric_scale, datetime_precision, udt_name
FROM information_schema.columns WHERE table_name = 'streamsql_isc' ORDER BY ordinal_position`
	want, err := pgRows(t, conn, query)
	if err != nil {
		t.Fatal(err)
	}
	// udt_name: the engine's strings are varchar, its integers int8 (PostgreSQL says the same).
	if got := catalogRows(t, e, ctx, query); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("streamsql:\n%s\nPostgreSQL:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestCorrelatedScalarSubqueryInWhereMatchesPostgres: the decorrelated scalar subquery gives
// PostgreSQL's rows, and its error when a key matches two rows.
func TestCorrelatedScalarSubqueryInWhereMatchesPostgres(t *testing.T) {
	conn, err := pgx.Connect(context.Background(), testdb.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	setup := []string{"DROP TABLE IF EXISTS streamsql_csa", "DROP TABLE IF EXISTS streamsql_csb",
		"CREATE TABLE streamsql_csa (k BIGINT, v BIGINT)", "CREATE TABLE streamsql_csb (k BIGINT, w BIGINT)",
		"INSERT INTO streamsql_csa VALUES (1, 0), (2, 5), (3, 0), (NULL, 0), (4, 0)",
		"INSERT INTO streamsql_csb VALUES (1, 10), (3, 1), (4, NULL), (9, 100)"}
	e, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	for _, q := range setup {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(q, "DROP") {
			if _, err := e.Exec(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
	}
	defer conn.Exec(ctx, "DROP TABLE streamsql_csa; DROP TABLE streamsql_csb")
	for _, q := range []string{
		"SELECT a.k FROM streamsql_csa a WHERE a.v > 0 OR (SELECT b.w FROM streamsql_csb b WHERE b.k = a.k) > 5 ORDER BY 1",
		"SELECT a.k, a.v FROM streamsql_csa a WHERE coalesce((SELECT b.w FROM streamsql_csb b WHERE a.k = b.k AND b.w < 50), -1) < 2 ORDER BY 1",
		"SELECT count(*) FROM streamsql_csa a WHERE (SELECT b.w > 0 FROM streamsql_csb b WHERE b.k = a.k) IS NULL",
	} {
		want, err := pgRows(t, conn, q)
		if err != nil {
			t.Fatalf("PostgreSQL: %s: %v", q, err)
		}
		if got := catalogRows(t, e, ctx, q); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s:\nstreamsql  %q\nPostgreSQL %q", q, got, want)
		}
	}
	dup := "INSERT INTO streamsql_csb VALUES (1, 11)"
	conn.Exec(ctx, dup)
	e.Exec(ctx, dup)
	q := "SELECT a.k FROM streamsql_csa a WHERE (SELECT b.w FROM streamsql_csb b WHERE b.k = a.k) > 5"
	if _, err := pgRows(t, conn, q); err == nil || !strings.Contains(err.Error(), "21000") {
		t.Fatalf("PostgreSQL: %v", err)
	}
	if _, err := e.Query(ctx, q); exec.SQLState(err) != "21000" {
		t.Errorf("two rows for one key: %v, want SQLSTATE 21000", err)
	}
}
