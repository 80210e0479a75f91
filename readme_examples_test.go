package streamsql

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/streamsql/streamsql/sql"
)

// readmeExample returns the SQL of the README code block after the marker comment
// `<!-- NAME: run by TestX -->`, so the README's examples are run as written.
func readmeExample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "<!-- "+name+":")
	if !ok {
		t.Fatalf("README.md has no %s", name)
	}
	_, rest, ok = strings.Cut(rest, "```sql\n")
	if !ok {
		t.Fatalf("README.md's %s has no sql code block", name)
	}
	script, _, _ := strings.Cut(rest, "```")
	return script
}

// runReadmeScript runs a script's statements in order (sql.SplitStatements, as `run -f` splits a
// script) and returns their results.
func runReadmeScript(t *testing.T, eng *Engine, script string) []*Result {
	t.Helper()
	var results []*Result
	for _, st := range sql.SplitStatements(script) {
		res, err := eng.Exec(context.Background(), st.Text)
		if err != nil {
			t.Fatalf("%s: %v", st.Text, err)
		}
		results = append(results, res...)
	}
	return results
}

// TestReadmeStateTTLAndReaderExample runs the README's state_ttl example and then its state()
// example as written, with a checkpoint directory: the state holds one group per phone with the
// view's counts (the oracle: the view's own top 10), the counts add up to the input, and nothing
// expired (the run is far shorter than the TTL).
func TestReadmeStateTTLAndReaderExample(t *testing.T) {
	eng, err := Open(Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	runReadmeScript(t, eng, readmeExample(t, "state-ttl-example"))
	if got := query(t, eng, "SELECT count(*), sum(n) FROM active"); !reflect.DeepEqual(got, []string{"50|10000"}) {
		t.Fatalf("the view: %v, want 50 phones and 10000 events", got)
	}
	results := runReadmeScript(t, eng, readmeExample(t, "state-reader-example"))
	got := rowsOf(t, results[len(results)-1])
	want := query(t, eng, "SELECT phone_id, n FROM active ORDER BY n DESC, phone_id LIMIT 10")
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("state(): %v, the view's top 10: %v", got, want)
	}
	p, err := eng.QueryProgress("active")
	if err != nil || p == nil || len(p.StateOperators) == 0 {
		t.Fatalf("progress: %+v %v", p, err)
	}
	if op := p.StateOperators[0]; op.Rows != 50 || op.ExpiredKeys != 0 {
		t.Fatalf("state operator: %d groups, %d expired; want 50, 0", op.Rows, op.ExpiredKeys)
	}
}
