package streamsql_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

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

// Follows a materialized view's changes: each epoch that changes it arrives as rows with a
// weight, +1 inserted and -1 removed (an updated row is both), starting with its contents.
func ExampleEngine_Subscribe() {
	ctx := context.Background()
	eng, err := streamsql.Open(streamsql.Options{})
	if err != nil {
		panic(err)
	}
	defer eng.Close()
	_, err = eng.Exec(ctx, `CREATE SOURCE ev (k VARCHAR, v BIGINT) WITH (connector = 'push');
		CREATE MATERIALIZED VIEW totals WITH (trigger = 'manual') AS SELECT k, SUM(v) AS total FROM ev GROUP BY k`)
	if err != nil {
		panic(err)
	}
	step := func(rows ...[]any) {
		if err := eng.Push("ev", rows); err != nil {
			panic(err)
		}
		if err := eng.ProcessAllAvailable(ctx, "totals"); err != nil {
			panic(err)
		}
	}
	step([]any{"a", 1}, []any{"b", 2})

	seen := make(chan int64)
	done := make(chan error)
	errEnough := errors.New("enough")
	go func() {
		done <- eng.Subscribe(ctx, "totals", func(epoch int64, changes arrow.RecordBatch) error {
			var lines []string
			for i := 0; i < int(changes.NumRows()); i++ {
				lines = append(lines, fmt.Sprintf("epoch %d: %s %s weight %s", epoch,
					exec.FormatValue(changes.Column(0), i), exec.FormatValue(changes.Column(1), i), exec.FormatValue(changes.Column(2), i)))
			}
			sort.Strings(lines)
			fmt.Println(strings.Join(lines, "\n"))
			if epoch == 2 {
				return errEnough
			}
			seen <- epoch
			return nil
		})
	}()
	<-seen // the snapshot
	step([]any{"a", 10})
	<-seen
	step([]any{"c", 5})
	fmt.Println(<-done)
	// Output:
	// epoch 0: a 1 weight 1
	// epoch 0: b 2 weight 1
	// epoch 1: a 1 weight -1
	// epoch 1: a 11 weight 1
	// epoch 2: c 5 weight 1
	// enough
}
