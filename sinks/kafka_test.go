package sinks

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/internal/kafkatest"
)

// The tests run against librdkafka's in-process mock cluster. It accepts the transactional
// producer's protocol (InitProducerId, AddPartitionsToTxn, EndTxn) but keeps no transaction state
// in its logs: it writes no control records and serves aborted or still-open transactional
// records to read_committed consumers too. So these tests cover the sink's side (transactions
// begun and committed per epoch, markers, skipping committed epochs after a restart) but not the
// broker's isolation of aborted attempts, nor the fencing of a zombie producer.

var kafkaSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: exec.Int64, Nullable: true},
	{Name: "name", Type: exec.String, Nullable: true},
	{Name: "x", Type: exec.Float64, Nullable: true},
}, nil)

// kafkaEpochRows is the oracle input of epoch e.
func kafkaEpochRows(e int64) [][]any {
	return [][]any{
		{e*10 + 1, fmt.Sprintf("row \"%d\", a", e), 0.5},
		{e*10 + 2, nil, nil},
	}
}

// kafkaWant is what the sink must produce for epoch e: "key => value" lines, hand-written.
func kafkaWant(e int64, format string) []string {
	if format == "csv" {
		return []string{
			fmt.Sprintf("%d => %d,\"row \"\"%d\"\", a\",0.5", e*10+1, e*10+1, e),
			fmt.Sprintf("%d => %d,,", e*10+2, e*10+2),
		}
	}
	return []string{
		fmt.Sprintf(`%d => {"id":%d,"name":"row \"%d\", a","x":0.5}`, e*10+1, e*10+1, e),
		fmt.Sprintf(`%d => {"id":%d,"name":null,"x":null}`, e*10+2, e*10+2),
	}
}

func newMockCluster(t *testing.T, topics ...string) *kafka.MockCluster {
	t.Helper()
	mc, err := kafka.NewMockCluster(1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kafkatest.Close(t, mc) })
	for _, tp := range topics {
		if err := mc.CreateTopic(tp, 1, 1); err != nil {
			t.Fatal(err)
		}
	}
	return mc
}

func openKafkaSink(t *testing.T, mc *kafka.MockCluster, opts ...string) Sink {
	t.Helper()
	o := map[string]string{"connector": "kafka", "brokers": mc.BootstrapServers(), "topic": "out", "timeout": "10 seconds"}
	for i := 0; i+1 < len(opts); i += 2 {
		o[opts[i]] = opts[i+1]
	}
	s, err := NewKafka(Config{Query: "q1", Options: o})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(kafkaSchema, Append, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func kafkaWrite(t *testing.T, s Sink, e int64) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := filesRecord(t, mem, kafkaSchema, kafkaEpochRows(e))
	defer rec.Release()
	if err := s.Write(context.Background(), e, inserts(rec)); err != nil {
		t.Fatalf("epoch %d: %v", e, err)
	}
}

// readTopic returns partition 0 of topic as "key => value" lines, read with read_committed.
func readTopic(t *testing.T, mc *kafka.MockCluster, topic string) []string {
	t.Helper()
	c, err := kafka.NewConsumer(&kafka.ConfigMap{"bootstrap.servers": mc.BootstrapServers(), "group.id": "check",
		"isolation.level": "read_committed", "enable.partition.eof": true, "fetch.wait.max.ms": 10})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Assign([]kafka.TopicPartition{{Topic: &topic, Partition: 0, Offset: kafka.OffsetBeginning}}); err != nil {
		t.Fatal(err)
	}
	var out []string
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		switch e := c.Poll(100).(type) {
		case *kafka.Message:
			out = append(out, string(e.Key)+" => "+string(e.Value))
		case kafka.PartitionEOF:
			return out
		case kafka.Error:
			t.Fatal(e)
		}
	}
	t.Fatalf("reading %s timed out", topic)
	return nil
}

func TestKafkaSinkExactlyOncePerEpoch(t *testing.T) {
	for _, format := range []string{"json", "csv"} {
		t.Run(format, func(t *testing.T) {
			mc := newMockCluster(t, "out", "out__streamsql_commits")
			s := openKafkaSink(t, mc, "format", format, "key_columns", "id")
			var want []string
			for e := int64(0); e < 2; e++ {
				kafkaWrite(t, s, e)
				want = append(want, kafkaWant(e, format)...)
			}
			kafkaWrite(t, s, 1) // a replay of the last epoch by the same instance
			if got := readTopic(t, mc, "out"); !slices.Equal(got, want) {
				t.Fatalf("topic:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			s.Close()
			// A restarted sink with the same query name finds epoch 1 committed: the replay of
			// epochs 0 and 1 writes nothing, epoch 2 is new.
			s2 := openKafkaSink(t, mc, "format", format, "key_columns", "id")
			for e := int64(0); e < 3; e++ {
				kafkaWrite(t, s2, e)
			}
			want = append(want, kafkaWant(2, format)...)
			if got := readTopic(t, mc, "out"); !slices.Equal(got, want) {
				t.Fatalf("after restart:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			markers := readTopic(t, mc, "out__streamsql_commits")
			wantMarkers := []string{
				`q1 => {"query":"q1","epoch":0,"topic":"out"}`,
				`q1 => {"query":"q1","epoch":1,"topic":"out"}`,
				`q1 => {"query":"q1","epoch":2,"topic":"out"}`,
			}
			if !slices.Equal(markers, wantMarkers) {
				t.Fatalf("markers:\n%s\nwant:\n%s", strings.Join(markers, "\n"), strings.Join(wantMarkers, "\n"))
			}
		})
	}
}

// TestKafkaSinkMarkersOfOtherQueries: markers of another query in the same commit topic are not
// this query's; a composite key is a JSON object of the key columns.
func TestKafkaSinkMarkersOfOtherQueries(t *testing.T) {
	mc := newMockCluster(t, "out", "shared_commits")
	other, err := NewKafka(Config{Query: "other", Options: map[string]string{"brokers": mc.BootstrapServers(), "topic": "out", "commit_topic": "shared_commits"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Open(kafkaSchema, Append, nil); err != nil {
		t.Fatal(err)
	}
	kafkaWrite(t, other, 5)
	other.Close()
	s := openKafkaSink(t, mc, "commit_topic", "shared_commits", "key_columns", "name, ID")
	kafkaWrite(t, s, 0) // not skipped: epoch 5 was another query's
	got := readTopic(t, mc, "out")
	want := []string{
		` => {"id":51,"name":"row \"5\", a","x":0.5}`,
		` => {"id":52,"name":null,"x":null}`,
		`{"name":"row \"0\", a","id":1} => {"id":1,"name":"row \"0\", a","x":0.5}`,
		`{"name":null,"id":2} => {"id":2,"name":null,"x":null}`,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("topic:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestKafkaSinkOptionErrors(t *testing.T) {
	mc := newMockCluster(t)
	base := func(kv ...string) map[string]string {
		o := map[string]string{"brokers": mc.BootstrapServers(), "topic": "out"}
		for i := 0; i+1 < len(kv); i += 2 {
			o[kv[i]] = kv[i+1]
		}
		return o
	}
	for _, c := range []struct {
		opts map[string]string
		want string
	}{
		{map[string]string{"topic": "out"}, "needs option brokers"},
		{base("format", "avro"), `json or csv, got "avro"`},
		{base("kafka.enable.idempotence", "false"), "option kafka.enable.idempotence cannot be set"},
		{base("commit_topic", "out"), "commit_topic must differ"},
		{base("timeout", "soon"), "timeout must be an interval"},
		{base("partitions", "3"), "unknown option(s) partitions for connector kafka"},
	} {
		if _, err := NewKafka(Config{Query: "q", Options: c.opts}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("options %v: error %v, want %q", c.opts, err, c.want)
		}
	}
	s, err := NewKafka(Config{Query: "q", Options: base("key_columns", "id,nope")})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(kafkaSchema, Append, nil); err == nil || !strings.Contains(err.Error(), `key_columns names "nope"`) {
		t.Fatalf("unknown key column: %v", err)
	}
	// A secret that librdkafka echoes in its error never reaches ours.
	s, err = NewKafka(Config{Query: "q", Options: base("kafka.sasl.mechanisms", "hunter2-secret", "kafka.security.protocol", "sasl_plaintext")})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Open(kafkaSchema, Append, nil)
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "[redacted]") {
		t.Fatalf("error %v: want a failure with the secret redacted", err)
	}
}
