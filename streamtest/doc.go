// Package streamtest is a step-by-step test language for continuous queries, modelled on Spark's
// StreamTest. A test sets up an engine with SQL (sources, then the CREATE SINK or CREATE
// MATERIALIZED VIEW under test) and runs a list of steps against it:
//
//	streamtest.Run(t, streamtest.Setup{SQL: `
//	    CREATE SOURCE ev (k VARCHAR, v BIGINT) WITH (connector = 'push');
//	    CREATE SINK out WITH (connector = 'console', format = 'json', output_mode = 'update',
//	        trigger = 'manual') AS SELECT k, SUM(v) AS s FROM ev GROUP BY k`,
//	    Keys: []string{"k"}},
//	    streamtest.AddData("ev", []any{"a", 1}, []any{"b", 2}),
//	    streamtest.CheckNewAnswer("a,1", "b,2"),
//	    streamtest.AddData("ev", []any{"a", 5}),
//	    streamtest.CheckNewAnswer("a,6"),
//	    streamtest.CheckAnswer("a,6", "b,2"),
//	    streamtest.AssertStateRows(2),
//	)
//
// The engine runs with an injected clock (AdvanceClock moves it) and writes console sinks to an
// in-memory buffer, which the checks parse: a sink under test must use format = 'json'. Rows
// added with AddData are processed (ProcessAllAvailable) before the next step that looks at
// results, so all AddData steps between two checks form one epoch — as in Spark, where a check
// runs the pending micro-batch. Queries that run by themselves (a processing-time trigger such
// as '1 minute', or the default trigger over a socket) are not only driven by the test: their
// checks retry, until the step's deadline, until the output matches. The processing-time trigger
// runs on the injected clock, so it fires when AdvanceClock moves the clock past the interval.
//
// With Setup.DataDir, StopStream closes the engine (queries checkpoint into DataDir) and
// StartStream opens a new one on the same directory and runs the setup SQL again: the query
// resumes from its checkpoint, as after a process restart. Push sources do not survive that, so
// restart tests feed a files source with AddFile. Without DataDir, StopStream drops the query and
// StartStream re-creates it from scratch, so StartStream after AddData fails the test.
//
// Expected rows are []any (nil, bool, integers, float64, string, time.Time, time.Duration) or a
// string of comma-separated cells ("a,1", NULL for a null); cells compare as the text the
// console prints, so timestamps are "2024-01-01 12:00:00". Comparisons ignore row order and
// respect multiplicity unless the step name says InOrder.
//
// When a step fails the test stops and the report lists the steps with "=> " at the failing one,
// the sink's output so far, the query's EXPLAIN and its last progress (DESIGN.md, "Testing").
package streamtest
