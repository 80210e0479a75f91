package server

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// The queries Grafana's PostgreSQL data source (public/app/plugins/datasource/
// grafana-postgresql-datasource/postgresMetaQuery.ts: version and TimescaleDB detection, schema
// and table pickers) and DBeaver's PostgreSQL plugin (connection context, database, schema,
// role, table, column and type caches) send when they connect, run over the extended protocol
// as those clients do, each checked for the rows it must return.
func TestGrafanaAndDBeaverConnectQueries(t *testing.T) {
	ts := catalogFixture(t)
	ctx := context.Background()
	c := connect(t, ts.url(""))
	var tradesOID int64
	if err := c.QueryRow(ctx, "SELECT 'trades'::regclass").Scan(&tradesOID); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		client, sql string
		want        func(rows [][]string) string // "" when the rows are right
	}{
		{"grafana", "SELECT current_setting('server_version_num')::int/100 as version", func(r [][]string) string {
			var v int
			if len(r) != 1 || func() error { _, err := fmt.Sscan(r[0][0], &v); return err }() != nil || v < 1000 {
				return "want one version, 1000 or more (PostgreSQL 10+)"
			}
			return ""
		}},
		{"grafana", "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'", rowsAre()},
		{"grafana", `SELECT schema_name AS "name"
    FROM information_schema.schemata
    WHERE schema_name NOT IN ('information_schema',
                              'pg_catalog',
                              'pg_toast',
                              '_timescaledb_cache',
                              '_timescaledb_catalog',
                              '_timescaledb_internal',
                              '_timescaledb_config',
                              'timescaledb_information',
                              'timescaledb_experimental')
    ORDER BY schema_name`, rowsAre("public")},
		{"grafana", `SELECT quote_ident(table_name) AS "table"
      FROM information_schema.tables
      WHERE quote_ident(table_schema) = 'public'
      ORDER BY 1`, rowsAre("accounts", "tick_counts_errors", "tick_out", "tick_out_errors", "ticks", "trades")},
		{"grafana", `SELECT
    CASE WHEN ` + grafanaSchemaConstraint + `
      THEN quote_ident(table_name)
      ELSE quote_ident(table_schema) || '.' || quote_ident(table_name)
    END AS "table"
    FROM information_schema.tables
    WHERE quote_ident(table_schema) NOT IN ('information_schema',
                             'pg_catalog',
                             '_timescaledb_cache',
                             '_timescaledb_catalog',
                             '_timescaledb_internal',
                             '_timescaledb_config',
                             'timescaledb_information',
                             'timescaledb_experimental')
    ORDER BY CASE WHEN ` + grafanaSchemaConstraint + ` THEN 0 ELSE 1 END, 1`, rowsAre("accounts", "tick_counts_errors", "tick_out", "tick_out_errors", "ticks", "trades")},
		{"grafana", `SELECT quote_ident(column_name) AS "column", data_type AS "type"
    FROM information_schema.columns
    WHERE
      CASE WHEN array_length(parse_ident('trades'),1) = 2
        THEN quote_ident(table_schema) = (parse_ident('trades'))[1]
          AND quote_ident(table_name) = (parse_ident('trades'))[2]
        ELSE quote_ident(table_name) = 'trades'
          AND ` + grafanaSchemaConstraint + `
      END`, rowsAre("symbol|character varying", "shares|bigint", "price|numeric", "at|timestamp without time zone")},
		{"grafana", `SELECT quote_ident(column_name) AS "column", data_type AS "type"
    FROM information_schema.columns
    WHERE
      CASE WHEN array_length(parse_ident('public.accounts'),1) = 2
        THEN quote_ident(table_schema) = (parse_ident('public.accounts'))[1]
          AND quote_ident(table_name) = (parse_ident('public.accounts'))[2]
        ELSE quote_ident(table_name) = 'public.accounts'
          AND ` + grafanaSchemaConstraint + `
      END`, rowsAre("id|bigint", "name|character varying")},
		{"dbeaver", "SELECT current_schema(),session_user", rowsAre("public|tester")},
		{"dbeaver", "SELECT db.oid,db.* FROM pg_catalog.pg_database db WHERE datname='db'", func(r [][]string) string {
			if len(r) != 1 || r[0][2] != "db" {
				return "want the one database db"
			}
			return ""
		}},
		{"dbeaver", "SELECT n.oid,n.*,d.description FROM pg_catalog.pg_namespace n\nLEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=n.oid AND d.objsubid=0 AND d.classoid='pg_namespace'::regclass\n ORDER BY nspname", column(3, "information_schema", "pg_catalog", "public")},
		{"dbeaver", "SELECT a.oid,a.* FROM pg_catalog.pg_roles a\nORDER BY a.rolname", column(2, "tester")},
		{"dbeaver", "SELECT c.oid,c.*,t.relname as tabrelname,rt.relnamespace as refnamespace,d.description\nFROM pg_catalog.pg_class c\nLEFT OUTER JOIN pg_catalog.pg_class t ON t.oid=c.reltoastrelid\nLEFT OUTER JOIN pg_catalog.pg_class rt ON rt.oid=c.reloftype\nLEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND d.classoid='pg_class'::regclass\nWHERE c.relnamespace=2200 AND c.relkind not in ('i','I','c') ORDER BY c.relname",
			column(3, "accounts", "tick_counts", "tick_counts_errors", "tick_out", "tick_out_errors", "ticks", "trades")},
		{"dbeaver", fmt.Sprintf("SELECT c.relname,a.*,pg_catalog.pg_get_expr(ad.adbin, ad.adrelid, true) as def_value,dsc.description,dep.objid\nFROM pg_catalog.pg_attribute a\nINNER JOIN pg_catalog.pg_class c ON (a.attrelid=c.oid)\nLEFT OUTER JOIN pg_catalog.pg_attrdef ad ON (a.attrelid=ad.adrelid AND a.attnum = ad.adnum)\nLEFT OUTER JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid)\nLEFT OUTER JOIN pg_depend dep on dep.refobjid = a.attrelid AND dep.deptype = 'i' and dep.refobjsubid = a.attnum and dep.classid = dep.refclassid\nWHERE NOT a.attisdropped AND c.relkind not in ('i','I','c') AND c.oid=%d\nORDER BY a.attnum", tradesOID),
			column(3, "symbol", "shares", "price", "at")},
		{"dbeaver", "SELECT t.oid,t.*,c.relkind,format_type(nullif(t.typbasetype, 0), t.typtypmod) as base_type_name, d.description\nFROM pg_catalog.pg_type t\nLEFT OUTER JOIN pg_catalog.pg_type et ON et.oid=t.typelem\nLEFT OUTER JOIN pg_catalog.pg_class c ON c.oid=t.typrelid\nLEFT OUTER JOIN pg_catalog.pg_description d ON t.oid=d.objoid\nWHERE t.typname IS NOT NULL\nAND (c.relkind IS NULL OR c.relkind = 'c') AND (et.typcategory IS NULL OR et.typcategory <> 'C') ORDER BY t.oid", func(r [][]string) string {
			got := map[string]bool{}
			for _, row := range r {
				got[row[2]] = true
			}
			for _, n := range []string{"bool", "int8", "float8", "varchar", "text", "timestamp", "date", "interval", "numeric", "_int8"} {
				if !got[n] {
					return "type " + n + " missing"
				}
			}
			return ""
		}},
	}
	for _, tc := range cases {
		rows, err := c.Query(ctx, tc.sql)
		if err != nil {
			t.Errorf("%s: %v\n%s", tc.client, err, tc.sql)
			continue
		}
		var got [][]string
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			row := make([]string, len(vals))
			for i, v := range vals {
				row[i] = fmt.Sprint(v)
			}
			got = append(got, row)
		}
		if err := rows.Err(); err != nil {
			t.Errorf("%s: %v\n%s", tc.client, err, tc.sql)
			continue
		}
		if msg := tc.want(got); msg != "" {
			t.Errorf("%s: %s; got %v\n%s", tc.client, msg, got, tc.sql)
		}
	}
}

// grafanaSchemaConstraint is Grafana's buildSchemaConstraint(): the schemas of search_path.
const grafanaSchemaConstraint = `
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          )`

// rowsAre wants exactly these rows, each given as its cells joined by "|".
func rowsAre(want ...string) func([][]string) string {
	return func(rows [][]string) string {
		var got []string
		for _, r := range rows {
			got = append(got, strings.Join(r, "|"))
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			return fmt.Sprintf("want rows %q", want)
		}
		return ""
	}
}

// column wants column i (1-based) to hold exactly these values, in order.
func column(i int, want ...string) func([][]string) string {
	return func(rows [][]string) string {
		var got []string
		for _, r := range rows {
			got = append(got, r[i-1])
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			return fmt.Sprintf("want column %d = %q", i, want)
		}
		return ""
	}
}
