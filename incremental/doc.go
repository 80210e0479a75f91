// Package incremental will own the streaming rewrite of logical plans: output-mode checks,
// stateful streaming operators placed in the plan, and the micro-batch driver (offset log, epochs,
// watermarks, commit log). It imports planner, exec, state, watermark, sources and sinks.
package incremental
