// Package planner owns the logical plan: typed nodes (Scan, Values, Filter, Project, Aggregate,
// Join, Sort, Limit, Union, Explode), bound expressions, the rewrite rules that run on a plan
// (predicate pushdown into and through joins), EXPLAIN text, and lowering to exec operator trees.
//
// Column references in a node's expressions are indexes into the node's input columns (for a
// Join: the left columns followed by the right columns). The binder in package sql builds plans;
// incremental (streaming) rewrites them; the root package runs the lowered trees.
//
// planner imports exec (and watermark through it).
package planner
