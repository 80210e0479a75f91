package server

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/streamsql/streamsql/internal/testdb"
)

// txScript is a sequence of statements whose transaction-block behaviour is the same in
// PostgreSQL and streamsql (they only read, so nothing needs undoing).
var txScript = []string{
	"BEGIN", "SELECT 1", "SELECT 1/0", "SELECT 1", "SAVEPOINT a", "ROLLBACK",
	"BEGIN", "SAVEPOINT a", "SELECT 1/0", "SELECT 2", "ROLLBACK TO SAVEPOINT a", "SELECT 3", "RELEASE a", "COMMIT",
	"COMMIT", "ROLLBACK", "SAVEPOINT x", "RELEASE SAVEPOINT x", "ROLLBACK TO x",
	"BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", "BEGIN", "SELECT 1/0", "COMMIT",
	"START TRANSACTION", "RELEASE nope", "SELECT 1", "ROLLBACK TO nope", "ABORT",
	"BEGIN WORK", "COMMIT AND CHAIN", "SELECT 1", "ROLLBACK AND CHAIN", "END",
	"COMMIT AND CHAIN",
}

// txStep is what a client sees after one statement.
type txStep struct {
	stmt, tag, code string
	status          byte
	notices         int
}

// runTxScript runs txScript over one connection with the simple protocol.
func runTxScript(t *testing.T, url string) []txStep {
	t.Helper()
	ctx := context.Background()
	var notices int
	cfg, err := pgconn.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.OnNotice = func(*pgconn.PgConn, *pgconn.Notice) { notices++ }
	pc, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close(ctx)
	var out []txStep
	for _, st := range txScript {
		notices = 0
		res, err := pc.Exec(ctx, st).ReadAll()
		s := txStep{stmt: st}
		if err != nil {
			s.code = pgCode(err)
		} else if len(res) == 1 {
			s.tag = strings.Fields(res[0].CommandTag.String() + " ")[0]
		}
		s.status, s.notices = pc.TxStatus(), notices
		out = append(out, s)
	}
	return out
}

// TestTransactionStatusMatchesPostgres: the tags, SQLSTATEs, warnings and ReadyForQuery status
// of a script of transaction control are PostgreSQL's.
func TestTransactionStatusMatchesPostgres(t *testing.T) {
	ts := startServer(t, Config{})
	got := runTxScript(t, ts.url(""))
	want := runTxScript(t, testdb.Postgres(t))
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("step %d %q: streamsql %+v, PostgreSQL %+v", i, txScript[i], got[i], want[i])
		}
	}
}

// TestRollbackAfterAWrite: nothing can be undone, so ROLLBACK of a block that changed something
// fails with 0A000 and ends the block; the change stays.
func TestRollbackAfterAWrite(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := context.Background()
	c := connect(t, ts.url(""))
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
		name := fmt.Sprintf("t%d", mode)
		mustExec(t, c, "CREATE TABLE "+name+" (a BIGINT)")
		mustExec(t, c, "BEGIN")
		if _, err := c.Exec(ctx, "INSERT INTO "+name+" VALUES ($1)", mode, int64(7)); err != nil {
			t.Fatal(err)
		}
		_, err := c.Exec(ctx, "ROLLBACK", mode)
		if pgCode(err) != "0A000" || !strings.Contains(err.Error(), "1 statement already took effect") {
			t.Fatalf("ROLLBACK after INSERT (%v): %v", mode, err)
		}
		if st := c.PgConn().TxStatus(); st != 'I' {
			t.Fatalf("status after the refused ROLLBACK: %c", st)
		}
		var n int64
		if err := c.QueryRow(ctx, "SELECT count(*) FROM "+name).Scan(&n); err != nil || n != 1 {
			t.Fatalf("rows after ROLLBACK: %d, %v", n, err)
		}
		// A savepoint before the write cannot be rolled back to either; the block fails.
		mustExec(t, c, "BEGIN")
		mustExec(t, c, "SAVEPOINT s")
		mustExec(t, c, "INSERT INTO "+name+" VALUES (8)")
		if _, err := c.Exec(ctx, "ROLLBACK TO s", mode); pgCode(err) != "0A000" {
			t.Fatalf("ROLLBACK TO after INSERT: %v", err)
		}
		if _, err := c.Exec(ctx, "SELECT 1", mode); pgCode(err) != "25P02" {
			t.Fatalf("statement in the failed block: %v", err)
		}
		if _, err := c.Exec(ctx, "ROLLBACK", mode); pgCode(err) != "0A000" {
			t.Fatalf("ROLLBACK of the failed block with a write: %v", err)
		}
	}
}

// TestReadOnlyTransactionRefusesWrites: START TRANSACTION READ ONLY is enforced (25006).
func TestReadOnlyTransactionRefusesWrites(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := context.Background()
	c := connect(t, ts.url(""))
	mustExec(t, c, "CREATE TABLE r (a BIGINT)")
	mustExec(t, c, "START TRANSACTION READ ONLY")
	mustExec(t, c, "SELECT * FROM r")
	if _, err := c.Exec(ctx, "INSERT INTO r VALUES (1)"); pgCode(err) != "25006" {
		t.Fatalf("INSERT in a read-only block: %v", err)
	}
	if _, err := c.Exec(ctx, "ROLLBACK"); err != nil {
		t.Fatalf("ROLLBACK of the read-only block: %v", err)
	}
	var n int64
	if err := c.QueryRow(ctx, "SELECT count(*) FROM r").Scan(&n); err != nil || n != 0 {
		t.Fatalf("rows: %d, %v", n, err)
	}
}

// TestExtendedProtocolErrorFailsTheBlock: an error in Parse/Bind/Execute inside a block leaves
// the connection in the failed state until ROLLBACK, as PostgreSQL; outside a block it does not.
func TestExtendedProtocolErrorFailsTheBlock(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := context.Background()
	c := connect(t, ts.url(""))
	if _, err := c.Exec(ctx, "SELECT * FROM nope WHERE a = $1", int64(1)); pgCode(err) != "42P01" {
		t.Fatal(err)
	}
	if st := c.PgConn().TxStatus(); st != 'I' {
		t.Fatalf("status after an error outside a block: %c", st)
	}
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT * FROM nope WHERE a = $1", int64(1)); pgCode(err) != "42P01" {
		t.Fatal(err)
	}
	if st := c.PgConn().TxStatus(); st != 'E' {
		t.Fatalf("status after an error inside a block: %c", st)
	}
	if _, err := tx.Exec(ctx, "SELECT $1::bigint", int64(1)); pgCode(err) != "25P02" {
		t.Fatalf("statement in a failed block: %v", err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	var one int64
	if err := c.QueryRow(ctx, "SELECT $1::bigint", int64(1)).Scan(&one); err != nil || one != 1 {
		t.Fatalf("after ROLLBACK: %d, %v", one, err)
	}
}

func mustExec(t *testing.T, c *pgx.Conn, sql string) {
	t.Helper()
	if _, err := c.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
