package streamsql

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamsql/streamsql/exec"
)

func durableOpen(t *testing.T, dir string) *Engine {
	t.Helper()
	eng, err := Open(Options{DataDir: dir, DurableCatalog: true, Stdout: &strings.Builder{}})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func writeJSONFile(t *testing.T, dir, name string, rows ...string) {
	t.Helper()
	tmp := filepath.Join(dir, "."+name)
	if err := os.WriteFile(tmp, []byte(strings.Join(rows, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// TestDurableCatalogRestoresEveryKind: a table with rows, a file table, a source, a view, a
// stopped view and a sink come back after the engine is closed and opened again on its data
// directory; the view resumes and equals its batch query over every file; the stopped view
// stays stopped with its last result; DROP is remembered too.
func TestDurableCatalogRestoresEveryKind(t *testing.T) {
	ctx := context.Background()
	dir, in := t.TempDir(), t.TempDir()
	writeJSONFile(t, in, "1.json", `{"k": "a", "v": 1}`, `{"k": "b", "v": 2}`)
	csv := filepath.Join(t.TempDir(), "f.csv")
	if err := os.WriteFile(csv, []byte("1,x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	setup := fmt.Sprintf(`CREATE TABLE t (a BIGINT, s VARCHAR);
		CREATE TABLE gone (a BIGINT);
		CREATE TABLE ft (a BIGINT, s VARCHAR) WITH (connector = 'file', path = '%s', format = 'csv');
		CREATE SOURCE ev (k VARCHAR, v BIGINT) WITH (connector = 'files', path = '%s', format = 'json');
		CREATE MATERIALIZED VIEW mv AS SELECT k, COUNT(*) AS n, SUM(v) AS s FROM ev GROUP BY k;
		CREATE MATERIALIZED VIEW frozen AS SELECT k, COUNT(*) AS n FROM ev GROUP BY k;
		CREATE SINK out WITH (connector = 'console', output_mode = 'update') AS SELECT k, COUNT(*) AS n FROM ev GROUP BY k`, csv, in)
	eng := durableOpen(t, dir)
	mustExec(t, eng, setup)
	mustExec(t, eng, "INSERT INTO t VALUES (1, 'one'), (2, 'two'); INSERT INTO t VALUES (3, NULL); INSERT INTO gone VALUES (7)")
	for _, q := range []string{"mv", "frozen", "out"} {
		ckptProcess(t, eng, q)
	}
	mustExec(t, eng, "STOP QUERY frozen; DROP TABLE gone")
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(filepath.Join(dir, catalogFileName)); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("catalog file: %v, mode %v; want mode 0600", err, info.Mode().Perm())
	}

	writeJSONFile(t, in, "2.json", `{"k": "a", "v": 10}`, `{"k": "c", "v": 5}`)
	eng = durableOpen(t, dir)
	defer eng.Close()
	if got := strings.Join(query(t, eng, "SELECT a, s FROM t"), ";"); got != "1|one;2|two;3|NULL" {
		t.Fatalf("table t after restart: %s", got)
	}
	if got := strings.Join(query(t, eng, "SELECT a, s FROM ft"), ";"); got != "1|x" {
		t.Fatalf("file table after restart: %s", got)
	}
	if _, err := eng.Query(ctx, "SELECT * FROM gone"); err == nil {
		t.Fatal("a dropped table came back")
	}
	ckptProcess(t, eng, "mv")
	if got := strings.Join(query(t, eng, "SELECT k, n, s FROM mv"), ";"); got != "a|2|11;b|1|2;c|1|5" {
		t.Fatalf("view after restart (want the batch query over both files): %s", got)
	}
	// The stopped view kept its result of the first run and did not read the second file.
	if got := strings.Join(query(t, eng, "SELECT k, n FROM frozen"), ";"); got != "a|1;b|1" {
		t.Fatalf("stopped view after restart: %s", got)
	}
	status := map[string]string{}
	res, err := eng.Query(ctx, "SHOW QUERIES")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range rowsOf(t, res) {
		f := strings.Split(line, "|")
		status[f[0]] = f[2]
	}
	res.Release()
	if status["frozen"] != "stopped" || status["mv"] != "running" || status["out"] != "running" {
		t.Fatalf("statuses after restart: %v", status)
	}

	// Re-running the script: identical CREATEs are no-ops with a notice, a different one is
	// 42P07, IF NOT EXISTS is quiet.
	results, err := eng.Exec(ctx, strings.Replace(setup, "CREATE TABLE gone (a BIGINT);", "", 1))
	if err != nil {
		t.Fatalf("re-running the setup script: %v", err)
	}
	if len(results) == 0 || len(results[0].Notices) != 1 || !strings.Contains(results[0].Notices[0], `table "t" already exists with this definition`) {
		t.Fatalf("notices: %+v", results[0])
	}
	_, err = eng.Exec(ctx, "CREATE TABLE t (a BIGINT)")
	if err == nil || exec.SQLState(err) != exec.CodeDuplicateTable || !strings.Contains(err.Error(), `table "t" already exists`) {
		t.Fatalf("different definition: %v", err)
	}
	mustExec(t, eng, "CREATE TABLE IF NOT EXISTS t (a BIGINT)")
}

// TestDurableCatalogDamagedFileRefused: a truncated catalog file or one with a flipped byte
// stops Open with a message naming the file.
func TestDurableCatalogDamagedFileRefused(t *testing.T) {
	for _, damage := range []string{"truncate", "flip"} {
		dir := t.TempDir()
		eng := durableOpen(t, dir)
		mustExec(t, eng, "CREATE TABLE t (a BIGINT); CREATE TABLE u (b VARCHAR)")
		eng.Close()
		path := filepath.Join(dir, catalogFileName)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if damage == "truncate" {
			b = b[:len(b)/2]
		} else {
			i := strings.Index(string(b), `"u"`)
			b[i+1] = 'v'
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err = Open(Options{DataDir: dir, DurableCatalog: true})
		if err == nil || !strings.Contains(err.Error(), "catalog file "+path+" is damaged") {
			t.Fatalf("%s: got %v, want an error naming %s as damaged", damage, err, path)
		}
	}
}

// TestTableWALTornTailAndDamage: an incomplete last log record (a crash inside an INSERT that
// never returned) is dropped; a whole record with a flipped byte is refused naming the file.
func TestTableWALTornTailAndDamage(t *testing.T) {
	dir := t.TempDir()
	eng := durableOpen(t, dir)
	mustExec(t, eng, "CREATE TABLE t (a BIGINT, s VARCHAR); INSERT INTO t VALUES (1, 'a'); INSERT INTO t VALUES (2, 'b')")
	eng.Close()
	ent, _ := (&durableCatalog{}).entryFrom(t, dir, "t")
	wal := filepath.Join(dir, "tables", fmt.Sprint(ent.ID), "wal-0")
	good, err := os.ReadFile(wal)
	if err != nil {
		t.Fatal(err)
	}
	// A third INSERT cut short: a header announcing 1,000 payload bytes, then only ten.
	torn := append(append([]byte{}, good...), 0xe8, 0x03, 0, 0, 1, 2, 3, 4)
	torn = append(torn, make([]byte, 10)...)
	if err := os.WriteFile(wal, torn, 0o600); err != nil {
		t.Fatal(err)
	}
	eng = durableOpen(t, dir)
	if got := strings.Join(query(t, eng, "SELECT a, s FROM t"), ";"); got != "1|a;2|b" {
		t.Fatalf("after a torn tail: %s", got)
	}
	mustExec(t, eng, "INSERT INTO t VALUES (3, 'c')")
	eng.Close()
	eng = durableOpen(t, dir)
	if got := strings.Join(query(t, eng, "SELECT a, s FROM t"), ";"); got != "1|a;2|b;3|c" {
		t.Fatalf("after a torn tail and another insert: %s", got)
	}
	eng.Close()

	b, _ := os.ReadFile(wal)
	b[12] ^= 0xff // inside the first record's payload
	if err := os.WriteFile(wal, b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Open(Options{DataDir: dir, DurableCatalog: true})
	if err == nil || !strings.Contains(err.Error(), "table rows file "+wal+" is damaged") || !strings.Contains(err.Error(), "restoring table t") {
		t.Fatalf("flipped byte: got %v", err)
	}
}

// TestTableWALSnapshots: past the snapshot size the log is folded into a snapshot; the rows
// after a restart are every inserted row, once.
func TestTableWALSnapshots(t *testing.T) {
	dir := t.TempDir()
	eng := durableOpen(t, dir)
	eng.durable.snapshotAfter = 2000
	mustExec(t, eng, "CREATE TABLE t (a BIGINT, s VARCHAR)")
	for i := 0; i < 40; i++ {
		mustExec(t, eng, fmt.Sprintf("INSERT INTO t VALUES (%d, 'row %d'), (%d, NULL)", i, i, -i))
	}
	eng.Close()
	tdir := filepath.Join(dir, "tables", "1")
	snaps, wals, err := walGenerations(tdir)
	if err != nil || len(snaps) != 1 || len(wals) != 1 || snaps[0] != wals[0] || snaps[0] < 2 {
		t.Fatalf("generations: snapshots %v, logs %v (%v); want one of each, the same, after several snapshots", snaps, wals, err)
	}
	eng = durableOpen(t, dir)
	defer eng.Close()
	if got := strings.Join(query(t, eng, "SELECT COUNT(*), COUNT(s), SUM(a), COUNT(DISTINCT a) FROM t"), ";"); got != "80|40|0|79" {
		t.Fatalf("after snapshots and a restart: %s", got)
	}
}

// TestWithoutDurableCatalogNothingIsKept: DataDir alone keeps checkpoints only, as before.
func TestWithoutDurableCatalogNothingIsKept(t *testing.T) {
	dir := t.TempDir()
	eng, err := Open(Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, eng, "CREATE TABLE t (a BIGINT); INSERT INTO t VALUES (1)")
	eng.Close()
	if _, err := os.Stat(filepath.Join(dir, catalogFileName)); !os.IsNotExist(err) {
		t.Fatalf("catalog file written without DurableCatalog: %v", err)
	}
	eng, err = Open(Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	mustExec(t, eng, "CREATE TABLE t (a BIGINT)")
}

// entryFrom reads a catalog entry from dir's catalog file (test helper).
func (*durableCatalog) entryFrom(t *testing.T, dir, name string) (catalogEntry, bool) {
	t.Helper()
	c, err := openDurableCatalog(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c.entry(name)
}

// TestDurableCatalogFailedQueryAndRefusedDrops: a query that failed comes back failed with its
// error (and reads nothing); a refused DROP (a source still read, a view dropped as a sink)
// leaves the catalog whole, so the next start restores everything.
func TestDurableCatalogFailedQueryAndRefusedDrops(t *testing.T) {
	ctx := context.Background()
	dir, in := t.TempDir(), t.TempDir()
	writeJSONFile(t, in, "1.json", `{"k": "a", "v": 1}`, `{"k": "b", "v": "not a number"}`)
	eng := durableOpen(t, dir)
	mustExec(t, eng, fmt.Sprintf(`CREATE SOURCE ev (k VARCHAR, v BIGINT) WITH (connector = 'files', path = '%s', format = 'json', on_error = 'fail');
		CREATE MATERIALIZED VIEW bad WITH (trigger = 'manual') AS SELECT k, COUNT(*) AS n FROM ev GROUP BY k`, in))
	if err := eng.ProcessAllAvailable(ctx, "bad"); err == nil {
		t.Fatal("the bad record did not fail the query")
	}
	if _, err := eng.Exec(ctx, "DROP SOURCE ev"); err == nil {
		t.Fatal("DROP SOURCE of a source a query reads succeeded")
	}
	if _, err := eng.Exec(ctx, "DROP SINK bad"); err == nil {
		t.Fatal("DROP SINK of a view succeeded")
	}
	eng.Close()

	eng = durableOpen(t, dir)
	defer eng.Close()
	res, err := eng.Query(ctx, "SHOW QUERIES")
	if err != nil {
		t.Fatal(err)
	}
	rows := rowsOf(t, res)
	res.Release()
	if len(rows) != 1 || !strings.HasPrefix(rows[0], "bad|materialized view|failed|") || !strings.Contains(rows[0], "not a number") || !strings.Contains(rows[0], "|manual|") {
		t.Fatalf("SHOW QUERIES after the restart: %q", rows)
	}
	if got := query(t, eng, "SHOW SOURCES"); strings.Join(got, ";") != "ev" {
		t.Fatalf("sources after the restart: %v", got)
	}
	mustExec(t, eng, "DROP MATERIALIZED VIEW bad; DROP SOURCE ev")
	eng.Close()
	eng2 := durableOpen(t, dir)
	defer eng2.Close()
	if got := eng2.TableNames(); len(got) != 0 {
		t.Fatalf("after dropping everything: %v", got)
	}
}

// TestDurableCatalogUnrestorableQuery: a view whose checkpoint is damaged does not keep the
// engine (and the other objects) from starting: SHOW QUERIES lists it as failed with the reason,
// the same CREATE tries again (and fails again, naming the file), DROP forgets it.
func TestDurableCatalogUnrestorableQuery(t *testing.T) {
	ctx := context.Background()
	dir, in := t.TempDir(), t.TempDir()
	writeJSONFile(t, in, "1.json", `{"k": "a", "v": 1}`)
	view := "CREATE MATERIALIZED VIEW mv WITH (trigger = 'manual') AS SELECT k, COUNT(*) AS n FROM ev GROUP BY k"
	eng := durableOpen(t, dir)
	mustExec(t, eng, fmt.Sprintf("CREATE TABLE t (a BIGINT); INSERT INTO t VALUES (1); CREATE SOURCE ev (k VARCHAR, v BIGINT) WITH (connector = 'files', path = '%s', format = 'json'); %s", in, view))
	ckptProcess(t, eng, "mv")
	eng.Close()
	meta := filepath.Join(dir, "checkpoints", "mv", "metadata")
	b, err := os.ReadFile(meta)
	if err != nil {
		t.Fatal(err)
	}
	b[3] ^= 0x20
	if err := os.WriteFile(meta, b, 0o600); err != nil {
		t.Fatal(err)
	}

	eng = durableOpen(t, dir)
	defer eng.Close()
	if got := strings.Join(query(t, eng, "SELECT a FROM t"), ";"); got != "1" {
		t.Fatalf("table after the restart: %s", got)
	}
	res, err := eng.Query(ctx, "SHOW QUERIES")
	if err != nil {
		t.Fatal(err)
	}
	rows := rowsOf(t, res)
	res.Release()
	if len(rows) != 1 || !strings.HasPrefix(rows[0], "mv|materialized view|failed|") || !strings.Contains(rows[0], meta) {
		t.Fatalf("SHOW QUERIES: %q", rows)
	}
	if _, err := eng.Exec(ctx, view); err == nil || !strings.Contains(err.Error(), meta) {
		t.Fatalf("CREATE again on the damaged checkpoint: %v", err)
	}
	if _, err := eng.Exec(ctx, "CREATE MATERIALIZED VIEW mv AS SELECT k FROM ev"); exec.SQLState(err) != exec.CodeDuplicateTable {
		t.Fatalf("CREATE with another definition: %v", err)
	}
	mustExec(t, eng, "DROP MATERIALIZED VIEW mv")
	if _, err := os.Stat(filepath.Join(dir, "checkpoints", "mv")); !os.IsNotExist(err) {
		t.Fatalf("the checkpoint of the dropped view is still there: %v", err)
	}
	mustExec(t, eng, view)
	ckptProcess(t, eng, "mv")
	if got := strings.Join(query(t, eng, "SELECT k, n FROM mv"), ";"); got != "a|1" {
		t.Fatalf("the view created afresh: %s", got)
	}
}
