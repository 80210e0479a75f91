package streamsql

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/streamsql/streamsql/internal/testdb"
	"github.com/streamsql/streamsql/sources"
)

// TestAccessCheckedAtRestart: a PostgreSQL sink created under one --allow-connect policy is
// refused, naming its address, when the engine restarts on the same data directory with a policy
// that no longer allows the database's address (the checkpoint is kept, nothing is written).
func TestAccessCheckedAtRestart(t *testing.T) {
	pgURL := testdb.Postgres(t)
	u, err := url.Parse(pgURL)
	if err != nil || u.Port() == "" {
		t.Skipf("the test database URL %q has no host:port", u.Redacted())
	}
	dataDir, srcDir := t.TempDir(), t.TempDir()
	writeLines(t, srcDir, "a.csv", "1", "2")
	open := func(connect ...string) *Engine {
		eng, err := Open(Options{DataDir: dataDir, Access: &sources.Access{FileRoots: []string{dataDir, srcDir}, Connect: connect}})
		if err != nil {
			t.Fatal(err)
		}
		return eng
	}
	table := fmt.Sprintf("access_restart_%d", time.Now().UnixNano())
	stmts := []string{
		fmt.Sprintf("CREATE SOURCE ev (v BIGINT) WITH (connector = 'files', path = '%s', format = 'csv')", srcDir),
		fmt.Sprintf("CREATE SINK o WITH (connector = 'postgres', url = '%s', table = '%s', create_table = 'true', trigger = 'manual') AS SELECT v FROM ev", pgURL, table),
	}
	eng1 := open("loopback:*", u.Hostname()+":*")
	for _, s := range stmts {
		mustExec(t, eng1, s)
	}
	ckptProcess(t, eng1, "o")
	eng1.Close()
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), pgURL)
		if err != nil {
			return
		}
		defer conn.Close(context.Background())
		_, _ = conn.Exec(context.Background(), "DROP TABLE IF EXISTS "+table)
	})

	eng2 := open("10.0.0.0/8:*")
	defer eng2.Close()
	mustExec(t, eng2, stmts[0])
	_, err = eng2.Exec(context.Background(), stmts[1])
	wantAccessError(t, "restart under a narrower --allow-connect", err, u.Host)
}
