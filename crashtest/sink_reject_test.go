package crashtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/streamsql/streamsql/internal/testdb"
	"github.com/streamsql/streamsql/sinks"
)

// TestCrashSinkRejectsNUL is the poison-pill case of issue 12 under kill -9: a files source whose
// JSON lines carry, among good rows, strings with a NUL character (which PostgreSQL text cannot
// hold: SQLSTATE 22021) and values violating the target table's CHECK (23514), written by the
// PostgreSQL sink. NUL passes the source (the engine, files, Kafka and MySQL/MariaDB store it);
// the sink that cannot store it refuses the row. Every run, killed or not, must end with each good
// row in the table exactly once and each refused row in out_errors exactly once with its SQLSTATE;
// a restart must not fail again on the refused rows. The kills include after_sink (the sink
// committed an epoch with refused rows, the engine did not), whose replay is skipped by the sink
// and must still deliver the epoch's dead letters once.
func TestCrashSinkRejectsNUL(t *testing.T) {
	url := testdb.Postgres(t)
	bin := streamsqlBinary(t)
	root := t.TempDir()
	src := filepath.Join(root, "src")
	must(t, os.MkdirAll(src, 0o755))
	const files, perFile = 12, 150
	var good []string
	wantBad := map[string]string{} // id -> SQLSTATE
	id := 0
	for f := 0; f < files; f++ {
		var lines []string
		for i := 0; i < perFile; i++ {
			s, n := fmt.Sprintf("v%d", id), id
			switch {
			case id%41 == 7:
				s = fmt.Sprintf("nul\\u0000%d", id)
				wantBad[strconv.Itoa(id)] = "22021"
			case id%67 == 3:
				n = -id
				wantBad[strconv.Itoa(id)] = "23514"
			default:
				good = append(good, fmt.Sprintf("%d|v%d|%d", id, id, id))
			}
			lines = append(lines, fmt.Sprintf(`{"id": %d, "s": "%s", "n": %d}`, id, s, n))
			id++
		}
		must(t, os.WriteFile(filepath.Join(src, fmt.Sprintf("f%03d.json", f)), []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	}
	sort.Strings(good)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	must(t, err)
	defer conn.Close(context.Background())
	run := func(t *testing.T, name string, schedule []kill) {
		_, err := conn.Exec(ctx, "CREATE TABLE "+name+" (id BIGINT, s TEXT, n BIGINT CHECK (n >= 0))")
		must(t, err)
		t.Cleanup(func() {
			_, _ = conn.Exec(context.Background(), "DROP TABLE IF EXISTS "+name)
			_, _ = conn.Exec(context.Background(), "DELETE FROM "+sinks.CommitsTable+" WHERE query_id = $1", name)
			_, _ = conn.Exec(context.Background(), "DELETE FROM "+sinks.RejectsTable+" WHERE query_id = $1", name)
		})
		script := fmt.Sprintf("CREATE SOURCE ev (id BIGINT, s VARCHAR, n BIGINT) WITH (connector = 'files', path = '%s', format = 'json', max_files_per_trigger = '1');\n"+
			"CREATE SINK %s WITH (connector = 'postgres', url = %s, table = '%s', trigger = 'available_now') AS SELECT id, s, n FROM ev;\n"+
			"SELECT source, raw, reason FROM %s_errors;\n", src, name, sqlQuote(url), name, name)
		path := filepath.Join(root, name+".sql")
		must(t, os.WriteFile(path, []byte(script), 0o644))
		out, err := runToEnd(bin, path, filepath.Join(root, name+"-data"), schedule)
		if err != nil {
			t.Fatalf("kills [%s]: %v", scheduleString(schedule), err)
		}
		// The table: every good row once.
		rows, err := conn.Query(ctx, "SELECT id::text || '|' || s || '|' || n::text FROM "+name)
		must(t, err)
		var got []string
		for rows.Next() {
			var r string
			must(t, rows.Scan(&r))
			got = append(got, r)
		}
		must(t, rows.Err())
		rows.Close()
		sort.Strings(got)
		if d := compareRows(splitRows(got), splitRows(good), 1); !d.ok() {
			t.Fatalf("kills [%s]: table %s (%d rows, want %d): %s", scheduleString(schedule), name, len(got), len(good), d)
		}
		// The dead letters: every refused row once, with its SQLSTATE.
		sets, err := csvSections(out)
		if err != nil || len(sets) != 1 {
			t.Fatalf("want 1 result set, got %d (%v):\n%.2000s", len(sets), err, out)
		}
		seen := map[string]int{}
		idOf := regexp.MustCompile(`^id=(\d+),`)
		for _, r := range sets[0] {
			m := idOf.FindStringSubmatch(r[1])
			if r[0] != "sink postgres" || m == nil {
				t.Fatalf("unexpected dead letter %q", r)
			}
			seen[m[1]]++
			if want := wantBad[m[1]]; !strings.Contains(r[2], "SQLSTATE "+want) {
				t.Fatalf("dead letter of id %s: reason %q, want SQLSTATE %s", m[1], r[2], want)
			}
			if strings.Contains(r[1], "\x00") {
				t.Fatalf("dead letter holds a raw NUL: %q", r[1])
			}
		}
		for k := range wantBad {
			if seen[k] != 1 {
				t.Errorf("kills [%s]: refused row id %s is %d times in %s_errors, want once", scheduleString(schedule), k, seen[k], name)
			}
		}
		if len(seen) != len(wantBad) {
			t.Errorf("%s_errors holds %d distinct ids, want %d", name, len(seen), len(wantBad))
		}
		t.Logf("kills [%s]: %d good rows once, %d refused rows dead-lettered once", scheduleString(schedule), len(good), len(wantBad))
	}
	suffix := strconv.FormatInt(time.Now().UnixNano()%1_000_000_000, 36)
	t.Run("failure-free", func(t *testing.T) { run(t, "rej_ff_"+suffix, nil) })
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 5))
	schedule := []kill{
		{kind: killFault, point: "after_sink", epoch: 2 + rng.Int64N(3)},
		{kind: killFault, point: "after_offsets", epoch: 5 + rng.Int64N(2)},
		{kind: killFault, point: "after_sink", epoch: 7 + rng.Int64N(2)},
		{kind: killFault, point: "after_commit", epoch: 9},
		{kind: killTimer, after: time.Duration(200+rng.IntN(800)) * time.Millisecond},
	}
	t.Run("kills", func(t *testing.T) { run(t, "rej_k_"+suffix, schedule) })
}

// splitRows turns "a|b|c" lines into rows of cells.
func splitRows(lines []string) [][]string {
	out := make([][]string, len(lines))
	for i, l := range lines {
		out[i] = strings.Split(l, "|")
	}
	return out
}
