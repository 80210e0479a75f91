package sinks

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/exec"
)

var rejectSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: exec.Int64, Nullable: true},
	{Name: "s", Type: exec.String, Nullable: true},
	{Name: "n", Type: exec.Int64, Nullable: true},
}, nil)

// rejectSink opens a sink on a table created by the test (s VARCHAR(5), n CHECK >= 0) whose
// refused rows are collected.
func rejectSink(t *testing.T, tg *sqlTarget, mode OutputMode, keys []int, extra ...string) (Sink, string, func() []RejectedRow) {
	t.Helper()
	table := tg.newTable(t)
	t.Cleanup(func() { tg.exec(t, "DELETE FROM "+RejectsTable+" WHERE query_id = "+tg.ph(1), table) })
	pk := ""
	if len(keys) > 0 {
		pk = ", PRIMARY KEY (id)"
	}
	tg.exec(t, "CREATE TABLE "+tg.quote(table)+" (id BIGINT NOT NULL, s VARCHAR(5), n BIGINT CHECK (n >= 0)"+pk+")")
	var mu sync.Mutex
	var got []RejectedRow
	opts := map[string]string{"connector": tg.connector, "url": tg.url, "table": table}
	for i := 0; i+1 < len(extra); i += 2 {
		opts[extra[i]] = extra[i+1]
	}
	s, err := tg.newSink(Config{Query: table, Options: opts, Reject: func(rows []RejectedRow) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, rows...)
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Open(rejectSchema, mode, keys); err != nil {
		t.Fatal(err)
	}
	return s, table, func() []RejectedRow {
		mu.Lock()
		defer mu.Unlock()
		out := got
		got = nil
		return out
	}
}

// rejectInput is 40 rows, ids 0..39, of which these are refused by every database: id 7 (s too
// long for VARCHAR(5)), id 23 (n violates the CHECK); PostgreSQL also refuses id 31 (a NUL in s),
// which MySQL/MariaDB store.
func rejectInput(t *testing.T, mem memory.Allocator, epochShift int) arrow.RecordBatch {
	var rows [][]any
	for i := 0; i < 40; i++ {
		s, n := "ok", int64(i+epochShift)
		switch i {
		case 7:
			s = "toolong"
		case 23:
			n = -1
		case 31:
			s = "a\x00b"
		}
		rows = append(rows, []any{i, s, n})
	}
	return makeRecord(t, mem, rejectSchema, rows...)
}

func runRejectSuite(t *testing.T, tg *sqlTarget) {
	pg := tg.connector == "postgres"
	wantRejected := []string{"7", "23"}
	if pg {
		wantRejected = append(wantRejected, "31")
	}
	rejectedIDs := func(rows []RejectedRow) []string {
		var ids []string
		for _, r := range rows {
			// Row is "id=N, s=..., n=..."
			ids = append(ids, strings.TrimPrefix(strings.SplitN(r.Row, ",", 2)[0], "id="))
		}
		return ids
	}
	for _, mode := range []OutputMode{Append, Update} {
		t.Run(mode.String(), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			var keys []int
			if mode == Update {
				keys = []int{0}
			}
			s, table, rejected := rejectSink(t, tg, mode, keys, "batch_size", "7")
			rec := rejectInput(t, mem, 0)
			if err := s.Write(context.Background(), 0, inserts(rec)); err != nil {
				t.Fatalf("epoch 0: %v", err)
			}
			rec.Release()
			got := rejected()
			if strings.Join(rejectedIDs(got), ",") != strings.Join(wantRejected, ",") {
				t.Fatalf("rejected ids %v, want %v (%+v)", rejectedIDs(got), wantRejected, got)
			}
			for _, r := range got {
				if r.SQLState == "" || r.Message == "" || r.Epoch != 0 {
					t.Fatalf("rejected row without its error: %+v", r)
				}
				if strings.Contains(r.Row+r.Message+r.Key, "\x00") {
					t.Fatalf("rejected row text holds a NUL byte: %q", r.Row)
				}
				if mode == Update && r.Key == "" {
					t.Fatalf("update mode: rejected row without its key: %+v", r)
				}
			}
			if pg {
				if st := got[2].SQLState; st != "22021" {
					t.Fatalf("NUL row: SQLSTATE %s, want 22021 (%+v)", st, got[2])
				}
				if st := got[0].SQLState; st != "22001" {
					t.Fatalf("long value: SQLSTATE %s, want 22001", st)
				}
				if st := got[1].SQLState; st != "23514" {
					t.Fatalf("check violation: SQLSTATE %s, want 23514", st)
				}
			}
			wantCount := 40 - len(wantRejected)
			count := tg.rows(t, "SELECT "+tg.text("COUNT(*)")+", "+tg.text("COUNT(DISTINCT id)")+" FROM "+tg.quote(table))
			if count[0][0] != itoa(wantCount) || count[0][1] != itoa(wantCount) {
				t.Fatalf("rows stored (count, distinct ids) = %v, want %d each", count[0], wantCount)
			}
			if got := tg.markerEpoch(t, table); got != "0" {
				t.Fatalf("marker epoch = %s, want 0", got)
			}
			// A replay of the epoch (a restart after the sink's commit) writes nothing and hands
			// the same refused rows over again, read back from the rejects table (the engine
			// dropped the uncommitted epoch's dead letters).
			rec = rejectInput(t, mem, 0)
			if err := s.Write(context.Background(), 0, inserts(rec)); err != nil {
				t.Fatalf("replay of epoch 0: %v", err)
			}
			rec.Release()
			if again := rejected(); fmt.Sprint(again) != fmt.Sprint(got) {
				t.Fatalf("replay delivered\n%+v\nwant the epoch's refused rows\n%+v", again, got)
			}
			count = tg.rows(t, "SELECT "+tg.text("COUNT(*)")+" FROM "+tg.quote(table))
			if count[0][0] != itoa(wantCount) {
				t.Fatalf("after the replay %s rows, want %d", count[0][0], wantCount)
			}
			// The next epoch goes through the same isolation and commits.
			rec = rejectInput(t, mem, 100)
			if err := s.Write(context.Background(), 1, inserts(rec)); err != nil {
				t.Fatalf("epoch 1: %v", err)
			}
			rec.Release()
			if got := rejected(); len(got) != len(wantRejected) {
				t.Fatalf("epoch 1 refused %d rows, want %d", len(got), len(wantRejected))
			}
			if mode == Update {
				// Upserts replaced the good keys' values (n = id + 100).
				bad := tg.rows(t, "SELECT "+tg.text("COUNT(*)")+" FROM "+tg.quote(table)+" WHERE n <> id + 100")
				if bad[0][0] != "0" {
					t.Fatalf("%s rows kept the old value after the upsert", bad[0][0])
				}
			}
		})
	}
	t.Run("NullKey", func(t *testing.T) {
		// Update mode: a NULL key cannot be stored under the primary key; its row is refused
		// (23502) without a round trip, the others are upserted.
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		s, table, rejected := rejectSink(t, tg, Update, []int{0})
		rec := makeRecord(t, mem, rejectSchema, []any{1, "a", 1}, []any{nil, "b", 2}, []any{3, "c", 3})
		err := s.Write(context.Background(), 0, inserts(rec))
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
		got := rejected()
		if len(got) != 1 || got[0].SQLState != "23502" || !strings.Contains(got[0].Row, "s=b") {
			t.Fatalf("rejected %+v, want the NULL-key row with 23502", got)
		}
		if n := tg.rows(t, "SELECT "+tg.text("COUNT(*)")+" FROM "+tg.quote(table)); n[0][0] != "2" {
			t.Fatalf("%s rows stored, want 2", n[0][0])
		}
		// A replay hands the refused row over again.
		rec = makeRecord(t, mem, rejectSchema, []any{1, "a", 1}, []any{nil, "b", 2}, []any{3, "c", 3})
		err = s.Write(context.Background(), 0, inserts(rec))
		rec.Release()
		if again := rejected(); err != nil || len(again) != 1 || again[0].Row != got[0].Row {
			t.Fatalf("replay: err %v, rejected %+v", err, again)
		}
	})
	t.Run("OnErrorFail", func(t *testing.T) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		s, table, rejected := rejectSink(t, tg, Update, []int{0}, "on_error", "fail")
		rec := rejectInput(t, mem, 0)
		err := s.Write(context.Background(), 0, inserts(rec))
		rec.Release()
		if err == nil || !strings.Contains(err.Error(), "key id=7") || !strings.Contains(err.Error(), "on_error = 'fail'") {
			t.Fatalf("err = %v, want the refused row's key id=7", err)
		}
		if got := rejected(); len(got) != 0 {
			t.Fatalf("on_error = 'fail' delivered rejected rows: %+v", got)
		}
		if got := tg.markerEpoch(t, table); got != "none" && got != "-1" {
			t.Fatalf("marker epoch = %s after a failed epoch, want none committed", got)
		}
		count := tg.rows(t, "SELECT "+tg.text("COUNT(*)")+" FROM "+tg.quote(table))
		if count[0][0] != "0" {
			t.Fatalf("a failed epoch left %s rows", count[0][0])
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestPostgresRejectedRows(t *testing.T) { runRejectSuite(t, pgTarget(t)) }

func TestMySQLRejectedRows(t *testing.T) { runRejectSuite(t, myTarget(t)) }
