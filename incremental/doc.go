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
// incremental imports planner, exec, watermark, sources and sinks (and state, later, for
// checkpoints).
package incremental
