package streamsql

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestBadInputIsDeadLetteredExactly: with 1% and 10% malformed records mixed into the files of a
// stream, the query's result equals a run over the good records alone, and every bad record is in
// the dead-letter table once, at its file and line.
func TestBadInputIsDeadLetteredExactly(t *testing.T) {
	for _, rate := range []float64{0.01, 0.10} {
		t.Run(fmt.Sprintf("%.0f%%", rate*100), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(rate*1000)))
			mixed, clean := t.TempDir(), t.TempDir()
			var wantBad []string
			for f := 0; f < 5; f++ {
				var all, good strings.Builder
				for line := 1; line <= 400; line++ {
					if rng.Float64() < rate {
						bad := []string{
							`{"k":"x","v":"not a number"}`,
							`{"k":"x","v":1`,
							`{"k":"x","v":1,"k":"dup"}`,
							"{\"k\":\"\xff\xfe\",\"v\":1}",
						}[rng.IntN(4)]
						all.WriteString(bad + "\n")
						wantBad = append(wantBad, fmt.Sprintf("%s:%d", filepath.Join(mixed, fmt.Sprintf("f%d.json", f)), line))
						continue
					}
					rec := fmt.Sprintf(`{"k":"k%d","v":%d}`, rng.IntN(20), rng.IntN(1000))
					all.WriteString(rec + "\n")
					good.WriteString(rec + "\n")
				}
				name := fmt.Sprintf("f%d.json", f)
				if err := os.WriteFile(filepath.Join(mixed, name), []byte(all.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(clean, name), []byte(good.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if len(wantBad) == 0 {
				t.Fatal("the generator made no bad records")
			}
			eng, err := Open(Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer eng.Close()
			for _, src := range []struct{ name, dir string }{{"mixed", mixed}, {"clean", clean}} {
				mustExec(t, eng, fmt.Sprintf("CREATE SOURCE %s (k VARCHAR, v BIGINT) WITH (connector = 'files', path = '%s', format = 'json', max_files_per_trigger = '2')", src.name, src.dir))
				mustExec(t, eng, fmt.Sprintf("CREATE MATERIALIZED VIEW %s_v WITH (trigger = 'available_now') AS SELECT k, COUNT(*) AS n, SUM(v) AS s FROM %s GROUP BY k", src.name, src.name))
			}
			got := query(t, eng, "SELECT * FROM mixed_v")
			want := query(t, eng, "SELECT * FROM clean_v")
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("results differ from the run without bad records:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			dead := query(t, eng, "SELECT location FROM mixed_v_errors")
			sort.Strings(wantBad)
			if strings.Join(dead, "\n") != strings.Join(wantBad, "\n") {
				t.Fatalf("dead letters at\n%s\nwant\n%s", strings.Join(dead, "\n"), strings.Join(wantBad, "\n"))
			}
			var total int64
			for _, q := range []string{"mixed_v"} {
				res, err := eng.Query(context.Background(), "SELECT COUNT(*) FROM "+q+"_errors WHERE reason <> '' AND raw IS NOT NULL AND source = 'mixed'")
				if err != nil {
					t.Fatal(err)
				}
				total = res.Records[0].Column(0).(interface{ Value(int) int64 }).Value(0)
				res.Release()
			}
			if total != int64(len(wantBad)) {
				t.Fatalf("%d dead letters with reason and raw text, want %d", total, len(wantBad))
			}
		})
	}
}
