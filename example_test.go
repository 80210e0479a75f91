package streamsql_test

import (
	"context"
	"fmt"

	streamsql "github.com/streamsql/streamsql"
	"github.com/streamsql/streamsql/exec"
)

// printRows prints a result's rows, one per line, cells separated by " | ".
func printRows(res *streamsql.Result) {
	for _, r := range res.Records {
		for i := 0; i < int(r.NumRows()); i++ {
			line := ""
			for c := 0; c < int(r.NumCols()); c++ {
				if c > 0 {
					line += " | "
				}
				line += exec.FormatValue(r.Column(c), i)
			}
			fmt.Println(line)
		}
	}
}

func Example() {
	ctx := context.Background()
	eng, err := streamsql.Open(streamsql.Options{})
	if err != nil {
		panic(err)
	}
	defer eng.Close()
	if _, err := eng.Exec(ctx, "CREATE TABLE t (k VARCHAR, v BIGINT); INSERT INTO t VALUES ('a', 1), ('b', 2), ('a', 3)"); err != nil {
		panic(err)
	}
	res, err := eng.Query(ctx, "SELECT k, SUM(v) FROM t GROUP BY k ORDER BY k")
	if err != nil {
		panic(err)
	}
	defer res.Release()
	printRows(res)
	// Output:
	// a | 4
	// b | 2
}

// Streams from Go: a push source, a materialized view over it, rows pushed as they come.
func ExampleEngine_Push() {
	ctx := context.Background()
	eng, err := streamsql.Open(streamsql.Options{})
	if err != nil {
		panic(err)
	}
	defer eng.Close()
	_, err = eng.Exec(ctx, `CREATE SOURCE ev (k VARCHAR, v BIGINT) WITH (connector = 'push');
		CREATE MATERIALIZED VIEW totals AS SELECT k, SUM(v) AS total FROM ev GROUP BY k`)
	if err != nil {
		panic(err)
	}
	for _, batch := range [][][]any{{{"a", 1}, {"b", 2}}, {{"a", 10}}} {
		if err := eng.Push("ev", batch); err != nil {
			panic(err)
		}
		if err := eng.ProcessAllAvailable(ctx, "totals"); err != nil {
			panic(err)
		}
		res, err := eng.Query(ctx, "SELECT k, total FROM totals ORDER BY k")
		if err != nil {
			panic(err)
		}
		printRows(res)
		res.Release()
	}
	p, err := eng.QueryProgress("totals")
	if err != nil {
		panic(err)
	}
	fmt.Println("last epoch read", p.NumInputRows, "row(s)")
	// Output:
	// a | 1
	// b | 2
	// a | 11
	// b | 2
	// last epoch read 1 row(s)
}
