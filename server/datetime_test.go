package server

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/streamsql/streamsql/internal/testdb"
)

// dateTimeInputs are parameter texts drivers send: JDBC's date and timestamp forms, node-postgres'
// ISO form with milliseconds and offset, plain ISO, a half-hour zone, 'epoch'.
var dateTimeInputs = []string{
	"2024-02-03 +00",
	"2024-03-04T00:00:00.000+00:00",
	"2024-03-04T10:11:12.345+02:00",
	"2024-01-01 10:00:00+05:30",
	"2024-01-01 10:00:00-08",
	"2024-05-01 10:00:00",
	"2024-05-01",
	"2024-12-31 23:59:59.999999 UTC",
	"epoch",
	"2024-05-01 24:00:00",
}

// insertDateTimes inserts every input into a table (d DATE, ts TIMESTAMP) once with the parameter
// types left to the server (OID 0, as node-postgres sends), once as date/timestamp and once as
// timestamptz (as JDBC and pgx declare them), and returns the rows read back as text.
func insertDateTimes(t *testing.T, url, table string) []string {
	t.Helper()
	ctx := context.Background()
	pc, err := pgconn.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close(ctx)
	exec := func(sql string, vals []string, oids []uint32) error {
		bs := make([][]byte, len(vals))
		for i, v := range vals {
			bs[i] = []byte(v)
		}
		return pc.ExecParams(ctx, sql, bs, oids, nil, nil).Read().Err
	}
	if err := exec("SET TimeZone = 'UTC'", nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := exec("CREATE TABLE "+table+" (k BIGINT, d DATE, ts TIMESTAMP)", nil, nil); err != nil {
		t.Fatal(err)
	}
	k := 0
	for _, in := range dateTimeInputs {
		for _, oids := range [][]uint32{{0, 0}, {oidDate, oidTimestamp}, {oidTimestTZ, oidTimestTZ}} {
			k++
			if err := exec(fmt.Sprintf("INSERT INTO %s VALUES (%d, $1, $2)", table, k), []string{in, in}, oids); err != nil {
				t.Fatalf("%q as %v: %v", in, oids, err)
			}
		}
	}
	res := pc.ExecParams(ctx, "SELECT k, d, ts FROM "+table+" ORDER BY k", nil, nil, nil, nil).Read()
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	var out []string
	for _, row := range res.Rows {
		out = append(out, fmt.Sprintf("%s|%s|%s", row[0], row[1], row[2]))
	}
	return out
}

// TestDateTimeParametersMatchPostgres: PostgreSQL's date/time input forms are accepted as
// parameters and mean what they mean in PostgreSQL (a timestamp ignores the zone, a timestamptz
// is converted to UTC, a date drops the time).
func TestDateTimeParametersMatchPostgres(t *testing.T) {
	ts := startServer(t, Config{})
	got := insertDateTimes(t, ts.url(""), "dt")
	want := insertDateTimes(t, testdb.Postgres(t), "pg_temp.dt")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("streamsql:\n%s\nPostgreSQL:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestDateTimeParametersBinaryAndErrors: pgx's binary date/timestamp/timestamptz/time/interval
// parameters, and clear errors for infinity and bad text.
func TestDateTimeParametersBinaryAndErrors(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := context.Background()
	c := connect(t, ts.url(""))
	mustExec(t, c, "CREATE TABLE b (d DATE, ts TIMESTAMP, iv INTERVAL, label VARCHAR)")
	at := time.Date(2024, 3, 4, 10, 11, 12, 345000000, time.FixedZone("x", 2*3600))
	// Binary: the server describes the columns' types, pgx encodes time.Time for them.
	if _, err := c.Exec(ctx, "INSERT INTO b VALUES ($1, $2, $3, 'bin')", at, at, 90*time.Minute); err != nil {
		t.Fatal(err)
	}
	var d, tsv time.Time
	var iv time.Duration
	if err := c.QueryRow(ctx, "SELECT d, ts, iv FROM b WHERE label = 'bin'").Scan(&d, &tsv, &iv); err != nil {
		t.Fatal(err)
	}
	// pgx sends a time.Time for a timestamp column as its wall time (zone dropped, as PostgreSQL
	// does for text), for a date its own date.
	if got := d.Format("2006-01-02") + " " + tsv.Format("2006-01-02 15:04:05.000") + " " + iv.String(); got != "2024-03-04 2024-03-04 10:11:12.345 1h30m0s" {
		t.Fatalf("binary round trip: %s", got)
	}
	// Declared types in binary: timestamptz and time through pgconn.
	pc := c.PgConn()
	enc := func(oid uint32, v any) []byte {
		b, err := c.TypeMap().Encode(oid, pgx.BinaryFormatCode, v, nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	clock := pgtype.Time{Microseconds: (13*3600+45*60+6)*1e6 + 5e5, Valid: true}
	res := pc.ExecParams(ctx, "SELECT $1, $2", [][]byte{enc(oidTimestTZ, at), enc(oidTime, clock)}, []uint32{oidTimestTZ, oidTime}, []int16{1, 1}, nil).Read()
	if res.Err != nil || len(res.Rows) != 1 || string(res.Rows[0][0]) != "2024-03-04 08:11:12.345" || string(res.Rows[0][1]) != "13:45:06.5" {
		t.Fatalf("binary timestamptz: %v %q", res.Err, res.Rows)
	}
	res = pc.ExecParams(ctx, "SELECT $1", [][]byte{[]byte("13:45:06.5+02")}, []uint32{oidTimeTZ}, nil, nil).Read()
	if res.Err != nil || string(res.Rows[0][0]) != "13:45:06.5" {
		t.Fatalf("timetz text: %v %q", res.Err, res.Rows)
	}
	for _, bad := range []struct{ val, want string }{
		{"infinity", "finite"},
		{"2024-02-30", "invalid input syntax for type timestamp"},
		{"yesterday-ish", "invalid input syntax"},
	} {
		res := pc.ExecParams(ctx, "INSERT INTO b (ts) VALUES ($1)", [][]byte{[]byte(bad.val)}, []uint32{oidTimestamp}, nil, nil).Read()
		if pgCode(res.Err) != "22007" || !strings.Contains(res.Err.Error(), bad.want) {
			t.Errorf("%q: %v", bad.val, res.Err)
		}
	}
	// The same forms as SQL literals.
	var lit string
	if err := c.QueryRow(ctx, "SELECT CAST(DATE '2024-02-03 +00' AS VARCHAR) || ' ' || CAST(DATE 'epoch' AS VARCHAR)", pgx.QueryExecModeSimpleProtocol).Scan(&lit); err != nil || lit != "2024-02-03 1970-01-01" {
		t.Fatalf("literals: %q, %v", lit, err)
	}
}
