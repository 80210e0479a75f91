package sinks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/sources"
)

// updateHarness drives one sink in update mode with random consistent epochs of weighted deltas
// (inserts, updates, deletes, churn, transient rows; shuffled and split across deltas) and
// compares what the sink holds with a map oracle after every epoch. Every few epochs it simulates
// a crash after the sink committed: restart reopens the sink and the epoch is written again,
// which must change nothing.
type updateHarness struct {
	keyed   bool // keys [0] (k) or none (a multiset)
	epochs  int
	write   func(t *testing.T, epoch int64, ds []exec.Delta)
	state   func(t *testing.T) []string // the sink's table as sorted "k|n" rows, NULL as NULL
	restart func(t *testing.T)          // nil: replay on the same instance
}

func (h updateHarness) keys() []int {
	if h.keyed {
		return []int{0}
	}
	return nil
}

// run drives the sink; the deltas come from mem, which the caller checks once the sink is
// closed (a memory table keeps the deltas' buffers).
func (h updateHarness) run(t *testing.T, mem memory.Allocator, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 11))
	keyed, multi := keyedOracle{}, multisetOracle{}
	deletes, replays := 0, 0
	for e := range int64(h.epochs) {
		var rows []wrow
		var want []string
		if h.keyed {
			rows = nextKeyedEpoch(rng, keyed, 6)
			want = keyed.rows()
		} else {
			rows = nextMultisetEpoch(rng, multi)
			want = multi.rows()
		}
		for _, r := range rows {
			if r.w < 0 {
				deletes++
			}
		}
		ds := epochDeltas(rng, mem, rows)
		h.write(t, e, ds)
		if rng.IntN(4) == 0 {
			if h.restart != nil {
				h.restart(t)
			}
			h.write(t, e, ds) // the replay of a committed epoch
			replays++
		}
		releaseDeltas(ds)
		got := h.state(t)
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("after epoch %d (rows %v):\n got %v\nwant %v", e, rows, got, want)
		}
	}
	if deletes == 0 || replays == 0 {
		t.Fatalf("the run had %d retractions and %d replays; want both", deletes, replays)
	}
}

func kvState(m *MemoryTable) []string {
	var out []string
	for k, n := range multiset(m) {
		for range n {
			out = append(out, strings.Replace(k, "=", "|", 1))
		}
	}
	sort.Strings(out)
	return out
}

func TestMemoryTableUpdateDeletes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for _, keyed := range []bool{true, false} {
		t.Run(fmt.Sprintf("keyed=%v", keyed), func(t *testing.T) {
			m := NewMemoryTable(mem)
			defer m.Close()
			h := updateHarness{keyed: keyed, epochs: 80}
			if err := m.Open(kvSchema, Update, h.keys()); err != nil {
				t.Fatal(err)
			}
			h.write = func(t *testing.T, e int64, ds []exec.Delta) {
				if err := m.Write(context.Background(), e, ds); err != nil {
					t.Fatalf("epoch %d: %v", e, err)
				}
			}
			h.state = func(*testing.T) []string { return kvState(m) }
			h.run(t, mem, 1)
		})
	}
}

// TestMemoryTableRetractionOfMissingRow: a keyless delete of a row the table does not hold is an
// error naming the row, and leaves the table as it was.
func TestMemoryTableRetractionOfMissingRow(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	m := NewMemoryTable(mem)
	defer m.Close()
	if err := m.Open(kvSchema, Update, nil); err != nil {
		t.Fatal(err)
	}
	write(t, m, mem, 0, "a", 1)
	d := weightedDelta(mem, []wrow{{"a", 1, -1}, {"b", 2, -1}}, false)
	defer releaseDeltas([]exec.Delta{d})
	err := m.Write(context.Background(), 1, []exec.Delta{d})
	if err == nil || !strings.Contains(err.Error(), "k=b, n=2") {
		t.Fatalf("err = %v", err)
	}
	if got, epoch := tableRows(t, m); got != "a=1" || epoch != 0 {
		t.Fatalf("table %q at epoch %d after the failed write", got, epoch)
	}
}

// TestSubscribeRebuildsViewWithDeletes rebuilds an update-mode table from its change feed: a
// subscriber that joins at the start and others that join later sum the weights of every change
// (deletes arrive as -1) and must hold exactly the table after every epoch they see, which is
// also the oracle's.
func TestSubscribeRebuildsViewWithDeletes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for _, keyed := range []bool{true, false} {
		t.Run(fmt.Sprintf("keyed=%v", keyed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, 5))
			m := NewMemoryTable(mem)
			defer m.Close()
			h := updateHarness{keyed: keyed}
			if err := m.Open(kvSchema, Update, h.keys()); err != nil {
				t.Fatal(err)
			}
			const epochs = 60
			ctx := context.Background()
			type sub struct {
				s     *Subscription
				state map[string]int
				from  int64
			}
			var subs []*sub
			join := func(from int64) {
				s, err := m.Subscribe(ctx, SubscribeLimits{MaxEpochs: epochs + 2})
				if err != nil {
					t.Fatal(err)
				}
				subs = append(subs, &sub{s: s, state: map[string]int{}, from: from})
			}
			join(0)
			keyedO, multi := keyedOracle{}, multisetOracle{}
			sawDelete := false
			for e := range int64(epochs) {
				var rows []wrow
				var want []string
				if keyed {
					rows = nextKeyedEpoch(rng, keyedO, 6)
					want = keyedO.rows()
				} else {
					rows = nextMultisetEpoch(rng, multi)
					want = multi.rows()
				}
				ds := epochDeltas(rng, mem, rows)
				before := kvState(m)
				if err := m.Write(ctx, e, ds); err != nil {
					t.Fatal(err)
				}
				releaseDeltas(ds)
				table := kvState(m)
				if strings.Join(table, " ") != strings.Join(want, " ") {
					t.Fatalf("epoch %d: table %v, oracle %v", e, table, want)
				}
				changed := strings.Join(before, " ") != strings.Join(table, " ")
				for _, sb := range subs {
					// What this subscriber gets for the epoch: its snapshot when it joined just
					// before it (none of an empty table), then the epoch's change if any.
					expect := 0
					if sb.from == e && len(before) > 0 {
						expect++
					}
					if changed {
						expect++
					}
					if expect == 0 {
						noChange(t, sb.s)
						continue
					}
					for range expect {
						cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
						c, err := sb.s.Next(cctx)
						cancel()
						if err != nil {
							t.Fatalf("epoch %d: waiting for a change: %v", e, err)
						}
						w := c.Rec.Column(2).(*array.Int64)
						for i := 0; i < int(c.Rec.NumRows()); i++ {
							k := exec.FormatValue(c.Rec.Column(0), i) + "|" + exec.FormatValue(c.Rec.Column(1), i)
							sb.state[k] += int(w.Value(i))
							sawDelete = sawDelete || w.Value(i) < 0
						}
						got := c.Epoch
						c.Rec.Release()
						if got > e || (got < e && !(sb.from == e && got == e-1)) {
							t.Fatalf("epoch %d: change of epoch %d", e, got)
						}
					}
					var rebuilt []string
					for k, n := range sb.state {
						if n < 0 {
							t.Fatalf("epoch %d: %s has weight %d in the rebuilt view", e, k, n)
						}
						for range n {
							rebuilt = append(rebuilt, k)
						}
					}
					sort.Strings(rebuilt)
					if strings.Join(rebuilt, " ") != strings.Join(table, " ") {
						t.Fatalf("epoch %d: rebuilt from the feed %v, view %v", e, rebuilt, table)
					}
				}
				if rng.IntN(8) == 0 {
					join(e + 1)
				}
			}
			if !sawDelete || len(subs) < 2 {
				t.Fatalf("saw a -1: %v, %d subscribers; want both", sawDelete, len(subs))
			}
			for _, sb := range subs {
				sb.s.Close()
			}
		})
	}
}

// runSQLUpdateOracle is the SQL sinks' part of the oracle test (runSQLSinkSuite).
func runSQLUpdateOracle(t *testing.T, tg *sqlTarget) {
	for _, keyed := range []bool{true, false} {
		t.Run(fmt.Sprintf("keyed=%v", keyed), func(t *testing.T) {
			table := tg.newTable(t)
			h := updateHarness{keyed: keyed, epochs: 40}
			s := tg.open(t, table, kvSchema, Update, h.keys(), nil, "create_table", "true")
			h.write = func(t *testing.T, e int64, ds []exec.Delta) {
				if err := s.Write(context.Background(), e, ds); err != nil {
					t.Fatalf("epoch %d: %v", e, err)
				}
			}
			h.state = func(t *testing.T) []string { return tg.dump(t, table, "k", "n") }
			h.restart = func(t *testing.T) {
				s.Close()
				s = tg.open(t, table, kvSchema, Update, h.keys(), nil, "create_table", "true")
			}
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			h.run(t, mem, 3)
			s.Close()
			mem.AssertSize(t, 0)
			if got := tg.markerEpoch(t, table); got != "39" {
				t.Fatalf("marker epoch %s, want 39", got)
			}
		})
	}
}

// kafkaUpdateSink opens a kafka sink on kvSchema in update mode.
func kafkaUpdateSink(t *testing.T, mc *kafka.MockCluster, keys []int, opts ...string) Sink {
	t.Helper()
	o := map[string]string{"connector": "kafka", "brokers": mc.BootstrapServers(), "topic": "out", "timeout": "10 seconds"}
	for i := 0; i+1 < len(opts); i += 2 {
		o[opts[i]] = opts[i+1]
	}
	s, err := NewKafka(Config{Query: "q1", Options: o})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(kvSchema, Update, keys); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// kafkaTable replays the topic: keyed, as a compacted topic is read (the last message of a key
// wins, a tombstone deletes it; the key must be the row's k); keyless, by summing the weight
// field of the change records.
func kafkaTable(t *testing.T, mc *kafka.MockCluster, keyed bool) []string {
	rows := map[string]string{}
	copies := map[string]int64{}
	for _, line := range readTopic(t, mc, "out") {
		key, value, _ := strings.Cut(line, " => ")
		if keyed && value == "" {
			if _, ok := rows[key]; !ok {
				t.Fatalf("tombstone for key %q, which has no row", key)
			}
			delete(rows, key)
			continue
		}
		var v struct {
			K      *string `json:"k"`
			N      int64   `json:"n"`
			Weight *int64  `json:"weight"`
		}
		dec := json.NewDecoder(strings.NewReader(value))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("message %q: %v", line, err)
		}
		k := "NULL"
		if v.K != nil {
			k = *v.K
		}
		r := fmt.Sprintf("%s|%d", k, v.N)
		if keyed {
			if v.Weight != nil || key != k {
				t.Fatalf("keyed message %q: want key = k and no weight", line)
			}
			rows[key] = r
			continue
		}
		if v.Weight == nil || (*v.Weight != 1 && *v.Weight != -1) || key != "" {
			t.Fatalf("keyless change record %q: want weight 1 or -1 and no key", line)
		}
		copies[r] += *v.Weight
	}
	var out []string
	for _, r := range rows {
		out = append(out, r)
	}
	for r, n := range copies {
		if n < 0 {
			t.Fatalf("%s has %d copies", r, n)
		}
		for range n {
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return out
}

func TestKafkaSinkUpdateDeletes(t *testing.T) {
	for _, keyed := range []bool{true, false} {
		t.Run(fmt.Sprintf("keyed=%v", keyed), func(t *testing.T) {
			mc := newMockCluster(t, "out", "out__streamsql_commits")
			h := updateHarness{keyed: keyed, epochs: 25}
			s := kafkaUpdateSink(t, mc, h.keys())
			h.write = func(t *testing.T, e int64, ds []exec.Delta) {
				if err := s.Write(context.Background(), e, ds); err != nil {
					t.Fatalf("epoch %d: %v", e, err)
				}
			}
			h.state = func(t *testing.T) []string { return kafkaTable(t, mc, keyed) }
			h.restart = func(t *testing.T) {
				s.Close()
				s = kafkaUpdateSink(t, mc, h.keys())
			}
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			h.run(t, mem, 4)
			s.Close()
			mem.AssertSize(t, 0)
		})
	}
}

func TestKafkaSinkUpdateKeyColumns(t *testing.T) {
	mc := newMockCluster(t, "out", "out__streamsql_commits")
	s, err := NewKafka(Config{Query: "q1", Options: map[string]string{"brokers": mc.BootstrapServers(), "topic": "out", "key_columns": "n"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Open(kvSchema, Update, []int{0}); err == nil || !strings.Contains(err.Error(), "key_columns must name exactly those columns") || !strings.Contains(err.Error(), "query's key (k)") {
		t.Fatalf("err = %v", err)
	}
	// Naming the key itself is fine (in any case).
	s2 := kafkaUpdateSink(t, mc, []int{0}, "key_columns", "K")
	d := weightedDelta(memory.DefaultAllocator, []wrow{{"a", 1, 1}}, true)
	defer releaseDeltas([]exec.Delta{d})
	if err := s2.Write(context.Background(), 0, []exec.Delta{d}); err != nil {
		t.Fatal(err)
	}
	if got := readTopic(t, mc, "out"); strings.Join(got, ";") != `a => {"k":"a","n":1}` {
		t.Fatalf("topic %q", got)
	}
	// A NULL key has no message key: its delete cannot be a tombstone and fails the epoch.
	del := weightedDelta(memory.DefaultAllocator, []wrow{{nil, 1, -1}}, false)
	defer releaseDeltas([]exec.Delta{del})
	if err := s2.Write(context.Background(), 1, []exec.Delta{del}); err == nil || !strings.Contains(err.Error(), `key column "k" is NULL`) {
		t.Fatalf("NULL key delete: %v", err)
	}
}

// filesTable applies the files sink's change records in manifest order.
func filesTable(t *testing.T, dir, format string, keyed bool) []string {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	d, err := sources.OpenFiles(dir, format, ChangeSchema(kvSchema), sources.DecodeOptions{Header: format == "csv", Mem: mem})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	rows := map[string]string{}
	copies := map[string]int{}
	for {
		rec, err := d.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		w := rec.Column(2).(*array.Int64)
		for i := 0; i < int(rec.NumRows()); i++ {
			k := exec.FormatValue(rec.Column(0), i)
			r := k + "|" + exec.FormatValue(rec.Column(1), i)
			switch {
			case keyed && w.Value(i) == -1:
				delete(rows, k)
			case keyed && w.Value(i) == 1:
				rows[k] = r
			case !keyed && (w.Value(i) == 1 || w.Value(i) == -1):
				copies[r] += int(w.Value(i))
			default:
				t.Fatalf("weight %d", w.Value(i))
			}
		}
		rec.Release()
	}
	var out []string
	for _, r := range rows {
		out = append(out, r)
	}
	for r, n := range copies {
		for range n {
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return out
}

func TestFilesSinkUpdateChangeRecords(t *testing.T) {
	for _, tc := range []struct {
		keyed  bool
		format string
	}{{true, "json"}, {false, "json"}, {true, "csv"}, {false, "csv"}} {
		keyed, format := tc.keyed, tc.format
		t.Run(fmt.Sprintf("keyed=%v/%s", keyed, format), func(t *testing.T) {
			dir := t.TempDir()
			h := updateHarness{keyed: keyed, epochs: 40}
			open := func() Sink {
				s, err := NewFiles(Config{Query: "q1", Options: map[string]string{"path": dir, "format": format}})
				if err != nil {
					t.Fatal(err)
				}
				if err := s.Open(kvSchema, Update, h.keys()); err != nil {
					t.Fatal(err)
				}
				return s
			}
			s := open()
			h.write = func(t *testing.T, e int64, ds []exec.Delta) {
				if err := s.Write(context.Background(), e, ds); err != nil {
					t.Fatalf("epoch %d: %v", e, err)
				}
			}
			h.state = func(t *testing.T) []string { return filesTable(t, dir, format, keyed) }
			h.restart = func(*testing.T) {
				s.Close()
				s = open()
			}
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			h.run(t, mem, 6)
			s.Close()
			mem.AssertSize(t, 0)
		})
	}
}

func TestConsoleUpdateShowsDeletes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	d := weightedDelta(mem, []wrow{{"a", 1, -1}, {"a", 2, 1}, {"b", 5, -1}, {nil, 3, 1}}, false)
	defer releaseDeltas([]exec.Delta{d})
	for format, want := range map[string]string{
		"json": `{"batch_id": 4, "op": "-", "row": {"k": "b", "n": 5}}` + "\n" +
			`{"batch_id": 4, "row": {"k": "a", "n": 2}}` + "\n" +
			`{"batch_id": 4, "row": {"k": null, "n": 3}}` + "\n",
		"table": "-------------------------------------------\nBatch: 4\n-------------------------------------------\n" +
			" op |  k   | n\n----+------+---\n -  | b    | 5\n +  | a    | 2\n +  | NULL | 3\n(3 rows)\n\n",
	} {
		var buf bytes.Buffer
		c, err := NewConsole(&buf, format)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Open(kvSchema, Update, []int{0}); err != nil {
			t.Fatal(err)
		}
		if err := c.Write(context.Background(), 4, []exec.Delta{d}); err != nil {
			t.Fatal(err)
		}
		if buf.String() != want {
			t.Errorf("%s:\n%s\nwant:\n%s", format, buf.String(), want)
		}
	}
	// Without deletes the output is Spark's: no op column.
	up := weightedDelta(mem, []wrow{{"a", 1, -1}, {"a", 2, 1}}, false)
	defer releaseDeltas([]exec.Delta{up})
	var buf bytes.Buffer
	c, _ := NewConsole(&buf, "table")
	if err := c.Open(kvSchema, Update, []int{0}); err != nil {
		t.Fatal(err)
	}
	if err := c.Write(context.Background(), 5, []exec.Delta{up}); err != nil {
		t.Fatal(err)
	}
	if want := "-------------------------------------------\nBatch: 5\n-------------------------------------------\n k | n\n---+---\n a | 2\n(1 row)\n\n"; buf.String() != want {
		t.Errorf("table without deletes:\n%s\nwant:\n%s", buf.String(), want)
	}
	// Append mode refuses a retraction instead of printing it as a row.
	c, _ = NewConsole(io.Discard, "json")
	if err := c.Open(kvSchema, Append, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Write(context.Background(), 0, []exec.Delta{d}); !errors.Is(err, ErrRetractionOutsideUpdate) {
		t.Fatalf("append mode with a retraction: %v", err)
	}
}

// runSQLFailedEpochRollsBack: an epoch whose upsert the server rejects after its deletes ran (as a
// crash in the middle of the transaction would) leaves the table and the marker as they were; the
// epoch written again applies once, and its replay by a restarted sink changes nothing. The sink
// runs with on_error = 'fail' (by default the refused row would be dead-lettered, reject_test.go).
func runSQLFailedEpochRollsBack(t *testing.T, tg *sqlTarget) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	table := tg.newTable(t)
	s := tg.open(t, table, kvSchema, Update, []int{0}, nil, "create_table", "true", "on_error", "fail")
	ctx := context.Background()
	write := func(s Sink, e int64, rows ...wrow) error {
		d := weightedDelta(mem, rows, false)
		defer releaseDeltas([]exec.Delta{d})
		return s.Write(ctx, e, []exec.Delta{d})
	}
	if err := write(s, 0, wrow{"a", 1, 1}, wrow{"b", 2, 1}); err != nil {
		t.Fatal(err)
	}
	bad := "bad\x00" // PostgreSQL text cannot hold NUL
	if tg.connector == "mysql" {
		bad = strings.Repeat("x", 300) // longer than the VARCHAR(255) key
	}
	if err := write(s, 1, wrow{"a", 1, -1}, wrow{bad, 3, 1}); err == nil {
		t.Fatal("the bad row was accepted")
	}
	equalRows(t, "after the failed epoch", tg.dump(t, table, "k", "n"), "a|1", "b|2")
	if got := tg.markerEpoch(t, table); got != "0" {
		t.Fatalf("marker %s after the failed epoch, want 0", got)
	}
	if err := write(s, 1, wrow{"a", 1, -1}, wrow{"c", 3, 1}, wrow{"b", 2, -1}, wrow{"b", 4, 1}); err != nil {
		t.Fatal(err)
	}
	equalRows(t, "after epoch 1", tg.dump(t, table, "k", "n"), "b|4", "c|3")
	s.Close()
	s2 := tg.open(t, table, kvSchema, Update, []int{0}, nil, "create_table", "true")
	if err := write(s2, 1, wrow{"a", 1, -1}, wrow{"c", 3, 1}, wrow{"b", 2, -1}, wrow{"b", 4, 1}); err != nil {
		t.Fatal(err)
	}
	equalRows(t, "after the replay", tg.dump(t, table, "k", "n"), "b|4", "c|3")
}
