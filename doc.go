// Package streamsql is the embeddable engine: the catalog, sessions, statement execution and the
// public Go API. It is the one package that wires the layers (sql, planner, exec, sources, sinks,
// incremental) together.
//
//	eng, err := streamsql.Open(streamsql.Options{})
//	defer eng.Close()
//	_, err = eng.Exec(ctx, "CREATE TABLE t (k VARCHAR, v BIGINT); INSERT INTO t VALUES ('a', 1)")
//	res, err := eng.Query(ctx, "SELECT k, SUM(v) FROM t GROUP BY k")
//	defer res.Release()
package streamsql
