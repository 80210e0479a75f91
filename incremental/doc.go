// Package incremental runs SQL queries over streams: it checks that a plan can run incrementally
// in the requested output mode (Spark's rules, with messages naming the operator and the mode),
// lowers it with stateful streaming operators, and drives it in micro-batches.
//
// The epoch protocol of Query (Spark's MicroBatchExecution):
//
//  1. for every input, end = Latest(from); with no new data anywhere and no watermark change that
//     could close state, wait for the trigger;
//  2. run the epoch: each streaming scan emits Read(from, end); the watermark generators observe
//     the event times read; operators are flushed with the watermark in force for this epoch;
//  3. hand the epoch's output to the sink (Write(epoch, rows));
//  4. commit the inputs, advance the watermark (used from the next epoch on) and publish a
//     progress record.
//
// Every stateful operator has its own watermarks (eventtime.go): one reading the streams drops
// late rows and closes state at the epoch's watermark; one reading another stateful operator's
// output is chained: its eviction watermark lags by what its input's event time lags (a window's
// size for window_start, an interval join's bound), and its late-event watermark is its previous
// eviction watermark (Spark 3.4). Interval joins (intervaljoin.go), deduplication and keep-first
// ROW_NUMBER() = 1 (keepfirst.go), and window functions over closed windows run in append mode.
//
// incremental imports planner, exec, watermark, sources and sinks (and state, later, for
// checkpoints).
package incremental
