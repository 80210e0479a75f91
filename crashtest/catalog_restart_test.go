package crashtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/streamsql/streamsql/internal/testdb"
)

// server is one `streamsql serve` process.
type server struct {
	cmd    *exec.Cmd
	addr   string
	stderr *strings.Builder
	exited chan error
	once   sync.Once
}

var listenRE = regexp.MustCompile(`serving the PostgreSQL wire protocol"? addr=(\S+)`)

// startServe runs `streamsql serve --data-dir dataDir` on a free loopback port and waits until
// it listens, or returns the error and what it printed when it exits first.
func startServe(t *testing.T, dataDir string, extra ...string) (*server, error) {
	t.Helper()
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--log-level", "info"}, extra...)
	cmd := exec.Command(streamsqlBinary(t), args...)
	cmd.Stdout = io.Discard
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, stderr: &strings.Builder{}, exited: make(chan error, 1)}
	addrs := make(chan string, 1)
	lines := make(chan struct{})
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			s.stderr.WriteString(sc.Text() + "\n")
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				addrs <- m[1]
			}
		}
	}()
	go func() {
		err := cmd.Wait()
		pw.Close()
		<-lines
		s.exited <- err
	}()
	select {
	case s.addr = <-addrs:
		return s, nil
	case err := <-s.exited:
		return nil, fmt.Errorf("serve exited (%v):\n%s", err, s.stderr.String())
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("serve did not start:\n%s", s.stderr.String())
	}
	return nil, nil
}

func (s *server) kill9(t *testing.T) {
	t.Helper()
	s.once.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGKILL)
		<-s.exited
	})
}

func (s *server) connect(t *testing.T, ctx context.Context) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(ctx, "postgres://me@"+s.addr+"/streamsql?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func queryStrings(t *testing.T, ctx context.Context, c *pgx.Conn, q string) []string {
	t.Helper()
	rows, err := c.Query(ctx, q, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		cells := make([]string, len(vals))
		for i, v := range vals {
			cells[i] = fmt.Sprint(v)
		}
		out = append(out, strings.Join(cells, " "))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	sort.Strings(out)
	return out
}

// TestServeRestoresCatalogAfterKill9: over the wire, a table with rows, a files source, a
// materialized view and a PostgreSQL sink are created; the server is killed with SIGKILL while
// the source is being read; a new server on the same data directory has all four back, the view
// equals its batch query over every file, and the sink table holds every row exactly once.
// Then a damaged catalog file is refused at start, naming the file.
func TestServeRestoresCatalogAfterKill9(t *testing.T) {
	pgURL := testdb.Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	work := t.TempDir()
	dataDir, in := filepath.Join(work, "data"), filepath.Join(work, "in")
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	const files, perFile = 30, 50
	for f := 0; f < files; f++ {
		var b strings.Builder
		for i := 0; i < perFile; i++ {
			id := f*perFile + i
			fmt.Fprintf(&b, "{\"id\": %d, \"k\": \"k%d\", \"v\": %d}\n", id, id%7, id%13)
		}
		if err := os.WriteFile(filepath.Join(in, fmt.Sprintf("part-%03d.json", f)), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sinkTable := fmt.Sprintf("dur_restart_%d", time.Now().UnixNano())
	pg, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close(context.Background())
	defer pg.Exec(context.Background(), "DROP TABLE IF EXISTS "+sinkTable)

	srv, err := startServe(t, dataDir, "--allow-file-root", work)
	if err != nil {
		t.Fatal(err)
	}
	c := srv.connect(t, ctx)
	for _, st := range []string{
		"CREATE TABLE t (a BIGINT, s VARCHAR)",
		"INSERT INTO t VALUES (1, 'one'), (2, 'two')",
		"INSERT INTO t VALUES (3, 'three')",
		fmt.Sprintf("CREATE SOURCE ev (id BIGINT, k VARCHAR, v BIGINT) WITH (connector = 'files', path = '%s', format = 'json', max_files_per_trigger = '1')", in),
		"CREATE MATERIALIZED VIEW mv AS SELECT k, COUNT(*) AS n, SUM(v) AS s FROM ev GROUP BY k",
		fmt.Sprintf("CREATE SINK pgs WITH (connector = 'postgres', url = '%s', table = '%s', create_table = 'true', output_mode = 'append', trigger = '200 milliseconds') AS SELECT id, k, v FROM ev", pgURL, sinkTable),
	} {
		if _, err := c.Exec(ctx, st, pgx.QueryExecModeSimpleProtocol); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
	// Kill the server mid-ingest: once the sink has written some of the rows but not all.
	sinkRows := func() int64 {
		var n int64
		if err := pg.QueryRow(ctx, "SELECT count(*) FROM "+sinkTable).Scan(&n); err != nil {
			return -1
		}
		return n
	}
	deadline := time.Now().Add(time.Minute)
	for n := sinkRows(); n <= 0; n = sinkRows() {
		if time.Now().After(deadline) {
			t.Fatalf("the sink wrote nothing in a minute:\n%s", srv.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.Close(ctx)
	srv.kill9(t)
	before := sinkRows()
	t.Logf("killed with %d of %d rows in the sink", before, files*perFile)
	if before >= files*perFile {
		t.Logf("the sink had written every row before the kill (%d): the restart still must not duplicate any", before)
	}

	srv, err = startServe(t, dataDir, "--allow-file-root", work)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.kill9(t)
	c = srv.connect(t, ctx)
	defer c.Close(context.Background())
	if got := strings.Join(queryStrings(t, ctx, c, "SELECT a, s FROM t"), ";"); got != "1 one;2 two;3 three" {
		t.Fatalf("table t after the restart: %s", got)
	}
	if got := strings.Join(queryStrings(t, ctx, c, "SHOW SOURCES"), ";"); got != "ev" {
		t.Fatalf("sources after the restart: %s", got)
	}
	if got := strings.Join(queryStrings(t, ctx, c, "SHOW SINKS"), ";"); got != "pgs postgres" {
		t.Fatalf("sinks after the restart: %s", got)
	}
	for deadline := time.Now().Add(2 * time.Minute); sinkRows() < files*perFile; {
		if time.Now().After(deadline) {
			t.Fatalf("the sink did not resume: %d of %d rows\n%s", sinkRows(), files*perFile, srv.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	var total, distinct, sum int64
	if err := pg.QueryRow(ctx, "SELECT count(*), count(DISTINCT id), sum(v) FROM "+sinkTable).Scan(&total, &distinct, &sum); err != nil {
		t.Fatal(err)
	}
	var wantSum int64
	for id := 0; id < files*perFile; id++ {
		wantSum += int64(id % 13)
	}
	if total != files*perFile || distinct != total || sum != wantSum {
		t.Fatalf("sink table: %d rows, %d distinct ids, sum %d; want %d rows once each, sum %d (before the kill: %d)", total, distinct, sum, files*perFile, wantSum, before)
	}
	// The view, once it has read every file, equals the batch query over the same files.
	if _, err := c.Exec(ctx, fmt.Sprintf("CREATE TABLE batch (id BIGINT, k VARCHAR, v BIGINT) WITH (connector = 'file', path = '%s', format = 'json')", in), pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatal(err)
	}
	want := strings.Join(queryStrings(t, ctx, c, "SELECT k, COUNT(*) AS n, SUM(v) AS s FROM batch GROUP BY k"), ";")
	var got string
	for deadline := time.Now().Add(time.Minute); ; {
		got = strings.Join(queryStrings(t, ctx, c, "SELECT k, n, s FROM mv"), ";")
		if got == want || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got != want {
		t.Fatalf("view after the restart:\n%s\nbatch query:\n%s", got, want)
	}
	c.Close(ctx)
	srv.kill9(t)

	// A flipped byte in the catalog file: the server refuses to start and names the file.
	catalog := filepath.Join(dataDir, "catalog.json")
	b, err := os.ReadFile(catalog)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(b), `"mv"`)
	b[i+1] = 'w'
	if err := os.WriteFile(catalog, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := startServe(t, dataDir, "--allow-file-root", work); err == nil || !strings.Contains(err.Error(), "catalog file "+catalog+" is damaged") {
		t.Fatalf("a damaged catalog: got %v", err)
	}
}

// TestServeKill9KeepsCommittedInserts: a client inserts rows one statement at a time while the
// server is killed with SIGKILL; after a restart on the same data directory every INSERT that
// returned is there, once (the one in flight at the kill may or may not be).
func TestServeKill9KeepsCommittedInserts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dataDir := filepath.Join(t.TempDir(), "data")
	srv, err := startServe(t, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	c := srv.connect(t, ctx)
	if _, err := c.Exec(ctx, "CREATE TABLE t (a BIGINT)", pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatal(err)
	}
	acked := make(chan int64, 1)
	go func() {
		last := int64(-1)
		for i := int64(0); ; i++ {
			if _, err := c.Exec(ctx, fmt.Sprintf("INSERT INTO t VALUES (%d)", i), pgx.QueryExecModeSimpleProtocol); err != nil {
				acked <- last
				return
			}
			last = i
		}
	}()
	time.Sleep(1500 * time.Millisecond)
	srv.kill9(t)
	last := <-acked
	if last < 10 {
		t.Fatalf("only %d inserts returned before the kill", last+1)
	}
	srv, err = startServe(t, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.kill9(t)
	c = srv.connect(t, ctx)
	defer c.Close(context.Background())
	var n, distinct, lo, hi int64
	if err := c.QueryRow(ctx, "SELECT COUNT(*), COUNT(DISTINCT a), MIN(a), MAX(a) FROM t", pgx.QueryExecModeSimpleProtocol).Scan(&n, &distinct, &lo, &hi); err != nil {
		t.Fatal(err)
	}
	if distinct != n || lo != 0 || hi != n-1 || (n != last+1 && n != last+2) {
		t.Fatalf("after the restart: %d rows (%d distinct, %d..%d); %d inserts had returned", n, distinct, lo, hi, last+1)
	}
	t.Logf("%d inserts returned before the kill, %d rows after the restart", last+1, n)
}
