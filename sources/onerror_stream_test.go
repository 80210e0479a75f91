package sources

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// syncCollector is a collector safe for a stream's background use.
type syncCollector struct {
	mu   sync.Mutex
	errs []string // "path:line|column|raw|reason"
}

func (c *syncCollector) onError(re *RecordError) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errs = append(c.errs, fmt.Sprintf("%s:%d|%s|%s|%s", re.Path, re.Line, re.Column, re.Raw, re.Reason))
	return nil
}

func (c *syncCollector) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.errs
	c.errs = nil
	return out
}

// TestKafkaOnError: messages that do not decode (value, key, csv and json) go to OnError with
// Path "topic/partition" and Line the offset, and the others are read as usual; a replay reports
// them again; an error from OnError ends the Read.
func TestKafkaOnError(t *testing.T) {
	env := newKafkaEnv(t)
	env.topic("mixed", 2)
	env.produce("mixed",
		&kafkaMsg{partition: 0, value: []byte(`{"id": 1, "name": "a"}`)},
		&kafkaMsg{partition: 0, value: []byte(`{"id": "x"}`)},
		&kafkaMsg{partition: 0, key: []byte{0xff}, value: []byte(`{"id": 3}`)},
		&kafkaMsg{partition: 1, value: []byte(`{"id": 4`)},
		&kafkaMsg{partition: 1, value: []byte(`{"id": 5, "name": "e"}`)},
	)
	var c syncCollector
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	s, err := OpenStream(StreamConfig{Name: "src", Schema: schemaOf(t, "id BIGINT", "name VARCHAR", "key VARCHAR", "offset BIGINT"),
		Options: map[string]string{"connector": "kafka", "brokers": env.mc.BootstrapServers(), "topic": "mixed",
			"starting_offsets": "earliest", "batch_size": "1"},
		Mem: mem, OnError: c.onError})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		s.Close()
		if n := mem.CurrentAlloc(); n != 0 {
			t.Errorf("%d bytes still allocated after Close", n)
		}
	}()
	ks := &kafkaTestStream{Stream: s, t: t, mem: mem}
	end := ks.latest(nil)
	wantErrs := []string{
		`mixed/0:1|id|{"id": "x"}|invalid BIGINT "x"`,
		`mixed/0:2|key|{"id": 3}|message key is not valid UTF-8 "\xff"`,
		`mixed/1:0||{"id": 4|truncated JSON: ',' or '}' expected at end of line`,
	}
	for round := 0; round < 2; round++ {
		sameRows(t, "kafka rows", ks.read(nil, end), []string{"1|a|NULL|0", "5|e|NULL|1"})
		if got := c.take(); !slices.Equal(got, wantErrs) {
			t.Fatalf("round %d: reported\n%q\nwant\n%q", round, got, wantErrs)
		}
	}

	env.topic("csvbad", 1)
	env.produce("csvbad", &kafkaMsg{value: []byte("1,a")}, &kafkaMsg{value: []byte("2,\"b\"x")}, &kafkaMsg{value: []byte("3,c\n4,d")},
		&kafkaMsg{value: []byte("5,e")})
	stop := errors.New("stop here")
	calls := 0
	s2, err := openKafka(StreamConfig{Name: "src2", Schema: schemaOf(t, "id BIGINT", "name VARCHAR"), Mem: mem,
		Options: map[string]string{"brokers": env.mc.BootstrapServers(), "topic": "csvbad", "format": "csv", "starting_offsets": "earliest"},
		OnError: func(re *RecordError) error {
			calls++
			switch {
			case calls == 1 && re.Path == "csvbad/0" && re.Line == 1 && re.Raw == "2,\"b\"x":
				return nil
			case calls == 2 && re.Path == "csvbad/0" && re.Line == 2 && re.Reason == "the message holds more than one CSV record":
				return stop
			}
			return fmt.Errorf("unexpected call %d: %+v", calls, re)
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	ks2 := &kafkaTestStream{Stream: s2, t: t, mem: mem}
	if _, _, err := ks2.readErr(nil, ks2.latest(nil)); !errors.Is(err, stop) || calls != 2 {
		t.Fatalf("Read = %v after %d calls, want the policy's error at the second bad message", err, calls)
	}
}

// TestFileStreamOnError: the files connector hands bad records of every file to OnError, naming
// the file, and reads the rest.
func TestFileStreamOnError(t *testing.T) {
	dir, staging := t.TempDir(), t.TempDir()
	var c syncCollector
	s, err := OpenStream(StreamConfig{Name: "orders", Schema: schemaOf(t, "id BIGINT", "price DOUBLE"), Mem: checkedMem(t),
		Options: map[string]string{"connector": "files", "path": dir, "format": "csv", "header": "true"}, OnError: c.onError})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	moveIn(t, staging, dir, "a.csv", "id,price\n1,2.5\n2,x\n3,3.5\n")
	moveIn(t, staging, dir, "b.csv", "price,id\n4.5,4\n\"5\"5,5\n")
	end := latest(t, s, nil)
	if got := readRange(t, s, nil, end); !slices.Equal(got, []string{"1|2.5", "3|3.5", "4|4.5"}) {
		t.Fatalf("rows %q", got)
	}
	want := []string{
		filepath.Join(dir, "a.csv") + `:3|price|2,x|invalid DOUBLE "x"`,
		filepath.Join(dir, "b.csv") + `:3||"5"5,5|unexpected '5' after the closing quote of field 1`,
	}
	if got := c.take(); !slices.Equal(got, want) {
		t.Fatalf("reported\n%q\nwant\n%q", got, want)
	}
	// OpenFiles takes the policy through DecodeOptions.
	var c2 collector
	d, err := OpenFiles(filepath.Join(dir, "*.csv"), "csv", schemaOf(t, "id BIGINT", "price DOUBLE"), DecodeOptions{Header: true, OnError: c2.onError})
	if err != nil {
		t.Fatal(err)
	}
	if got := drain(t, d, nil); got.err != nil || len(got.rows) != 3 || len(c2.errs) != 2 || c2.errs[1].Path != filepath.Join(dir, "b.csv") {
		t.Fatalf("OpenFiles: %d rows, err %v, reported %v", len(got.rows), got.err, c2.errs)
	}
}

// TestSocketOnError: a received line that is not valid UTF-8 is a bad record; without a policy
// Read fails on it.
func TestSocketOnError(t *testing.T) {
	for _, withPolicy := range []bool{true, false} {
		port, conns := ncServer(t)
		var c syncCollector
		cfg := StreamConfig{Name: "lines", Schema: schemaOf(t, "value VARCHAR"), Mem: checkedMem(t),
			Options: map[string]string{"connector": "socket", "host": "127.0.0.1", "port": port}}
		if withPolicy {
			cfg.OnError = c.onError
		}
		s, err := OpenStream(cfg)
		if err != nil {
			t.Fatal(err)
		}
		conn := <-conns
		if _, err := conn.Write([]byte("ok\nbad \xff\nfine\n")); err != nil {
			t.Fatal(err)
		}
		end := waitLatest(t, s, nil, `{"lines":3}`)
		rows, err := tryReadRange(s, nil, end)
		addr := "127.0.0.1:" + port
		if withPolicy {
			want := []string{addr + ":2|value|bad \xff|invalid UTF-8 in VARCHAR \"bad \\xff\""}
			if got := c.take(); err != nil || !slices.Equal(rows, []string{"ok", "fine"}) || !slices.Equal(got, want) {
				t.Fatalf("rows %q err %v reported %q", rows, err, got)
			}
		} else {
			var re *RecordError
			if !errors.As(err, &re) || re.Line != 2 || re.Path != addr {
				t.Fatalf("without a policy: rows %q err %v", rows, err)
			}
		}
		conn.Close()
		s.Close()
	}
}
