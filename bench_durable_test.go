package streamsql

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkInsert measures one single-row INSERT statement into an in-memory table, without
// and with the durable catalog (whose write-ahead log fsyncs every INSERT before it returns),
// and a 1,000-row INSERT with it (one log record, one fsync).
func BenchmarkInsert(b *testing.B) {
	var values string
	for i := range 1000 {
		if i > 0 {
			values += ", "
		}
		values += fmt.Sprintf("(%d, 'row %d')", i, i)
	}
	for _, c := range []struct {
		name    string
		durable bool
		rows    string
	}{
		{"memory/1row", false, "(1, 'one')"},
		{"durable/1row", true, "(1, 'one')"},
		{"memory/1000rows", false, values},
		{"durable/1000rows", true, values},
	} {
		b.Run(c.name, func(b *testing.B) {
			eng, err := Open(Options{DataDir: b.TempDir(), DurableCatalog: c.durable})
			if err != nil {
				b.Fatal(err)
			}
			defer eng.Close()
			ctx := context.Background()
			if _, err := eng.Exec(ctx, "CREATE TABLE t (a BIGINT, s VARCHAR)"); err != nil {
				b.Fatal(err)
			}
			stmt := "INSERT INTO t VALUES " + c.rows
			b.ResetTimer()
			for b.Loop() {
				if _, err := eng.Exec(ctx, stmt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
