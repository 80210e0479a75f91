package sinks

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/exec"
)

// changeRows renders a change as sorted "±k=n" strings.
func changeRows(t *testing.T, c Change) string {
	t.Helper()
	defer c.Rec.Release()
	if got := c.Rec.Schema().Field(int(c.Rec.NumCols()) - 1); got.Name != WeightColumn || got.Type.ID() != arrow.INT64 {
		t.Fatalf("last column is %s %s, want weight BIGINT", got.Name, got.Type)
	}
	w := c.Rec.Column(2).(*array.Int64)
	var rows []string
	for i := 0; i < int(c.Rec.NumRows()); i++ {
		sign := "+"
		if w.Value(i) < 0 {
			sign = "-"
		}
		if v := w.Value(i); v != 1 && v != -1 {
			t.Fatalf("weight %d, want ±1", v)
		}
		rows = append(rows, sign+exec.FormatValue(c.Rec.Column(0), i)+"="+exec.FormatValue(c.Rec.Column(1), i))
	}
	sort.Strings(rows)
	return strings.Join(rows, " ")
}

func next(t *testing.T, s *Subscription) Change {
	t.Helper()
	c, err := s.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// noChange asserts nothing is waiting: Next with a cancelled context returns its error.
func noChange(t *testing.T, s *Subscription) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c, err := s.Next(ctx)
	if err == nil {
		t.Fatalf("unexpected change at epoch %d: %s", c.Epoch, changeRows(t, c))
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Next: %v, want the context's error", err)
	}
}

func TestMemoryTableChangesByMode(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := context.Background()

	type step struct {
		rows []any
		want string // "" when the write changes nothing
	}
	cases := []struct {
		mode     OutputMode
		keys     []int
		initial  []any
		snapshot string
		steps    []step
	}{
		{Update, []int{0}, []any{"a", 1, "b", 1}, "+a=1 +b=1", []step{
			{[]any{"a", 2, "b", 1}, "+a=2 -a=1"}, // b rewritten unchanged: cancels
			{[]any{nil, 5}, "+NULL=5"},
			{[]any{"b", 1}, ""},
			{[]any{nil, 6, "c", 3}, "+NULL=6 +c=3 -NULL=5"},
		}},
		{Append, nil, []any{"a", 1}, "+a=1", []step{
			{[]any{"a", 1, "c", 3}, "+a=1 +c=3"},
			{[]any{}, ""},
		}},
		{Complete, nil, []any{"a", 1, "b", 2, "b", 2}, "+a=1 +b=2 +b=2", []step{
			{[]any{"b", 2, "c", 3}, "+c=3 -a=1 -b=2"}, // one of the two b=2 goes
			{[]any{"b", 2, "c", 3}, ""},
			{[]any{}, "-b=2 -c=3"},
			{[]any{"d", 4}, "+d=4"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.mode.String(), func(t *testing.T) {
			m := NewMemoryTable(mem)
			if err := m.Open(kvSchema, tc.mode, tc.keys); err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			write(t, m, mem, 0, tc.initial...)
			s, err := m.Subscribe(ctx, SubscribeLimits{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			c := next(t, s)
			if got := changeRows(t, c); got != tc.snapshot || c.Epoch != 0 {
				t.Fatalf("snapshot: %q at epoch %d, want %q at 0", got, c.Epoch, tc.snapshot)
			}
			for i, st := range tc.steps {
				epoch := int64(i + 1)
				write(t, m, mem, epoch, st.rows...)
				if st.want == "" {
					noChange(t, s)
					continue
				}
				c := next(t, s)
				if got := changeRows(t, c); got != st.want || c.Epoch != epoch {
					t.Fatalf("epoch %d: %q at epoch %d, want %q", epoch, got, c.Epoch, st.want)
				}
			}
			write(t, m, mem, 2, "zz", 9) // a replayed epoch changes nothing
			noChange(t, s)
		})
	}
}

func TestMemoryTableSubscribeEmptyAndEnd(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)

	if _, err := NewMemoryTable(mem).Subscribe(context.Background(), SubscribeLimits{}); err == nil {
		t.Fatal("subscribing before Open must fail")
	}
	m := NewMemoryTable(mem)
	if err := m.Open(kvSchema, Append, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := m.Subscribe(ctx, SubscribeLimits{})
	if err != nil {
		t.Fatal(err)
	}
	noChange(t, s) // an empty table has no snapshot change
	write(t, m, mem, 0, "a", 1)
	cancel()
	// The change queued before the cancel may be dropped; after it, Next reports the cancel.
	for {
		c, err := s.Next(context.Background())
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("after cancel: %v, want context.Canceled", err)
			}
			break
		}
		c.Rec.Release()
	}
	m.mu.RLock()
	n := len(m.subs)
	m.mu.RUnlock()
	if n != 0 {
		t.Fatalf("%d subscribers registered after cancel, want 0", n)
	}
	write(t, m, mem, 1, "b", 2)

	s2, err := m.Subscribe(context.Background(), SubscribeLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := changeRows(t, next(t, s2)); got != "+a=1 +b=2" {
		t.Fatalf("snapshot %q", got)
	}
	m.Close()
	if _, err := s2.Next(context.Background()); !errors.Is(err, ErrTableClosed) {
		t.Fatalf("after table Close: %v, want ErrTableClosed", err)
	}
	if _, err := m.Subscribe(context.Background(), SubscribeLimits{}); !errors.Is(err, ErrTableClosed) {
		t.Fatalf("subscribe to a closed table: %v", err)
	}
	s2.Close()
	if _, err := s2.Next(context.Background()); !errors.Is(err, ErrTableClosed) {
		t.Fatalf("first cause must win: %v", err)
	}
}

func TestMemoryTableSlowSubscriberDropped(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	m := NewMemoryTable(mem)
	if err := m.Open(kvSchema, Append, nil); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	slow, err := m.Subscribe(context.Background(), SubscribeLimits{MaxEpochs: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	byRows, err := m.Subscribe(context.Background(), SubscribeLimits{MaxRows: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer byRows.Close()
	fast, err := m.Subscribe(context.Background(), SubscribeLimits{MaxEpochs: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	for e := int64(0); e < 5; e++ {
		write(t, m, mem, e, fmt.Sprint("k", e), int(e), "x", 0) // never blocks on the slow ones
		if got := changeRows(t, next(t, fast)); got != fmt.Sprintf("+k%d=%d +x=0", e, e) {
			t.Fatalf("fast subscriber at %d: %q", e, got)
		}
	}
	for name, s := range map[string]*Subscription{"epochs": slow, "rows": byRows} {
		_, err := s.Next(context.Background())
		if !errors.Is(err, ErrFellBehind) || !strings.Contains(err.Error(), "subscriber fell behind") {
			t.Fatalf("%s-bounded subscriber: %v, want ErrFellBehind", name, err)
		}
	}
	m.mu.RLock()
	n := len(m.subs)
	m.mu.RUnlock()
	if n != 1 {
		t.Fatalf("%d subscribers left, want only the fast one", n)
	}
}

// TestMemoryTableChangesReconstruct checks the feed against a naive oracle: random writes in
// every mode while subscribers join at random points; each subscriber's running sum of ±rows
// must equal the table's snapshot after every epoch it saw, and its epochs must increase.
func TestMemoryTableChangesReconstruct(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for _, mode := range []OutputMode{Append, Update, Complete} {
		t.Run(mode.String(), func(t *testing.T) {
			rng := rand.New(rand.NewSource(int64(mode) + 7))
			m := NewMemoryTable(mem)
			var keys []int
			if mode == Update {
				keys = []int{0}
			}
			if err := m.Open(kvSchema, mode, keys); err != nil {
				t.Fatal(err)
			}
			const epochs = 60
			snapshots := make([]string, epochs+1) // the table after each epoch
			var wg sync.WaitGroup
			var mu sync.Mutex
			var seen [][]observed
			subscribe := func() {
				s, err := m.Subscribe(context.Background(), SubscribeLimits{MaxEpochs: epochs + 2})
				if err != nil {
					t.Fatal(err)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer s.Close()
					obs, err := reconstruct(s, epochs)
					if err != nil {
						t.Error(err)
					}
					mu.Lock()
					seen = append(seen, obs)
					mu.Unlock()
				}()
			}
			subscribe()
			for e := int64(0); e <= epochs; e++ {
				var rows []any
				for range rng.Intn(5) {
					var k any = fmt.Sprint("k", rng.Intn(6))
					if rng.Intn(8) == 0 {
						k = nil
					}
					rows = append(rows, k, rng.Intn(3))
				}
				if mode == Update {
					rows = dedupKeys(rows)
				}
				if e == epochs {
					rows = []any{"final", 1} // a change every subscriber waits for
				}
				write(t, m, mem, e, rows...)
				snapshots[e] = fmt.Sprint(multiset(m))
				if rng.Intn(10) == 0 {
					subscribe()
				}
			}
			wg.Wait()
			if len(seen) < 2 {
				t.Fatalf("%d subscribers, want several", len(seen))
			}
			for _, obs := range seen {
				for _, o := range obs {
					if o.state != snapshots[o.epoch] {
						t.Fatalf("after epoch %d: reconstructed %s, table %s", o.epoch, o.state, snapshots[o.epoch])
					}
				}
			}
			m.Close()
		})
	}
}

type observed struct {
	epoch int64
	state string
}

// reconstruct sums a subscription's changes up to epoch last and records the sum after each
// epoch received; epochs must increase.
func reconstruct(s *Subscription, last int64) ([]observed, error) {
	state := map[string]int{}
	prev := int64(-1)
	var out []observed
	for prev < last {
		c, err := s.Next(context.Background())
		if err != nil {
			return out, err
		}
		if c.Epoch <= prev {
			c.Rec.Release()
			return out, fmt.Errorf("epoch %d after %d", c.Epoch, prev)
		}
		prev = c.Epoch
		w := c.Rec.Column(2).(*array.Int64)
		for i := 0; i < int(c.Rec.NumRows()); i++ {
			k := exec.FormatValue(c.Rec.Column(0), i) + "=" + exec.FormatValue(c.Rec.Column(1), i)
			state[k] += int(w.Value(i))
			if state[k] == 0 {
				delete(state, k)
			}
		}
		c.Rec.Release()
		out = append(out, observed{c.Epoch, fmt.Sprint(state)})
	}
	return out, nil
}

func multiset(m *MemoryTable) map[string]int {
	recs, _ := m.Snapshot()
	out := map[string]int{}
	for _, r := range recs {
		for i := 0; i < int(r.NumRows()); i++ {
			out[exec.FormatValue(r.Column(0), i)+"="+exec.FormatValue(r.Column(1), i)]++
		}
		r.Release()
	}
	return out
}

// dedupKeys keeps the last row of each key, as an update-mode query emits one row per key.
func dedupKeys(rows []any) []any {
	last := map[any]int{}
	for i := 0; i < len(rows); i += 2 {
		last[rows[i]] = i
	}
	var out []any
	for i := 0; i < len(rows); i += 2 {
		if last[rows[i]] == i {
			out = append(out, rows[i], rows[i+1])
		}
	}
	return out
}

// BenchmarkMemoryTableWrite measures a complete-mode Write of a 10,000-row table in which 1% of
// the rows change per epoch, with and without a subscriber (whose changes are read and released).
func BenchmarkMemoryTableWrite(b *testing.B) {
	for _, subscribed := range []bool{false, true} {
		b.Run(fmt.Sprintf("subscribed=%v", subscribed), func(b *testing.B) {
			m := NewMemoryTable(nil)
			if err := m.Open(kvSchema, Complete, nil); err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			var s *Subscription
			if subscribed {
				var err error
				if s, err = m.Subscribe(context.Background(), SubscribeLimits{}); err != nil {
					b.Fatal(err)
				}
				defer s.Close()
			}
			recs := make([]arrow.RecordBatch, 2)
			for v := range recs {
				var rows []any
				for i := range 10000 {
					n := 0
					if i%100 == 0 {
						n = v
					}
					rows = append(rows, fmt.Sprint("k", i), n)
				}
				recs[v] = kvRecord(memory.DefaultAllocator, rows...)
				defer recs[v].Release()
			}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if err := m.Write(context.Background(), int64(i), inserts(recs[i%2])); err != nil {
					b.Fatal(err)
				}
				if s != nil {
					c, err := s.Next(context.Background())
					if err != nil {
						b.Fatal(err)
					}
					if i > 0 && c.Rec.NumRows() != 200 {
						b.Fatalf("%d changed rows, want 200", c.Rec.NumRows())
					}
					c.Rec.Release()
				}
			}
		})
	}
}
