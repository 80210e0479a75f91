package sinks

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/go-sql-driver/mysql"

	"github.com/streamsql/streamsql/internal/testdb"
)

func myOpen(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func myTarget(t testing.TB) *sqlTarget {
	dsn := testdb.MySQL(t)
	db := myOpen(t, dsn)
	return &sqlTarget{
		connector: "mysql",
		url:       dsn,
		newSink:   NewMySQL,
		exec: func(t testing.TB, q string, args ...any) {
			t.Helper()
			if _, err := db.Exec(q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		},
		rows: func(t testing.TB, q string, args ...any) [][]string {
			t.Helper()
			rows, err := db.Query(q, args...)
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			defer rows.Close()
			cols, _ := rows.Columns()
			var out [][]string
			for rows.Next() {
				vals := make([]sql.NullString, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				row := make([]string, len(cols))
				for i, v := range vals {
					row[i] = v.String
					if !v.Valid {
						row[i] = "NULL"
					}
				}
				out = append(out, row)
			}
			if err := rows.Err(); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			return out
		},
		text:  func(c string) string { return "CAST(" + c + " AS CHAR)" },
		quote: func(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" },
	}
}

func TestMySQLSink(t *testing.T) {
	runSQLSinkSuite(t, myTarget(t))
}

func TestMySQLTypesRoundTrip(t *testing.T) {
	roundTrip(t, myTarget(t), map[int][]string{
		1: {"1", "-9223372036854775808", "1.5", "12345678901234567890.123456789", "héllo, 世界 🎉 'quote' \\ back",
			"2024-02-29 23:59:59.123456", "2024-02-29", "90061000001"},
		2: {"NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL"},
		3: {"0", "9223372036854775807", "-2.25e-300", "-0.000000001", "", "1969-12-31 23:59:59.999999", "1969-12-31", "-1"},
	})
}

func TestMySQLCreateTableTypes(t *testing.T) {
	tg := myTarget(t)
	table := tg.newTable(t)
	tg.open(t, table, allTypesSchema, Update, []int{0, 5}, nil, "create_table", "true")
	rows := tg.rows(t, `SELECT column_name, column_type, is_nullable FROM information_schema.columns
		WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position`, table)
	var got []string
	for _, r := range rows {
		got = append(got, strings.Join(r, " "))
	}
	want := []string{"id bigint(20) NO", "b tinyint(1) YES", "i bigint(20) YES", "f double YES", "d decimal(38,9) YES",
		"s varchar(255) NO", "t datetime(6) YES", "dt date YES", "iv bigint(20) YES"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("columns:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := tg.rows(t, "SELECT collation_name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? AND column_name = 's'", table); len(got) != 1 || !strings.Contains(got[0][0], "bin") {
		t.Fatalf("key column s collation = %v, want a binary one", got)
	}
	if pk := tg.primaryKeyOf(t, table); pk != "id,s" {
		t.Fatalf("primary key = %q, want id,s", pk)
	}
	if got := tg.rows(t, "SELECT engine, table_collation FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?", table); len(got) != 1 || got[0][0] != "InnoDB" || !strings.HasPrefix(got[0][1], "utf8mb4") {
		t.Fatalf("engine, collation = %v", got)
	}
	// A VARCHAR that is not a key is TEXT.
	t2 := tg.newTable(t)
	tg.open(t, t2, winSchema, Append, nil, nil, "create_table", "true")
	if got := tg.rows(t, "SELECT column_type FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? AND column_name = 'k'", t2); len(got) != 1 || got[0][0] != "text" {
		t.Fatalf("k column = %v, want text", got)
	}
	if pk := tg.primaryKeyOf(t, t2); pk != "" {
		t.Fatalf("append-mode table got primary key %q", pk)
	}
}

func TestMySQLURLForms(t *testing.T) {
	cfg, err := parseMySQLURL("mysql://bob:p%40ss@db.example/shop?parseTime=true&loc=UTC")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.User != "bob" || cfg.Passwd != "p@ss" || cfg.Addr != "db.example:3306" || cfg.DBName != "shop" || !cfg.ParseTime || cfg.Net != "tcp" {
		t.Fatalf("parsed %+v", cfg)
	}
	cfg, err = parseMySQLURL("bob:pw@tcp(10.0.0.1:3307)/shop")
	if err != nil || cfg.Addr != "10.0.0.1:3307" || cfg.Passwd != "pw" {
		t.Fatalf("parsed %+v, %v", cfg, err)
	}
	// The URL form reaches the real server too.
	tg := myTarget(t)
	dsn, err := mysql.ParseDSN(tg.url)
	if err != nil || dsn.Net != "tcp" {
		t.Skipf("test DSN %s is not TCP", RedactURL(tg.url))
	}
	table := tg.newTable(t)
	u := fmt.Sprintf("mysql://%s@%s/%s", dsn.User, dsn.Addr, dsn.DBName)
	s, err := NewMySQL(Config{Query: table, Options: map[string]string{"url": u, "table": table, "create_table": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Open(winSchema, Append, nil); err != nil {
		t.Fatal(err)
	}
}

// myUserWithPassword creates a MariaDB user with a password and rights on the test database and
// returns its DSN, its name and the password; the user is dropped after the test.
func myUserWithPassword(t testing.TB, tg *sqlTarget) (string, string, string) {
	cfg, err := mysql.ParseDSN(tg.url)
	if err != nil {
		t.Fatal(err)
	}
	user := uniqueName("u")
	const pw = "Sup3r-S3cret-pw"
	for _, host := range []string{"%", "localhost", "127.0.0.1"} {
		tg.exec(t, fmt.Sprintf("CREATE USER '%s'@'%s' IDENTIFIED BY '%s'", user, host, pw))
		tg.exec(t, fmt.Sprintf("GRANT ALL ON `%s`.* TO '%s'@'%s'", cfg.DBName, user, host))
		t.Cleanup(func() { tg.exec(t, fmt.Sprintf("DROP USER IF EXISTS '%s'@'%s'", user, host)) })
	}
	cfg.User, cfg.Passwd = user, pw
	return cfg.FormatDSN(), user, pw
}

// TestMySQLOutage kills the sink's connections (its own user's) again and again while it writes
// 40 update-mode epochs; the table must end exactly as a naive upsert says, and the password must
// never reach the log or an error.
func TestMySQLOutage(t *testing.T) {
	tg := myTarget(t)
	dsn, user, secret := myUserWithPassword(t, tg)
	admin := myOpen(t, tg.url)
	tg.url = dsn
	table := tg.newTable(t)
	var logBuf syncBuffer
	log := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: winSchema.Field(0).Type}, {Name: "n", Type: winSchema.Field(2).Type}}, nil)
	s := tg.open(t, table, schema, Update, []int{0}, log, "create_table", "true")

	stop := make(chan struct{})
	var killed atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	// Eight bursts of kills, 150 ms apart: each lands between or inside Writes.
	go func() {
		defer wg.Done()
		for bursts := 0; bursts < 8; {
			select {
			case <-stop:
				return
			case <-time.After(150 * time.Millisecond):
			}
			rows, err := admin.Query("SELECT id FROM information_schema.processlist WHERE user = ?", user)
			if err != nil {
				t.Error(err)
				return
			}
			var ids []int64
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err == nil {
					ids = append(ids, id)
				}
			}
			rows.Close()
			for _, id := range ids {
				if _, err := admin.Exec(fmt.Sprintf("KILL CONNECTION %d", id)); err == nil {
					killed.Add(1)
				}
			}
			if len(ids) > 0 {
				bursts++
			}
		}
	}()
	stopKiller := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopKiller()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	want := map[string]int{}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for epoch := 0; epoch < 40; epoch++ {
		var rows [][]any
		for i := 0; i < 3000; i++ {
			k := fmt.Sprintf("k%04d", (epoch*1237+i*7)%5000)
			rows = append(rows, []any{k, epoch*10000 + i})
			want[k] = epoch*10000 + i
		}
		rec := makeRecord(t, mem, schema, rows...)
		err := s.Write(ctx, int64(epoch), inserts(rec))
		rec.Release()
		if err != nil {
			t.Fatalf("epoch %d: %v", epoch, err)
		}
	}
	stopKiller()
	var wantRows []string
	for k, n := range want {
		wantRows = append(wantRows, fmt.Sprintf("%s|%d", k, n))
	}
	equalRows(t, "after the outages", tg.dump(t, table, "k", "n"), wantRows...)
	if got := tg.markerEpoch(t, table); got != "39" {
		t.Fatalf("marker epoch = %s, want 39", got)
	}
	logs := logBuf.String()
	retries := strings.Count(logs, "retrying")
	t.Logf("killed %d connections, %d retries logged", killed.Load(), retries)
	if killed.Load() == 0 || retries == 0 {
		t.Fatalf("the outage did not happen (killed %d, retries %d):\n%s", killed.Load(), retries, logs)
	}
	if strings.Contains(logs, secret) {
		t.Fatalf("the password reached the log:\n%s", logs)
	}
	if !strings.Contains(logs, user+":***@") {
		t.Fatalf("the log lacks the redacted DSN:\n%s", logs)
	}

	// A wrong password is final (no retries) and the error does not show it.
	bad := strings.Replace(dsn, secret, "Wr0ng-"+secret, 1)
	s2, err := NewMySQL(Config{Query: table, Options: map[string]string{"url": bad, "table": table}})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	start := time.Now()
	err = s2.Open(winSchema, Append, nil)
	if err == nil || strings.Contains(err.Error(), secret) || time.Since(start) > 5*time.Second {
		t.Fatalf("wrong password: err = %v after %v", err, time.Since(start))
	}
}

func BenchmarkMySQLUpdate(b *testing.B) { benchSink(b, myTarget(b), Update, 100_000) }
func BenchmarkMySQLAppend(b *testing.B) { benchSink(b, myTarget(b), Append, 100_000) }
