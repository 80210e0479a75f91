// Package crashtest is the kill -9 test of continuous queries with checkpoints and exactly-once
// sinks (DESIGN.md, "Testing": faults). It has no library code; everything is in its tests.
//
// TestCrash builds the streamsql binary once, generates events as CSV files (id, ts, k, v: 1,000
// keys, about one event in ten up to 2 s older than its predecessors) and, for every scenario and
// seed, runs `streamsql run -f script.sql --data-dir DIR` as a subprocess. The script declares a
// files source over the event files (max_files_per_trigger small, so a run has many epochs) and one
// CREATE SINK with trigger = 'available_now', so a run that is not killed exits 0 once every file is
// processed. The harness kills runs, restarting the same script on the same data directory after
// each kill, until a run exits 0. Kills are:
//
//   - targeted: STREAMSQL_TEST_FAULT=<point>:<epoch> makes the engine SIGKILL itself at a point of
//     the epoch protocol: after_offsets (offsets/N written, nothing written to the sink),
//     after_sink (the sink committed epoch N, commits/N not written: the restart re-runs N and
//     the sink must skip it), after_state (state/N written, commits/N not), after_commit;
//   - random: the harness sends SIGKILL at a seeded random instant of the run (uniform over the
//     failure-free run's duration), landing anywhere, including inside a sink transaction;
//   - mid sink transaction: the *-bigepoch scenarios make epochs large (a quarter of the files
//     each), so most of a run is spent inside few large sink writes and random kills mostly land
//     inside a sink transaction (probabilistic: nothing tells the harness where the kill landed).
//
// The sink's final contents are then compared with (i) a failure-free run of the same scenario
// and (ii) the batch oracle: the same SELECT run by streamsql as a batch query over a file TABLE
// of the same files (for the windowed append query, only the windows the final watermark closed,
// since available_now does not emit windows still open at the end). A difference is reported as
// counts of missing, duplicated and wrong rows with examples, together with the seed, the
// scenario and the kill schedule (targeted kills reproduce exactly with CRASHTEST_SEED; random
// instants depend on timing). Each scenario prints a summary line: kills, restarts, epochs, rows.
//
// Scenarios: PostgreSQL and MariaDB sinks in append (a stateless filter/project), update (GROUP
// BY k with counts, sums, min, max) and complete mode, the same update query with its changelogs
// compacted every 2 epochs beside the running query (postgres-update-compaction: besides the
// targeted and random kills, a kill right before the k-th compaction of a run writes its base,
// fault point "compact"), a tumbling-window aggregation with a
// watermark in append mode into PostgreSQL, an interval join of the stream with itself and a
// SELECT DISTINCT deduplication in append mode (state evicted by the watermark), the update and
// complete GROUP BY again with state_memory = '64KiB' (about 90 of the 1,000 keys in memory, the
// rest spilled and read back, the state restored from checkpoints after each kill), the files sink
// (JSON, manifests), and the Kafka sink.

// watermark in append mode into PostgreSQL, operators that retract into PostgreSQL in update mode (a
// chained aggregation, a top-N, window functions, a NOT IN over the stream) and a join of the stream
// with itself in append mode, the files sink (JSON, manifests), and the Kafka sink.
// Tables, topics and query names are unique per run; tables and commit-marker rows are removed
// afterwards.
//
// What the Kafka scenario can and cannot prove. It runs against librdkafka's in-process mock
// cluster (kafka.NewMockCluster, started by the test; the subprocess connects to its bootstrap
// address) and reads the topic back with a read_committed consumer. The mock accepts the
// transactional protocol but keeps no transaction state: it serves records of aborted or
// never-committed transactions to read_committed consumers too. So the scenario uses targeted
// kills only (at those four points no transaction is open) and proves that the sink's marker-based
// recovery is right: after a restart it skips every epoch whose transaction committed and re-runs
// exactly the others, so the topic ends with each row once. The mock keeps a bounded log (it drops
// a topic's oldest records past a few hundred thousand), so this query keeps one row in eight, and
// the reader refuses a topic whose low watermark is above 0. It cannot prove that rows of a
// transaction cut by a kill stay invisible (a real broker's job), nor that a zombie producer is
// fenced; random kills would show such rows as duplicates against the mock.
//
// Sizes. Under `go test ./...` the defaults are small (3 seeds, 50,000 events, two targeted and
// one random kill per scenario and seed) so the package stays well under a minute. `make
// crash-test` sets CRASHTEST_EVENTS=1000000 and CRASHTEST_SEEDS=5; with more than 100,000 events
// every targeted point and three random kills run per scenario and seed. Environment:
//
//	CRASHTEST_SEEDS   how many seeds (1..N), or a comma-separated list of seeds
//	CRASHTEST_SEED    one seed (overrides CRASHTEST_SEEDS; to reproduce a failure)
//	CRASHTEST_EVENTS  events per seed
//
// TestCrashViewsAndDamage covers what a sink does not show: a materialized view without
// aggregation and its dead-letter table (every source file carries one bad line) under targeted and
// random kills, read back by SELECTs at the end of the script: the view must equal the oracle and
// the dead-letter table hold each bad line once. Then a run killed right after a middle epoch's
// commit leaves a checkpoint, and each of its files (offsets, commits, operator state, the view's
// rows and manifest, the dead letters and theirs, metadata, format) is truncated, removed or has a
// byte flipped: the restarted run must end with exactly the oracle's result (a lost last commit,
// a lost format file) or refuse with a message naming the file.
//
// TestCrashSinkRejectsNUL is the poison pill under kill -9: JSON lines with NUL characters and
// CHECK-violating values among good rows, files source to PostgreSQL, killed after_sink (a replay
// of an epoch the sink committed with refused rows), after_offsets, after_commit and at random:
// the table holds each good row once and <query>_errors each refused row once with its SQLSTATE.
//
// TestSoak is the soak run (`make soak SOAK_DURATION=30m`; 8 s under `go test`): `serve` with five
// continuous queries over a files source the test keeps feeding, N clients querying, SIGKILL and
// restart every few minutes, exact comparison of every output at the end, RSS sampled per server
// life (see its comment).
//
// PostgreSQL and MariaDB come from internal/testdb (skipped without them, failing under CI=true).
package crashtest
