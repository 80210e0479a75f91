package sources

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestFreezeStopsGrowth: after Freeze, Latest offers only what existed at the call.
func TestFreezeStopsGrowth(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	write := func(name string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.csv")
	write("b.csv")
	fs := openFiles(t, dir, []string{"v BIGINT"}, "format", "csv", "max_files_per_trigger", "1")
	if err := fs.Freeze(ctx); err != nil {
		t.Fatal(err)
	}
	write("c.csv") // arrives after the freeze
	var from Offset
	var ends []string
	for i := 0; i < 4; i++ {
		end, err := fs.Latest(ctx, from)
		if err != nil {
			t.Fatal(err)
		}
		ends = append(ends, string(end))
		from = end
	}
	if want := []string{`{"files":1}`, `{"files":2}`, `{"files":2}`, `{"files":2}`}; ends[3] != want[3] || ends[0] != want[0] || ends[1] != want[1] {
		t.Fatalf("frozen file stream offered %v, want %v", ends, want)
	}

	push, err := NewPushStream(StreamConfig{Name: "p", Schema: schemaOf(t, "v BIGINT"), Mem: checkedMem(t), Options: map[string]string{"connector": "push"}})
	if err != nil {
		t.Fatal(err)
	}
	defer push.Close()
	if err := push.PushRows([][]any{{int64(1)}, {int64(2)}}); err != nil {
		t.Fatal(err)
	}
	frozen := push.FrozenView()
	if err := push.PushRows([][]any{{int64(3)}}); err != nil {
		t.Fatal(err)
	}
	if end, err := frozen.Latest(ctx, nil); err != nil || string(end) != `{"rows":2}` {
		t.Fatalf("frozen push view: %s %v, want the 2 rows pushed before", end, err)
	}
	if end, err := push.Latest(ctx, nil); err != nil || string(end) != `{"rows":3}` {
		t.Fatalf("the push stream itself: %s %v", end, err)
	}
}
