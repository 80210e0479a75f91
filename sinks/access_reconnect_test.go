package sinks

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// runAccessOnReconnect: Config.CheckAddr is asked at every new connection, not only the first: a
// sink whose address becomes disallowed fails its next write after a reconnect at once, naming
// the refusal, without retrying.
func runAccessOnReconnect(t *testing.T, tg *sqlTarget) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	table := tg.newTable(t)
	var deny atomic.Bool
	var asked atomic.Int64
	s, err := tg.newSink(Config{Query: table, Options: map[string]string{"url": tg.url, "table": table, "create_table": "true"},
		CheckAddr: func(hostport string) error {
			asked.Add(1)
			if deny.Load() {
				return errors.New(hostport + ": not allowed by --allow-connect (10.0.0.0/8:*)")
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Open(rejectSchema, Append, nil); err != nil {
		t.Fatal(err)
	}
	writeRows(t, s, mem, rejectSchema, 0, []any{1, "a", 1})
	if asked.Load() == 0 {
		t.Fatal("CheckAddr was never asked")
	}
	deny.Store(true)
	s.(*sqlSink).b.reset() // an outage: the pool's connections are gone
	rec := makeRecord(t, mem, rejectSchema, []any{2, "b", 2})
	defer rec.Release()
	start := time.Now()
	err = s.Write(context.Background(), 1, inserts(rec))
	if err == nil || !strings.Contains(err.Error(), "not allowed by --allow-connect") || !strings.Contains(err.Error(), "access policy") {
		t.Fatalf("write after the address became disallowed: err = %v", err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("the refusal was retried for %v", el)
	}
	if got := tg.markerEpoch(t, table); got != "0" {
		t.Fatalf("marker %s, want 0", got)
	}
}

func TestPostgresAccessOnReconnect(t *testing.T) { runAccessOnReconnect(t, pgTarget(t)) }

func TestMySQLAccessOnReconnect(t *testing.T) { runAccessOnReconnect(t, myTarget(t)) }
