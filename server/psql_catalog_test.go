package server

import (
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/streamsql/streamsql/internal/testdb"
)

// psqlAt runs script through Debian's psql with connection arguments args and returns its output.
func psqlAt(t *testing.T, script string, args ...string) string {
	t.Helper()
	psql := psqlPath(t)
	cmd := exec.Command(psql, append([]string{"-X", "-v", "ON_ERROR_STOP=1", "-f", "-"}, args...)...)
	cmd.Stdin = strings.NewReader(script)
	cmd.Env = append(os.Environ(), "PGSSLMODE=disable", "PGCONNECT_TIMEOUT=5")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	return string(out)
}

// runPsql runs script through psql against ts as user tester, database db.
func runPsql(t *testing.T, ts *testServer, script string) string {
	t.Helper()
	host, port, _ := net.SplitHostPort(ts.addr)
	return psqlAt(t, script, "-h", host, "-p", port, "-U", "tester", "-d", "db")
}

// catalogFixture creates two tables, a source, a materialized view and a sink.
func catalogFixture(t *testing.T) *testServer {
	t.Helper()
	ts := startServer(t, Config{})
	runPsql(t, ts, `CREATE TABLE trades (symbol VARCHAR, shares BIGINT, price DECIMAL(10,2), at TIMESTAMP);
CREATE TABLE accounts (id BIGINT, name VARCHAR);
CREATE SOURCE ticks (symbol VARCHAR, px DOUBLE, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) WITH (connector = 'push');
CREATE MATERIALIZED VIEW tick_counts AS SELECT symbol, count(*) AS n FROM ticks GROUP BY symbol;
CREATE SINK tick_out WITH (connector = 'files', path = '`+t.TempDir()+`', format = 'json') AS SELECT symbol, px FROM ticks;
`)
	return ts
}

// TestPsqlDescribeFamily runs psql 15's \d family with several relations of each kind: every
// command must list exactly the relations of its kinds (the old emulation ignored filters, showed
// the wrong table for \d NAME and crashed psql once a source existed).
func TestPsqlDescribeFamily(t *testing.T) {
	ts := catalogFixture(t)
	script := `\d
\dt
\dv
\dm
\dt acc*
\d trades
\d ticks
\d tick_counts
\d tick_out
\dn
\l
\df upper
\df
\dt+ acc*
\dv+
\l+
\df+ upper
`
	want := `                  List of relations
 Schema |        Name        |       Type        | Owner
--------+--------------------+-------------------+--------
 public | accounts           | table             | tester
 public | tick_counts        | materialized view | tester
 public | tick_counts_errors | table             | tester
 public | tick_out           | view              | tester
 public | tick_out_errors    | table             | tester
 public | ticks              | table             | tester
 public | trades             | table             | tester
(7 rows)

              List of relations
 Schema |        Name        | Type  | Owner
--------+--------------------+-------+--------
 public | accounts           | table | tester
 public | tick_counts_errors | table | tester
 public | tick_out_errors    | table | tester
 public | ticks              | table | tester
 public | trades             | table | tester
(5 rows)

         List of relations
 Schema |   Name   | Type | Owner
--------+----------+------+--------
 public | tick_out | view | tester
(1 row)

                 List of relations
 Schema |    Name     |       Type        | Owner
--------+-------------+-------------------+--------
 public | tick_counts | materialized view | tester
(1 row)

         List of relations
 Schema |   Name   | Type  | Owner
--------+----------+-------+--------
 public | accounts | table | tester
(1 row)

                         Table "public.trades"
 Column |            Type             | Collation | Nullable | Default
--------+-----------------------------+-----------+----------+---------
 symbol | character varying           |           |          |
 shares | bigint                      |           |          |
 price  | numeric(10,2)               |           |          |
 at     | timestamp without time zone |           |          |

                         Table "public.ticks"
 Column |            Type             | Collation | Nullable | Default
--------+-----------------------------+-----------+----------+---------
 symbol | character varying           |           |          |
 px     | double precision            |           |          |
 ts     | timestamp without time zone |           |          |

           Materialized view "public.tick_counts"
 Column |       Type        | Collation | Nullable | Default
--------+-------------------+-----------+----------+---------
 symbol | character varying |           |          |
 n      | bigint            |           |          |

                   View "public.tick_out"
 Column |       Type        | Collation | Nullable | Default
--------+-------------------+-----------+----------+---------
 symbol | character varying |           |          |
 px     | double precision  |           |          |

 List of schemas
  Name  | Owner
--------+--------
 public | tester
(1 row)

                                       List of databases
 Name | Owner  | Encoding | Collate | Ctype | ICU Locale | Locale Provider | Access privileges
------+--------+----------+---------+-------+------------+-----------------+-------------------
 db   | tester | UTF8     | C       | C     |            | libc            |
(1 row)

                          List of functions
   Schema   | Name  | Result data type  | Argument data types | Type
------------+-------+-------------------+---------------------+------
 pg_catalog | upper | character varying | str VARCHAR         | func
(1 row)

                       List of functions
 Schema | Name | Result data type | Argument data types | Type
--------+------+------------------+---------------------+------
(0 rows)

                                       List of relations
 Schema |   Name   | Type  | Owner  | Persistence | Access method | Size | Description
--------+----------+-------+--------+-------------+---------------+------+-------------
 public | accounts | table | tester | permanent   |               |      |
(1 row)

                                                          List of relations
 Schema |   Name   | Type | Owner  | Persistence | Size |                                      Description
--------+----------+------+--------+-------------+------+----------------------------------------------------------------------------------------
 public | tick_out | view | tester | permanent   |      | sink (connector files, append mode): a continuous query whose rows go to the connector
(1 row)

                                                                  List of databases
 Name | Owner  | Encoding | Collate | Ctype | ICU Locale | Locale Provider | Access privileges | Size | Tablespace | Description
------+--------+----------+---------+-------+------------+-----------------+-------------------+------+------------+-------------
 db   | tester | UTF8     | C       | C     |            | libc            |                   |      | pg_default |
(1 row)

                                                                                                List of functions
   Schema   | Name  | Result data type  | Argument data types | Type | Volatility | Parallel | Owner  | Security | Access privileges | Language | Source code | Description
------------+-------+-------------------+---------------------+------+------------+----------+--------+----------+-------------------+----------+-------------+-------------
 pg_catalog | upper | character varying | str VARCHAR         | func | immutable  | safe     | tester | invoker  |                   | internal | upper       |
(1 row)

`
	if got := runPsql(t, ts, script); normalize(got) != normalize(want) {
		t.Fatalf("psql output:\n%s\nwant:\n%s", got, want)
	}
}

// TestPsqlDescribeTableMatchesPostgres compares psql's \d NAME of a table with what real
// PostgreSQL answers for the same CREATE TABLE.
func TestPsqlDescribeTableMatchesPostgres(t *testing.T) {
	pgURL := testdb.Postgres(t)
	ts := startServer(t, Config{})
	create := "CREATE TABLE streamsql_pgcat_t (symbol VARCHAR, shares BIGINT, price DECIMAL(10,2), ok BOOLEAN, d DATE, at TIMESTAMP, span INTERVAL, f DOUBLE PRECISION);\n"
	psqlAt(t, "DROP TABLE IF EXISTS streamsql_pgcat_t;\n"+create, pgURL)
	t.Cleanup(func() { psqlAt(t, "DROP TABLE IF EXISTS streamsql_pgcat_t;\n", pgURL) })
	runPsql(t, ts, create)
	want := psqlAt(t, `\d streamsql_pgcat_t`+"\n", pgURL)
	if got := runPsql(t, ts, `\d streamsql_pgcat_t`+"\n"); normalize(got) != normalize(want) {
		t.Fatalf("streamsql:\n%s\nPostgreSQL:\n%s", got, want)
	}
}

// TestJDBCMetadata runs testdata/JdbcMetadata.java with Debian's PostgreSQL JDBC driver:
// DatabaseMetaData's schemas, tables, columns, primary keys and type info come from the
// pg_catalog relations.
func TestJDBCMetadata(t *testing.T) {
	java, err := exec.LookPath("java")
	jar := "/usr/share/java/postgresql.jar"
	if _, jerr := os.Stat(jar); err != nil || jerr != nil {
		t.Skip("java or the PostgreSQL JDBC driver (libpostgresql-jdbc-java) is not installed")
	}
	ts := catalogFixture(t)
	host, port, _ := net.SplitHostPort(ts.addr)
	out, err := exec.Command(java, "-cp", jar, "testdata/JdbcMetadata.java", "jdbc:postgresql://"+host+":"+port+"/db?sslmode=disable").CombinedOutput()
	if err != nil {
		t.Fatalf("java: %v\n%s", err, out)
	}
	want := `product PostgreSQL 17
schema information_schema
schema pg_catalog
schema public
table tick_counts MATERIALIZED VIEW materialized view (update mode), kept current by its continuous query
table accounts TABLE null
table tick_counts_errors TABLE dead-letter table of tick_counts: the input records it could not process
table tick_out_errors TABLE dead-letter table of tick_out: the input records it could not process
table ticks TABLE source (connector push): a stream, read by continuous queries; watermark on ts
table trades TABLE null
table tick_out VIEW sink (connector files, append mode): a continuous query whose rows go to the connector
view tick_out
column trades.symbol varchar 12 1 YES
column trades.shares int8 -5 2 YES
column trades.price numeric 2 3 YES
column trades.at timestamp 93 4 YES
primary keys 0
types bool=-7 int8=-5 numeric=2 varchar=12 timestamp=93
`
	if string(out) != want {
		t.Fatalf("JDBC output:\n%s\nwant:\n%s", out, want)
	}
}
