package crashtest

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	_ "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/streamsql/streamsql/internal/kafkatest"
	"github.com/streamsql/streamsql/internal/testdb"
	"github.com/streamsql/streamsql/sinks"
)

// scenario is one continuous query into one sink.
type scenario struct {
	name  string
	sink  string // postgres, mysql, files, kafka
	mode  string // output_mode
	query string // SELECT over the source ev (id, ts, k, v); the oracle runs it over a table ev
	// cols are the output columns, in order (read back from JSON sinks by name).
	cols []string
	// keyCols: the leading columns that identify a result row (for the diff's counts).
	keyCols int
	// windowed: the source has a watermark and the oracle keeps only the windows the final
	// watermark closed.
	windowed bool
	// watermarked: the source has the watermark, and the oracle is the query itself (no row is
	// late, so an interval join or a deduplication gives the batch answer).
	watermarked bool
	// bigEpochs: a quarter of the files per epoch and random kills only (mid sink transaction).
	bigEpochs bool
	// targetedOnly: no random kills (Kafka against the mock; see the package comment).
	targetedOnly bool
	// rowLimit, when > 0, reads the files with max_rows_per_trigger instead of whole files per
	// epoch, so epochs start and end in the middle of files (offsets with byte positions).
	rowLimit int
	// compactEvery, when > 0, compacts the aggregation's changelogs into a new base every that
	// many epochs (state_compaction_epochs), beside the running epochs, and the schedule adds a
	// kill right before a compaction writes (fault point "compact", the k-th compaction of a run);
	// random kills land before, during or after the compactions.
	compactEvery int
	// stateMemory, when set, is the query's state_memory: a budget small enough that the
	// GROUP BY keeps most of its 1,000 keys in its spill store (issue 13).
	stateMemory string
}

const (
	appendQuery   = "SELECT id, k, v * 2 AS v2 FROM ev WHERE v % 3 <> 0"
	updateQuery   = "SELECT k, COUNT(*) AS n, SUM(v) AS s, MIN(v) AS lo, MAX(v) AS hi FROM ev GROUP BY k"
	completeQuery = "SELECT k, COUNT(*) AS n, SUM(v) AS s FROM ev WHERE v > -400 GROUP BY k"
	windowQuery   = "SELECT window(ts, '5 seconds') AS w, COUNT(*) AS n, SUM(v) AS s FROM ev GROUP BY window(ts, '5 seconds')"
	// Operators that retract (issue 8): a chained aggregation and a top-N in update mode (the
	// sink deletes rows that leave the result), and a join of two streams (the stream with
	// itself) in append mode, all with their state checkpointed.
	chainedQuery = "SELECT n, COUNT(*) AS keys FROM (SELECT k, COUNT(*) AS n FROM ev GROUP BY k) AS t GROUP BY n"
	joinQuery    = "SELECT a.id, a.k, b.v AS prev_v FROM ev AS a JOIN ev AS b ON a.id = b.id + 1"
	topNQuery    = "SELECT k, SUM(v) AS s FROM ev GROUP BY k ORDER BY s DESC, k LIMIT 5"
	// Event-time operators (issue 9): an interval join of the stream with itself and a
	// deduplication, in append mode, their state evicted by the watermark.
	intervalJoinQuery = "SELECT a.id, a.k, b.v AS prev_v FROM ev AS a JOIN ev AS b ON a.id = b.id + 1 AND b.ts BETWEEN a.ts - INTERVAL '10 seconds' AND a.ts + INTERVAL '10 seconds'"
	dedupQuery        = "SELECT DISTINCT k, ts FROM ev"
	// Window functions and a NOT IN over a stream (update mode, deletes by row): the leader of
	// each key (a new leader retracts the old), and the events (every 13th id) whose id is not one
	// more than the id of an event with v % 97 = 0 (an anti join whose subquery side grows).
	windowFnQuery = "SELECT k, id, v FROM (SELECT k, id, v, row_number() OVER (PARTITION BY k ORDER BY v DESC, id) AS rn FROM ev WHERE id % 7 = 0) AS t WHERE rn = 1"
	notInQuery    = "SELECT id, k FROM ev WHERE id % 13 = 0 AND id NOT IN (SELECT id + 1 FROM ev WHERE v % 97 = 0)"
	// watermarkDelay exceeds maxDisorder: no row is late, so the oracle drops none.
	watermarkDelay = "5 SECOND"
)

var (
	appendCols   = []string{"id", "k", "v2"}
	updateCols   = []string{"k", "n", "s", "lo", "hi"}
	completeCols = []string{"k", "n", "s"}
	windowCols   = []string{"window_start", "window_end", "n", "s"}
	chainedCols  = []string{"n", "keys"}
	joinCols     = []string{"id", "k", "prev_v"}
	topNCols     = []string{"k", "s"}
	dedupCols    = []string{"k", "ts"}
	windowFnCols = []string{"k", "id", "v"}
	notInCols    = []string{"id", "k"}
)

var scenarios = []scenario{
	{name: "postgres-append", sink: "postgres", mode: "append", query: appendQuery, cols: appendCols, keyCols: 1},
	{name: "postgres-append-bigepoch", sink: "postgres", mode: "append", query: appendQuery, cols: appendCols, keyCols: 1, bigEpochs: true},
	{name: "postgres-update", sink: "postgres", mode: "update", query: updateQuery, cols: updateCols, keyCols: 1},
	{name: "postgres-complete", sink: "postgres", mode: "complete", query: completeQuery, cols: completeCols, keyCols: 1},
	{name: "postgres-window-append", sink: "postgres", mode: "append", query: windowQuery, cols: windowCols, keyCols: 1, windowed: true},
	{name: "postgres-chained-update", sink: "postgres", mode: "update", query: chainedQuery, cols: chainedCols, keyCols: 1},
	{name: "postgres-join-append", sink: "postgres", mode: "append", query: joinQuery, cols: joinCols, keyCols: 1},
	{name: "postgres-topn-update", sink: "postgres", mode: "update", query: topNQuery, cols: topNCols, keyCols: 1},
	{name: "postgres-intervaljoin-append", sink: "postgres", mode: "append", query: intervalJoinQuery, cols: joinCols, keyCols: 1, watermarked: true},
	{name: "postgres-dedup-append", sink: "postgres", mode: "append", query: dedupQuery, cols: dedupCols, keyCols: 2, watermarked: true},
	{name: "postgres-windowfn-update", sink: "postgres", mode: "update", query: windowFnQuery, cols: windowFnCols, keyCols: 1},
	{name: "postgres-notin-update", sink: "postgres", mode: "update", query: notInQuery, cols: notInCols, keyCols: 1},
	{name: "mysql-append", sink: "mysql", mode: "append", query: appendQuery, cols: appendCols, keyCols: 1},
	{name: "mysql-append-bigepoch", sink: "mysql", mode: "append", query: appendQuery, cols: appendCols, keyCols: 1, bigEpochs: true},
	{name: "mysql-update", sink: "mysql", mode: "update", query: updateQuery, cols: updateCols, keyCols: 1},
	{name: "mysql-complete", sink: "mysql", mode: "complete", query: completeQuery, cols: completeCols, keyCols: 1},
	{name: "files-append", sink: "files", mode: "append", query: appendQuery, cols: appendCols, keyCols: 1},
	{name: "postgres-update-compaction", sink: "postgres", mode: "update", query: updateQuery, cols: updateCols, keyCols: 1, compactEvery: 2},
	{name: "postgres-update-spill", sink: "postgres", mode: "update", query: updateQuery, cols: updateCols, keyCols: 1, stateMemory: "64KiB"},
	{name: "postgres-complete-spill", sink: "postgres", mode: "complete", query: completeQuery, cols: completeCols, keyCols: 1, stateMemory: "64KiB"},
	{name: "postgres-update-rowlimit", sink: "postgres", mode: "update", query: updateQuery, cols: updateCols, keyCols: 1, rowLimit: 3001},
	// The mock cluster keeps a bounded log (at 1M events it had dropped the topic's first 540,000
	// records), so the Kafka query keeps one row in eight: ~83,000 rows at 1M events.
	{name: "kafka-append", sink: "kafka", mode: "append", query: appendQuery + " AND id % 8 = 0", cols: appendCols, keyCols: 1, targetedOnly: true},
}

// oracleQuery is the batch query whose result the sink must end with.
func (s scenario) oracleQuery() string {
	if !s.windowed {
		return s.query
	}
	// available_now leaves the windows the final watermark (max event time - delay) has not
	// closed unemitted, as in Spark.
	return "SELECT * FROM (" + s.query + ") x WHERE window_end <= (SELECT MAX(ts) FROM ev) - INTERVAL " + watermarkDelay
}

// target is where a scenario's sink writes, and how the harness reads it back.
type target interface {
	// options is the connector part of CREATE SINK name WITH (...).
	options(name string) string
	read(name string, s scenario) ([][]string, error)
	// cleanup removes what a query named name left (tables, commit markers).
	cleanup(name string)
}

func TestCrash(t *testing.T) {
	cfg := loadConfig(t)
	bin := streamsqlBinary(t)
	root := t.TempDir()
	fmt.Printf("crashtest: %d seed(s) %v, %d events per seed, full=%v\n", len(cfg.seeds), cfg.seeds, cfg.events, cfg.full)

	// One dataset and one set of oracle answers per seed, shared by the scenarios.
	type seedData struct {
		ds      *dataset
		answers map[string][][]string
	}
	var mu sync.Mutex
	data := map[uint64]*seedData{}
	getSeed := func(t *testing.T, seed uint64) *seedData {
		mu.Lock()
		defer mu.Unlock()
		if sd, ok := data[seed]; ok {
			return sd
		}
		dir := filepath.Join(root, fmt.Sprintf("seed-%d", seed))
		ds, err := generate(filepath.Join(dir, "events"), seed, cfg.events)
		if err != nil {
			t.Fatalf("seed %d: generating events: %v", seed, err)
		}
		var queries []string
		seen := map[string]bool{}
		for _, s := range scenarios {
			if q := s.oracleQuery(); !seen[q] {
				seen[q] = true
				queries = append(queries, q)
			}
		}
		ddl := fmt.Sprintf("CREATE TABLE ev (id BIGINT, ts TIMESTAMP, k VARCHAR, v BIGINT) WITH (connector = 'file', path = '%s', format = 'csv')", ds.dir)
		res, err := oracle(bin, dir, ddl, queries)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		sd := &seedData{ds: ds, answers: map[string][][]string{}}
		for i, q := range queries {
			sd.answers[q] = res[i]
		}
		data[seed] = sd
		return sd
	}

	var kafkaOnce sync.Once
	var mc *kafka.MockCluster
	// Cleanup, not defer: the parallel subtests run after this function returns.
	t.Cleanup(func() { kafkatest.Close(t, mc) })

	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			// Two scenarios at a time: runs mostly wait on fsyncs and the databases.
			t.Parallel()
			var tg target
			switch sc.sink {
			case "postgres":
				tg = &pgTarget{url: testdb.Postgres(t)}
			case "mysql":
				tg = &myTarget{dsn: testdb.MySQL(t)}
			case "files":
				tg = &filesTarget{root: filepath.Join(root, "files-out")}
			case "kafka":
				kafkaOnce.Do(func() {
					var err error
					if mc, err = kafka.NewMockCluster(1); err != nil {
						t.Fatalf("kafka mock cluster: %v", err)
					}
				})
				if mc == nil {
					t.Fatal("kafka mock cluster unavailable")
				}
				tg = &kafkaTarget{mc: mc}
			}
			var sum summary
			for _, seed := range cfg.seeds {
				sd := getSeed(t, seed)
				runScenario(t, cfg, bin, root, sc, tg, sd.ds, sd.answers[sc.oracleQuery()], &sum)
			}
			fmt.Printf("crashtest: %-26s seeds %d  kills %3d  restarts %3d  epochs %5d  rows %8d  wall %s\n",
				sc.name, len(cfg.seeds), sum.kills, sum.restarts, sum.epochs, sum.rows, sum.wall.Round(time.Millisecond))
		})
	}
}

type summary struct {
	kills, restarts int
	epochs          int64
	rows            int
	wall            time.Duration
}

var runCounter atomic.Int64

// uniqueName is a fresh query (and table, topic) name: the commit markers of sinks are keyed by
// the query name, so no two runs, here or in an earlier test process, may share one.
func uniqueName(sc scenario, seed uint64, what string) string {
	n := strings.ReplaceAll(sc.name, "-", "_")
	return fmt.Sprintf("ct_%s_%d_%s_%d_%d", n, seed, what, os.Getpid(), runCounter.Add(1))
}

// script is the SQL a run executes.
func script(sc scenario, ds *dataset, tg target, name string, full bool) string {
	wm := ""
	if sc.windowed || sc.watermarked {
		wm = ", WATERMARK FOR ts AS ts - INTERVAL " + watermarkDelay
	}
	perTrigger := 2
	if !full {
		perTrigger = 3 // ~17 epochs of 50,000 events: the CI budget
	}
	if sc.bigEpochs {
		perTrigger = (ds.files + 3) / 4
	}
	limit := fmt.Sprintf("max_files_per_trigger = '%d'", perTrigger)
	if sc.rowLimit > 0 {
		limit = fmt.Sprintf("max_rows_per_trigger = '%d'", sc.rowLimit)
	}
	compaction := ""
	if sc.compactEvery > 0 {
		compaction = fmt.Sprintf(", state_compaction_epochs = '%d'", sc.compactEvery)
	}
	spill := ""
	if sc.stateMemory != "" {
		spill = fmt.Sprintf(", state_memory = '%s'", sc.stateMemory)
	}
	return fmt.Sprintf(`CREATE SOURCE ev (id BIGINT, ts TIMESTAMP, k VARCHAR, v BIGINT%s)
  WITH (connector = 'files', path = '%s', format = 'csv', %s);
CREATE SINK %s WITH (%s, output_mode = '%s', trigger = 'available_now'%s) AS
  %s;
`, wm, ds.dir, limit, name, tg.options(name), sc.mode, compaction+spill, sc.query)
}

// runScenario runs one scenario for one seed: a failure-free run, then a run killed by the seed's
// schedule, and compares both with the batch oracle.
func runScenario(t *testing.T, cfg config, bin, root string, sc scenario, tg target, ds *dataset, want [][]string, sum *summary) {
	t.Helper()
	seed := ds.seed
	h := fnv.New64a()
	h.Write([]byte(sc.name))
	rng := rand.New(rand.NewPCG(seed, h.Sum64()))
	dir := filepath.Join(root, "runs", fmt.Sprintf("%s-%d", sc.name, seed))

	// (i) the failure-free run: its time scales the random kills, its epochs place the faults.
	ffName := uniqueName(sc, seed, "ff")
	t.Cleanup(func() { tg.cleanup(ffName) })
	ffDir := filepath.Join(dir, "ff")
	ffScript := filepath.Join(dir, "ff.sql")
	must(t, os.MkdirAll(dir, 0o755))
	must(t, os.WriteFile(ffScript, []byte(script(sc, ds, tg, ffName, cfg.full)), 0o644))
	ff, err := runUntilDone(t, bin, ffScript, ffDir, nil, nil)
	if err != nil {
		t.Fatalf("seed %d scenario %s: failure-free run: %v", seed, sc.name, err)
	}
	epochs := lastEpoch(ffDir, ffName) + 1
	ffRows, err := tg.read(ffName, sc)
	if err != nil {
		t.Fatalf("seed %d scenario %s: reading the failure-free sink: %v", seed, sc.name, err)
	}
	if d := compareRows(ffRows, want, sc.keyCols); !d.ok() {
		t.Errorf("seed %d scenario %s: the FAILURE-FREE run differs from the batch oracle (%d rows, oracle %d): %s", seed, sc.name, len(ffRows), len(want), d)
	}
	if len(want) == 0 {
		t.Fatalf("seed %d scenario %s: the oracle is empty; the scenario proves nothing", seed, sc.name)
	}

	// (ii) the killed run.
	schedule := makeSchedule(rng, cfg, sc, epochs, ff.wall)
	name := uniqueName(sc, seed, "kill")
	t.Cleanup(func() { tg.cleanup(name) })
	killDir := filepath.Join(dir, "kill")
	killScript := filepath.Join(dir, "kill.sql")
	must(t, os.WriteFile(killScript, []byte(script(sc, ds, tg, name, cfg.full)), 0o644))
	out, err := runUntilDone(t, bin, killScript, killDir, schedule, nil)
	repro := fmt.Sprintf("seed %d (CRASHTEST_SEED=%d CRASHTEST_EVENTS=%d go test ./crashtest -run 'TestCrash/%s$'), scenario %s, kill schedule [%s], kills applied [%s]",
		seed, seed, cfg.events, sc.name, sc.name, scheduleString(schedule), scheduleString(out.applied))
	if err != nil {
		t.Fatalf("%s: %v", repro, err)
	}
	got, err := tg.read(name, sc)
	if err != nil {
		t.Fatalf("%s: reading the sink: %v", repro, err)
	}
	if d := compareRows(got, want, sc.keyCols); !d.ok() {
		t.Errorf("%s: the sink (%d rows) differs from the batch oracle (%d rows): %s", repro, len(got), len(want), d)
	}
	if d := compareRows(got, ffRows, sc.keyCols); !d.ok() {
		t.Errorf("%s: the sink (%d rows) differs from the failure-free run (%d rows): %s", repro, len(got), len(ffRows), d)
	}
	// Complete mode re-emits the restored table in one extra epoch after a restart (for views),
	// so a run restarted after its last data epoch has more epochs; other modes have exactly as
	// many.
	if e := lastEpoch(killDir, name) + 1; e != epochs && !(sc.mode == "complete" && e > epochs) {
		t.Errorf("%s: the killed run committed %d epochs, the failure-free run %d (the epochs' input ranges must not depend on restarts)", repro, e, epochs)
	}
	sum.kills += out.kills
	sum.restarts += out.restarts
	sum.epochs += epochs
	sum.rows += len(got)
	sum.wall += ff.wall + out.wall
	t.Logf("seed %d: %d epochs, %d rows, failure-free %s; kills [%s], %d restarts, %s",
		seed, epochs, len(got), ff.wall.Round(time.Millisecond), scheduleString(out.applied), out.restarts, out.wall.Round(time.Millisecond))
}

// makeSchedule plans a killed run. Targeted faults go at increasing epochs spread over the first
// 60% of the run (each later run resumes before its fault's epoch); random kills follow, each
// within the first 5-20% of a failure-free run's time, so that several fit in the work left.
// bigEpochs scenarios get random kills only, over most of the run.
func makeSchedule(rng *rand.Rand, cfg config, sc scenario, epochs int64, ffWall time.Duration) []kill {
	var ks []kill
	if !sc.bigEpochs {
		points := append([]string{}, faultPoints...)
		if !cfg.full {
			// Two of the four points per seed, chosen by the seed, so three seeds cover all.
			rng.Shuffle(len(points), func(i, j int) { points[i], points[j] = points[j], points[i] })
			points = points[:2]
			order := map[string]int{}
			for i, p := range faultPoints {
				order[p] = i
			}
			sort.Slice(points, func(i, j int) bool { return order[points[i]] < order[points[j]] })
		}
		span := max(epochs*6/10, 1)
		for i, p := range points {
			lo := span * int64(i) / int64(len(points))
			hi := max(span*int64(i+1)/int64(len(points)), lo+1)
			ks = append(ks, kill{kind: killFault, point: p, epoch: lo + rng.Int64N(hi-lo)})
		}
		if sc.compactEvery > 0 {
			// The run resuming after the kills above compacts again from its first epochs:
			// kill it right before its first, second or third compaction writes a base.
			ks = append(ks, kill{kind: killFault, point: "compact", epoch: 1 + rng.Int64N(3)})
		}
	}
	if sc.targetedOnly {
		return ks
	}
	n, lo, hi := 1, 0.05, 0.20
	if cfg.full {
		n = 3
	}
	if sc.bigEpochs {
		n, lo, hi = 3, 0.15, 0.60
		if !cfg.full {
			n = 2
		}
	}
	for range n {
		f := lo + rng.Float64()*(hi-lo)
		ks = append(ks, kill{kind: killTimer, after: time.Duration(f * float64(ffWall))})
	}
	return ks
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// sqlQuote quotes a SQL string literal.
func sqlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// pgTarget is a PostgreSQL table.
type pgTarget struct{ url string }

func (p *pgTarget) options(name string) string {
	return fmt.Sprintf("connector = 'postgres', url = %s, table = '%s', create_table = 'true'", sqlQuote(p.url), name)
}

func (p *pgTarget) read(name string, _ scenario) ([][]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, p.url)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT * FROM "+name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, err
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			row[i] = normCell(v)
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

func (p *pgTarget) cleanup(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, p.url)
	if err != nil {
		return
	}
	defer conn.Close(ctx)
	_, _ = conn.Exec(ctx, "DROP TABLE IF EXISTS "+name)
	_, _ = conn.Exec(ctx, "DELETE FROM "+sinks.CommitsTable+" WHERE query_id = $1", name)
}

// myTarget is a MariaDB/MySQL table.
type myTarget struct{ dsn string }

func (m *myTarget) options(name string) string {
	return fmt.Sprintf("connector = 'mysql', url = %s, table = '%s', create_table = 'true'", sqlQuote(m.dsn), name)
}

func (m *myTarget) read(name string, _ scenario) ([][]string, error) {
	db, err := sql.Open("mysql", m.dsn)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.Query("SELECT * FROM `" + name + "`")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			row[i] = normCell(v)
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

func (m *myTarget) cleanup(name string) {
	db, err := sql.Open("mysql", m.dsn)
	if err != nil {
		return
	}
	defer db.Close()
	_, _ = db.Exec("DROP TABLE IF EXISTS `" + name + "`")
	_, _ = db.Exec("DELETE FROM "+sinks.CommitsTable+" WHERE query_id = ?", name)
}

// filesTarget is a files sink directory, read through its manifests.
type filesTarget struct{ root string }

func (f *filesTarget) options(name string) string {
	return fmt.Sprintf("connector = 'files', path = '%s', format = 'json'", filepath.Join(f.root, name))
}

func (f *filesTarget) read(name string, sc scenario) ([][]string, error) {
	dir := filepath.Join(f.root, name)
	mdir := filepath.Join(dir, sinks.ManifestDir)
	entries, err := os.ReadDir(mdir)
	if err != nil {
		return nil, err
	}
	var out [][]string
	named := map[string]int64{}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue // a manifest being written when the process died
		}
		b, err := os.ReadFile(filepath.Join(mdir, e.Name()))
		if err != nil {
			return nil, err
		}
		var m sinks.Manifest
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("manifest %s: %v", e.Name(), err)
		}
		for _, file := range m.Files {
			if prev, dup := named[file]; dup {
				return nil, fmt.Errorf("data file %s is named by the manifests of epochs %d and %d", file, prev, m.Epoch)
			}
			named[file] = m.Epoch
			rows, err := readJSONLines(filepath.Join(dir, file), sc.cols)
			if err != nil {
				return nil, err
			}
			out = append(out, rows...)
		}
	}
	return out, nil
}

func (f *filesTarget) cleanup(name string) { os.RemoveAll(filepath.Join(f.root, name)) }

func readJSONLines(path string, cols []string) ([][]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out [][]string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		row, err := jsonRow(sc.Bytes(), cols)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, line, err)
		}
		out = append(out, row)
	}
	return out, sc.Err()
}

// jsonRow reads one JSON object into the cells of cols.
func jsonRow(b []byte, cols []string) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if len(m) != len(cols) {
		return nil, fmt.Errorf("%d fields, want %d (%v)", len(m), len(cols), cols)
	}
	row := make([]string, len(cols))
	for i, c := range cols {
		v, ok := m[c]
		if !ok {
			return nil, fmt.Errorf("no field %q", c)
		}
		row[i] = normCell(v)
	}
	return row, nil
}

// kafkaTarget is a topic of the in-process mock cluster (see the package comment for what it can
// prove).
type kafkaTarget struct{ mc *kafka.MockCluster }

func (k *kafkaTarget) options(name string) string {
	// The sink does not create its commit topic; the output topic gets one partition.
	_ = k.mc.CreateTopic(name, 1, 1)
	_ = k.mc.CreateTopic(name+"__streamsql_commits", 1, 1)
	return fmt.Sprintf("connector = 'kafka', brokers = '%s', topic = '%s', format = 'json', timeout = '20 seconds'", k.mc.BootstrapServers(), name)
}

// read consumes the topic with read_committed from the beginning to its end.
func (k *kafkaTarget) read(name string, sc scenario) ([][]string, error) {
	c, err := kafka.NewConsumer(&kafka.ConfigMap{
		"bootstrap.servers":    k.mc.BootstrapServers(),
		"group.id":             name + "-reader",
		"enable.auto.commit":   false,
		"isolation.level":      "read_committed",
		"enable.partition.eof": true,
		"auto.offset.reset":    "earliest",
	})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	topic := name
	if err := c.Assign([]kafka.TopicPartition{{Topic: &topic, Partition: 0, Offset: kafka.OffsetBeginning}}); err != nil {
		return nil, err
	}
	// Read to the high watermark: a PartitionEOF alone can come before the end of a large topic.
	lo, hi, err := c.QueryWatermarkOffsets(name, 0, 10000)
	if lo > 0 {
		return nil, fmt.Errorf("topic %s starts at offset %d: the broker dropped its first records (the mock cluster keeps a bounded log), so the topic cannot be compared", name, lo)
	}
	if err != nil {
		return nil, err
	}
	var out [][]string
	if hi <= 0 {
		return out, nil
	}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		switch e := c.Poll(200).(type) {
		case *kafka.Message:
			row, err := jsonRow(e.Value, sc.cols)
			if err != nil {
				return nil, fmt.Errorf("topic %s offset %d: %v", name, e.TopicPartition.Offset, err)
			}
			out = append(out, row)
			if int64(e.TopicPartition.Offset) >= hi-1 {
				return out, nil
			}
		case kafka.Error:
			if e.IsFatal() {
				return nil, e
			}
		}
	}
	return nil, fmt.Errorf("reading topic %s: offset %d not reached within two minutes (%d rows read)", name, hi-1, len(out))
}

func (k *kafkaTarget) cleanup(string) {}
