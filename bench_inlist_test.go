package streamsql

import (
	"context"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkLargeInList: SELECT count(*) FROM t WHERE v IN (1, 2, ..., n) for n up to one million
// elements, end to end through Engine.Query (parse, bind, plan, run over a ten-row table), to keep
// the front end's cost linear in the statement's size.
func BenchmarkLargeInList(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			var sb strings.Builder
			sb.WriteString("SELECT count(*) FROM t WHERE v IN (")
			for i := 1; i <= n; i++ {
				if i > 1 {
					sb.WriteByte(',')
				}
				sb.WriteString(strconv.Itoa(i))
			}
			sb.WriteString(")")
			stmt := sb.String()
			eng, err := Open(Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer eng.Close()
			ctx := context.Background()
			if _, err := eng.Exec(ctx, "CREATE TABLE t (v BIGINT); INSERT INTO t VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)"); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				res, err := eng.Query(ctx, stmt)
				if err != nil {
					b.Fatal(err)
				}
				if got := res.Records[0].Column(0).ValueStr(0); got != "9" {
					b.Fatalf("count %s, want 9", got)
				}
				res.Release()
			}
		})
	}
}
