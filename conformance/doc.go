// Package conformance holds the SQL conformance suite: sqllogictest-style files under testdata/
// run through the engine's public API and, where the SQL is portable, through PostgreSQL as an
// independent oracle. The package has no code besides its tests.
//
// # File format
//
// A file is a sequence of records separated by blank lines; lines starting with '#' between records
// are comments.
//
//	statement ok                      the statement (lines up to the next blank line) must succeed
//	statement error <substring>       it must fail; the engine's message must contain <substring>
//	query <types> [rowsort|nosort]    a row-returning statement, then "----", then the expected rows
//	halt                              stop reading the file
//
// <types> has one letter per column, used only to decide how cells compare: I integer and R
// real/decimal compare numerically (R with relative tolerance 1e-9, so PostgreSQL's 2.5000 equals
// 2.5), B boolean (PostgreSQL's t/f read as true/false), T text and D date/time/interval compare as
// text. Expected rows hold the cells separated by single spaces; NULL prints as NULL and the empty
// string as (empty). rowsort sorts both sides before comparing; nosort (the default) keeps order;
// contains requires each expected line, in order, to be a substring of some later actual row (for
// EXPLAIN, whose exact layout is not a contract).
//
// A line "skipif postgres" or "onlyif streamsql" before a record marks it as streamsql-only: it is
// not sent to PostgreSQL ("skipif streamsql" / "onlyif postgres" do the reverse). ${TESTDATA} in SQL
// is replaced by the absolute path of the testdata directory.
//
// # Running
//
// go test ./conformance runs every file in a fresh engine per file and mode, and, when a
// PostgreSQL server is found (internal/testdb; required under CI=true), every portable record on
// PostgreSQL too, in a fresh schema per file. Both must match the expected block. All failures of a
// file are reported together with file:line, the SQL, and the expected and actual rows.
//
// STREAMSQL_CONFORMANCE_PG_ONLY=1 checks the files against PostgreSQL alone (the engine is not run),
// which validates the expectations themselves. STREAMSQL_CONFORMANCE_FILE=<glob> limits the files.
//
// # Modes
//
// The files directly under testdata/ run in batch mode: every statement goes through
// Engine.Exec/Query. The files under testdata/streaming/ run in batch mode and in the streaming
// modes described next (TestStreamingConformance).
//
// # Streaming files
//
// testdata/streaming/*.slt add three directives to the format above:
//
//	stream ev (k VARCHAR, v BIGINT, ts TIMESTAMP) [watermark ts 5 seconds]
//	rows ev                         then one row per line, up to a blank line; a line
//	a 1 2024-01-01T00:00:01         "epoch" between rows marks an explicit epoch boundary
//	query <types> <sort> [mode=view|complete|update|append] [keys=1,2|keys=none] [splits=any|exact] [dropped=N]
//
// Row cells are separated by spaces and written like expected cells (NULL, (empty)); a cell in
// single quotes may hold spaces (” is a quote). TIMESTAMP cells are 2024-01-01T00:00:01[.ffffff]
// (UTC), DATE cells 2024-01-01; BOOLEAN, BIGINT, DOUBLE, DECIMAL and VARCHAR columns are supported.
// Every query sees every row of every rows block before it, in file order.
//
// Batch mode, the reference: a stream is a TABLE and each rows block an INSERT, on the engine and,
// for portable records, on PostgreSQL (window() and session_window() are not portable: mark those
// queries skipif postgres). Statements creating a continuous query (CREATE SINK, CREATE
// MATERIALIZED VIEW) run only in the streaming modes, on an engine where the streams are push
// sources; other statements (CREATE TABLE) run in both.
//
// Streaming modes: each query runs on a fresh engine where each stream is a push source
// (CREATE SOURCE ... WITH (connector = 'push'), with WATERMARK FOR when declared). The query
// becomes a MATERIALIZED VIEW (mode=view, the default) or a console JSON sink with that
// output_mode, all with trigger = 'manual'; the rows so far are pushed epoch by epoch (each epoch's
// rows, then ProcessAllAvailable, which also runs the no-data epochs a moved watermark needs). The
// splits, all of which must give the expected block:
//
//   - one row per epoch;
//   - random splits, one per seed in streamSeeds (a new epoch before each row with probability
//     cutProbability, seeded by the seed and the query's line);
//   - all rows in one epoch;
//   - restarted: the first random split (splits=exact: the explicit epochs) again, on an engine
//     with a data directory that is closed after every epoch and replaced by a new one on the same
//     directory (setup replayed, the view or sink created again, so the query resumes from its
//     checkpoint with fresh operators restoring their state). Its result must equal the expected
//     block and the straight run of the same split, late-row count included. These runs wait on
//     checkpoint fsyncs and take most of the suite's time; STREAMSQL_CONFORMANCE_RESTARTS=off
//     leaves them out of a quick local run.
//
// What is compared after the last epoch: mode=view, SELECT * FROM the view (nosort keeps its
// order); mode=complete, the rows of the sink's last epoch (the whole result table); mode=update,
// the sink's rows upserted by the key columns keys= names (1-based; keys=none for a global
// aggregate's single row; without keys every row is kept, as for a stateless query); mode=append,
// the union of every emitted row. update and append output has no order: they need rowsort.
//
// append on a windowed aggregation emits only the windows (sessions) the final watermark has
// closed, so its expected block is written by hand (what Spark outputs) and batch mode only checks
// that the batch result contains every expected row. All other modes must equal batch mode.
//
// Watermarks make results depend on the epochs: the watermark computed at the end of an epoch
// (latest event time - delay) applies in the next, and stateful operators drop late rows. A
// splits=any query (the default) must not depend on them: the runner checks that no row of a
// watermarked stream is at or below (latest earlier event time - delay), so no split can make it
// late, and fails the query otherwise. Late-row cases say splits=exact: they run once, with the
// epochs the "epoch" lines give, have no batch oracle, and may assert with dropped=N the number of
// rows the stateful operators dropped (QueryProgress state operators' cumulative
// numRowsDroppedByWatermark).
//
// A failure names file:line, the mode, the split (seed and rows per epoch) and the expected and
// actual rows.
//
// # Batch queries as streams
//
// TestBatchQueriesAsStreams (as_stream_test.go) runs every batch query case of testdata/*.slt as
// a materialized view with each table it reads turned into a push stream of the same name and
// columns, fed the table's rows in four runs (one epoch, one row per epoch, random splits, random
// splits with a restart from the checkpoint after every epoch), and after every epoch compares
// the view with the same query over tables holding the rows pushed so far. Cases reading no table,
// not SELECT/WITH, or nondeterministic (now(), random(), LIMIT without ORDER BY) are not counted;
// the cases that do not run are listed with their reason in testdata/streaming_refusals.txt,
// which the test compares (STREAMSQL_UPDATE_REFUSALS=1 rewrites it, with the share that runs).
//
// # SQLite's sqllogictest corpus
//
// TestSQLLogicTest (sqllogictest_test.go, reader in sqllogictest_parse_test.go) runs files in
// SQLite's own sqllogictest format (one value per result line, "N values hashing to <md5>",
// hash-threshold, skipif/onlyif <db>, labels, rowsort/valuesort) on streamsql and PostgreSQL,
// both as engine "postgresql": the subset under testdata/sqllogictest/ by default, a whole
// checkout with SQLLOGICTEST_DIR (make sqllogictest). RESULTS.md has the pass rates.
//
// # Differential fuzzing
//
// TestDiffFuzz (difffuzz_test.go) generates random queries over small tables with NULLs,
// duplicates and negative numbers and compares streamsql's answers with PostgreSQL's
// (STREAMSQL_DIFFFUZZ_DURATION, default 15s; STREAMSQL_DIFFFUZZ_SEED; make difffuzz).
//
// "skipif streamsql-bug-N" before a record marks a known engine bug (listed with a description in
// knownBugs): the record still runs in batch mode, the streaming modes skip it, and every skip is
// printed to standard error in every run.
package conformance
