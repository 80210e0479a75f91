package sources

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/internal/kafkatest"
)

// kafkaMsg is one produced message and, after delivery, where it landed.
type kafkaMsg struct {
	partition int32
	key       []byte // nil: no key
	value     []byte // nil: tombstone
	ts        time.Time
	offset    int64 // set by produce
}

// kafkaEnv is an in-process mock Kafka cluster with a producer.
type kafkaEnv struct {
	t    *testing.T
	mc   *kafka.MockCluster
	prod *kafka.Producer
}

func newKafkaEnv(t *testing.T) *kafkaEnv {
	t.Helper()
	mc, err := kafka.NewMockCluster(1)
	if err != nil {
		t.Fatal(err)
	}
	prod, err := kafka.NewProducer(&kafka.ConfigMap{"bootstrap.servers": mc.BootstrapServers(), "linger.ms": 0})
	if err != nil {
		kafkatest.Close(t, mc)
		t.Fatal(err)
	}
	e := &kafkaEnv{t: t, mc: mc, prod: prod}
	t.Cleanup(e.close)
	return e
}

func (e *kafkaEnv) close() {
	if e.prod != nil {
		e.prod.Close()
		e.prod = nil
	}
	if e.mc != nil {
		kafkatest.Close(e.t, e.mc)
		e.mc = nil
	}
}

func (e *kafkaEnv) topic(name string, partitions int) {
	e.t.Helper()
	if err := e.mc.CreateTopic(name, partitions, 1); err != nil {
		e.t.Fatal(err)
	}
}

// produce sends msgs to topic with p, waits for every delivery and records the offsets.
func produceTo(t *testing.T, p *kafka.Producer, topic string, msgs []*kafkaMsg) {
	t.Helper()
	ch := make(chan kafka.Event, len(msgs))
	for _, m := range msgs {
		err := p.Produce(&kafka.Message{
			TopicPartition: kafka.TopicPartition{Topic: &topic, Partition: m.partition},
			Key:            m.key, Value: m.value, Timestamp: m.ts, Opaque: m,
		}, ch)
		if err != nil {
			t.Fatal(err)
		}
	}
	for range msgs {
		select {
		case ev := <-ch:
			dm := ev.(*kafka.Message)
			if dm.TopicPartition.Error != nil {
				t.Fatal(dm.TopicPartition.Error)
			}
			dm.Opaque.(*kafkaMsg).offset = int64(dm.TopicPartition.Offset)
		case <-time.After(10 * time.Second):
			t.Fatal("delivery report timed out")
		}
	}
}

func (e *kafkaEnv) produce(topic string, msgs ...*kafkaMsg) []*kafkaMsg {
	e.t.Helper()
	produceTo(e.t, e.prod, topic, msgs)
	return msgs
}

var kafkaTS0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// order makes the i-th test message: a JSON order in partition i%3 with key "k<i>".
func order(i int) *kafkaMsg {
	return &kafkaMsg{
		partition: int32(i % 3),
		key:       []byte(fmt.Sprintf("k%d", i)),
		value:     []byte(fmt.Sprintf(`{"id": %d, "name": "item %d", "amount": %d.5}`, i, i, i)),
		ts:        kafkaTS0.Add(time.Duration(i) * time.Second),
	}
}

func orders(from, to int) []*kafkaMsg {
	var out []*kafkaMsg
	for i := from; i < to; i++ {
		out = append(out, order(i))
	}
	return out
}

// orderSchema has value columns and every metadata column.
func orderSchema(t *testing.T) *arrow.Schema {
	return schemaOf(t, "id BIGINT", "name VARCHAR", "amount DOUBLE", "key VARCHAR", "topic VARCHAR",
		"partition BIGINT", "offset BIGINT", "timestamp TIMESTAMP")
}

// expectOrders is the oracle: msgs (made by order) as formatted rows of orderSchema, sorted by
// partition then offset.
func expectOrders(topic string, msgs []*kafkaMsg) []string {
	ms := slices.Clone(msgs)
	slices.SortFunc(ms, func(a, b *kafkaMsg) int {
		if a.partition != b.partition {
			return int(a.partition - b.partition)
		}
		return int(a.offset - b.offset)
	})
	var out []string
	for _, m := range ms {
		var i int
		fmt.Sscanf(string(m.key), "k%d", &i)
		out = append(out, fmt.Sprintf("%d|item %d|%d.5|k%d|%s|%d|%d|%s", i, i, i, i, topic, m.partition, m.offset,
			m.ts.UTC().Format("2006-01-02 15:04:05")))
	}
	return out
}

type kafkaTestStream struct {
	Stream
	t   *testing.T
	mem *memory.CheckedAllocator
}

func openKafkaTest(t *testing.T, schema *arrow.Schema, opts map[string]string) *kafkaTestStream {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	opts["connector"] = "kafka"
	s, err := openKafka(StreamConfig{Name: "src", Schema: schema, Options: opts, Mem: mem})
	if err != nil {
		t.Fatal(err)
	}
	ks := &kafkaTestStream{Stream: s, t: t, mem: mem}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
		if n := mem.CurrentAlloc(); n != 0 {
			t.Errorf("%d bytes still allocated after Close", n)
		}
	})
	return ks
}

func (s *kafkaTestStream) latest(from Offset) Offset {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	end, err := s.Latest(ctx, from)
	if err != nil {
		s.t.Fatal(err)
	}
	return end
}

// read returns the formatted rows of [from, to) and the size of each emitted record, or an error.
func (s *kafkaTestStream) readErr(from, to Offset) ([]string, []int, error) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var rows []string
	var sizes []int
	err := s.Read(ctx, from, to, func(rec arrow.RecordBatch) error {
		if !rec.Schema().Equal(s.Schema()) {
			s.t.Fatalf("record schema %s, want %s", rec.Schema(), s.Schema())
		}
		for j, col := range rec.Columns() {
			if err := array.ValidateFull(col); err != nil {
				s.t.Fatalf("column %d invalid: %v", j, err)
			}
		}
		sizes = append(sizes, int(rec.NumRows()))
		var raw [][]any
		for i := 0; i < int(rec.NumRows()); i++ {
			row := make([]any, rec.NumCols())
			for j := range row {
				row[j] = exec.ValueAt(rec.Column(j), i)
			}
			raw = append(raw, row)
		}
		rows = append(rows, formatRows(rec.Schema(), raw)...)
		return nil
	})
	return rows, sizes, err
}

func (s *kafkaTestStream) read(from, to Offset) []string {
	s.t.Helper()
	rows, _, err := s.readErr(from, to)
	if err != nil {
		s.t.Fatal(err)
	}
	return rows
}

func sameRows(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s:\ngot  %d rows:\n%s\nwant %d rows:\n%s", what, len(got), strings.Join(got, "\n"), len(want), strings.Join(want, "\n"))
	}
}

// offsetsOf is the oracle for an end offset: per partition, 1 + the last offset of msgs in it.
func offsetsOf(partitions int, msgs []*kafkaMsg) string {
	ends := make(kafkaOffsets)
	for p := 0; p < partitions; p++ {
		ends[int32(p)] = 0
	}
	for _, m := range msgs {
		ends[m.partition] = max(ends[m.partition], m.offset+1)
	}
	return string(ends.encode())
}

func TestKafkaEarliestReadsAllThenNewData(t *testing.T) {
	env := newKafkaEnv(t)
	env.topic("orders", 3)
	first := env.produce("orders", orders(0, 10)...)
	s := openKafkaTest(t, orderSchema(t), map[string]string{
		"brokers": env.mc.BootstrapServers(), "topic": "orders", "starting_offsets": "earliest", "batch_size": "4"})

	end := s.latest(nil)
	if want := `{"0":4,"1":3,"2":3}`; string(end) != want || offsetsOf(3, first) != want {
		t.Fatalf("Latest(nil) = %s, want %s", end, want)
	}
	want := expectOrders("orders", first)
	rows, sizes, err := s.readErr(nil, end)
	if err != nil {
		t.Fatal(err)
	}
	sameRows(t, "earliest read", rows, want)
	if !slices.Equal(sizes, []int{4, 4, 2}) {
		t.Fatalf("batch sizes %v, want [4 4 2] (batch_size 4)", sizes)
	}
	sameRows(t, "replay of the first range", s.read(nil, end), want)
	if again := s.latest(end); string(again) != string(end) {
		t.Fatalf("Latest without new data = %s, want %s", again, end)
	}
	if err := s.Commit(end); err != nil {
		t.Fatal(err)
	}

	second := env.produce("orders", orders(10, 15)...)
	end2 := s.latest(end)
	if want := offsetsOf(3, append(slices.Clone(first), second...)); string(end2) != want {
		t.Fatalf("Latest after new data = %s, want %s", end2, want)
	}
	want2 := expectOrders("orders", second)
	sameRows(t, "new data only", s.read(end, end2), want2)
	sameRows(t, "replay of the second range", s.read(end, end2), want2)
	sameRows(t, "first range after more data", s.read(nil, end), want)

	// A partition missing from an offset (added to the topic after it was written; the mock
	// cluster cannot add partitions) is read from its start.
	partial := Offset(`{"0":4,"1":3}`)
	if got := s.latest(partial); string(got) != string(end2) {
		t.Fatalf("Latest from an offset without partition 2 = %s, want %s", got, end2)
	}
	var rest []*kafkaMsg
	for _, m := range slices.Concat(first, second) {
		if m.partition == 2 || (m.partition == 0 && m.offset >= 4) || (m.partition == 1 && m.offset >= 3) {
			rest = append(rest, m)
		}
	}
	sameRows(t, "partition missing from the start offset", s.read(partial, end2), expectOrders("orders", rest))
}

func TestKafkaLatestStartsAtEnd(t *testing.T) {
	env := newKafkaEnv(t)
	env.topic("events", 3)
	old := env.produce("events", orders(0, 7)...)
	s := openKafkaTest(t, orderSchema(t), map[string]string{"brokers": env.mc.BootstrapServers(), "topic": "events"})

	end := s.latest(nil)
	if want := offsetsOf(3, old); string(end) != want {
		t.Fatalf("Latest(nil) with starting_offsets latest = %s, want the high watermarks %s", end, want)
	}
	sameRows(t, "first batch with latest", s.read(nil, end), nil)
	fresh := env.produce("events", orders(7, 12)...)
	end2 := s.latest(end)
	sameRows(t, "data produced after the start", s.read(end, end2), expectOrders("events", fresh))
}

func TestKafkaMaxOffsetsPerTrigger(t *testing.T) {
	env := newKafkaEnv(t)
	env.topic("capped", 3)
	// 6 messages in partition 0, 3 in partition 1, 1 in partition 2.
	var msgs []*kafkaMsg
	for i, p := range []int32{0, 0, 0, 0, 0, 0, 1, 1, 1, 2} {
		m := order(i)
		m.partition = p
		msgs = append(msgs, m)
	}
	env.produce("capped", msgs...)
	s := openKafkaTest(t, orderSchema(t), map[string]string{"brokers": env.mc.BootstrapServers(), "topic": "capped",
		"starting_offsets": "earliest", "max_offsets_per_trigger": "4"})

	// Hand-computed. Trigger 0: 4 of 10 in proportion 6:3:1 is 2.4, 1.2, 0.4 -> 2, 1, 0, and the
	// unit left goes to partition (0+0+0) mod 3 = 0. Trigger 1: 4 of 3+2+1 is 2, 1.33, 0.67 ->
	// 2, 1, 0, and the unit left goes to partition (3+1+0) mod 3 = 1. Trigger 2: the 2 left.
	wantEnds := []string{`{"0":3,"1":1,"2":0}`, `{"0":5,"1":3,"2":0}`, `{"0":6,"1":3,"2":1}`}
	var from Offset
	var all []string
	for i, want := range wantEnds {
		end := s.latest(from)
		if string(end) != want {
			t.Fatalf("trigger %d: Latest = %s, want %s", i, end, want)
		}
		rows := s.read(from, end)
		if len(rows) > 4 {
			t.Fatalf("trigger %d: %d rows, more than max_offsets_per_trigger 4", i, len(rows))
		}
		all = append(all, rows...)
		from = end
	}
	if end := s.latest(from); string(end) != string(from) {
		t.Fatalf("Latest after draining = %s, want %s", end, from)
	}
	got := slices.Clone(all)
	slices.Sort(got)
	want := expectOrders("capped", msgs)
	slices.Sort(want)
	sameRows(t, "union of capped batches", got, want)
}

func TestKafkaShareOffsets(t *testing.T) {
	for _, c := range []struct {
		avail, start []int64
		limit        int64
		want         []int64
	}{
		{[]int64{6, 3, 1}, []int64{0, 0, 0}, 0, []int64{6, 3, 1}},
		{[]int64{6, 3, 1}, []int64{0, 0, 0}, 10, []int64{6, 3, 1}},
		{[]int64{6, 3, 1}, []int64{0, 0, 0}, 4, []int64{3, 1, 0}},
		{[]int64{6, 3, 1}, []int64{1, 0, 0}, 4, []int64{2, 2, 0}},
		{[]int64{6, 3, 1}, []int64{1, 1, 0}, 4, []int64{2, 1, 1}},
		{[]int64{100, 100, 100}, []int64{0, 0, 0}, 1, []int64{1, 0, 0}},
		{[]int64{100, 100, 100}, []int64{0, 1, 0}, 1, []int64{0, 1, 0}},
		{[]int64{0, 5, 0}, []int64{0, 0, 7}, 2, []int64{0, 2, 0}},
		// floor(2^39 * 2^40 / (2^40+1)) = 2^39-1, floor(2^39 / (2^40+1)) = 0, the unit left to 0.
		{[]int64{1 << 40, 1, 0}, []int64{0, 0, 0}, 1 << 39, []int64{1 << 39, 0, 0}},
		// limit*avail overflows int64: 3*2^61/2^62 = 1.5 -> 1 each, the unit left to partition 0.
		{[]int64{1 << 61, 1 << 61}, []int64{0, 0}, 3, []int64{2, 1}},
	} {
		got := shareOffsets(c.avail, c.start, c.limit)
		var sum int64
		for i, g := range got {
			sum += g
			if g < 0 || g > c.avail[i] {
				t.Fatalf("shareOffsets(%v, %v, %d) = %v: share out of range", c.avail, c.start, c.limit, got)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("shareOffsets(%v, %v, %d) = %v, want %v", c.avail, c.start, c.limit, got, c.want)
		}
	}
}

func TestKafkaMetadataAndNulls(t *testing.T) {
	env := newKafkaEnv(t)
	env.topic("meta", 1)
	env.produce("meta",
		&kafkaMsg{key: nil, value: []byte(`{"id": 1}`), ts: kafkaTS0},
		&kafkaMsg{key: []byte("k"), value: nil, ts: kafkaTS0.Add(1500 * time.Millisecond)}, // tombstone
		&kafkaMsg{key: []byte("k2"), value: []byte("  "), ts: kafkaTS0},
		&kafkaMsg{key: []byte("k3"), value: []byte("{\n  \"id\": 4,\n  \"name\": \"multi\\nline\"\n}\n"), ts: kafkaTS0},
	)
	// Upper-case metadata names are recognised; a value column may come between them.
	s := openKafkaTest(t, schemaOf(t, "OFFSET BIGINT", "id BIGINT", "Key VARCHAR", "name VARCHAR", "timestamp TIMESTAMP"),
		map[string]string{"brokers": env.mc.BootstrapServers(), "topic": "meta", "starting_offsets": "earliest"})
	want := []string{
		"0|1|NULL|NULL|2024-03-01 12:00:00",
		"1|NULL|k|NULL|2024-03-01 12:00:01.5",
		"2|NULL|k2|NULL|2024-03-01 12:00:00",
		"3|4|k3|multi\nline|2024-03-01 12:00:00",
	}
	sameRows(t, "metadata columns", s.read(nil, s.latest(nil)), want)
}

func TestKafkaCSVAndText(t *testing.T) {
	env := newKafkaEnv(t)
	env.topic("csv", 1)
	env.produce("csv",
		&kafkaMsg{value: []byte("1,plain")},
		&kafkaMsg{value: []byte("2,\"two\nlines\"\r\n")},
		&kafkaMsg{value: nil},
		&kafkaMsg{value: []byte("3;x")},
	)
	s := openKafkaTest(t, schemaOf(t, "id BIGINT", "s VARCHAR", "offset BIGINT"),
		map[string]string{"brokers": env.mc.BootstrapServers(), "topic": "csv", "format": "csv", "starting_offsets": "earliest"})
	end := s.latest(nil)
	sameRows(t, "csv values", s.read(nil, Offset(`{"0":3}`)), []string{"1|plain|0", "2|two\nlines|1", "NULL|NULL|2"})
	_, _, err := s.readErr(nil, end)
	var ke *KafkaRecordError
	if !errors.As(err, &ke) || ke.Offset != 3 || !strings.Contains(err.Error(), `offset 3: expected 2 fields, found 1`) {
		t.Fatalf("csv record with the wrong delimiter: got %v", err)
	}

	env.topic("csv2", 1)
	env.produce("csv2", &kafkaMsg{value: []byte("1,a\n2,b")})
	s2 := openKafkaTest(t, schemaOf(t, "id BIGINT", "s VARCHAR"),
		map[string]string{"brokers": env.mc.BootstrapServers(), "topic": "csv2", "format": "csv", "starting_offsets": "earliest"})
	if _, _, err := s2.readErr(nil, s2.latest(nil)); err == nil || !strings.Contains(err.Error(), `topic "csv2" partition 0 offset 0: the message holds more than one CSV record`) {
		t.Fatalf("two CSV records in one message: got %v", err)
	}

	env.topic("lines", 1)
	env.produce("lines", &kafkaMsg{value: []byte("a\nb")}, &kafkaMsg{value: nil}, &kafkaMsg{value: []byte("")}, &kafkaMsg{value: []byte{0xff}})
	s3 := openKafkaTest(t, schemaOf(t, "value VARCHAR", "partition BIGINT"),
		map[string]string{"brokers": env.mc.BootstrapServers(), "topic": "lines", "format": "text", "starting_offsets": "earliest"})
	// The empty value may come back from librdkafka as an empty or a null payload.
	got := s3.read(nil, Offset(`{"0":3}`))
	if len(got) != 3 || got[0] != "a\nb|0" || got[1] != "NULL|0" || (got[2] != "|0" && got[2] != "NULL|0") {
		t.Fatalf("text values: %q", got)
	}
	if _, _, err := s3.readErr(nil, Offset(`{"0":4}`)); err == nil || !strings.Contains(err.Error(), `offset 3: column "value": invalid UTF-8`) {
		t.Fatalf("invalid UTF-8 text value: got %v", err)
	}
}

func TestKafkaMalformedJSON(t *testing.T) {
	env := newKafkaEnv(t)
	env.topic("bad", 3)
	env.produce("bad", orders(0, 6)...)
	env.produce("bad",
		&kafkaMsg{partition: 1, key: []byte("x"), value: []byte(`{"id": 7, "amount": "lots"}`)},
		&kafkaMsg{partition: 2, key: []byte("y"), value: []byte(`{"id": 8`)},
	)
	s := openKafkaTest(t, orderSchema(t), map[string]string{"brokers": env.mc.BootstrapServers(), "topic": "bad", "starting_offsets": "earliest"})
	end := s.latest(nil)
	var emitted []string
	rows, _, err := s.readErr(nil, end)
	emitted = append(emitted, rows...)
	var ke *KafkaRecordError
	if !errors.As(err, &ke) {
		t.Fatalf("want a *KafkaRecordError, got %v", err)
	}
	if want := `source src: topic "bad" partition 1 offset 2: column "amount": invalid DOUBLE "lots"`; err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
	if ke.Topic != "bad" || ke.Partition != 1 || ke.Offset != 2 || ke.Err.Column != "amount" {
		t.Fatalf("error fields %+v", ke)
	}
	if len(emitted) != 0 {
		t.Fatalf("rows emitted before the error: %q", emitted)
	}
	// The partition 2 message is reported when partition 1 is past it.
	_, _, err = s.readErr(Offset(`{"0":0,"1":3,"2":0}`), end)
	if err == nil || !strings.Contains(err.Error(), `topic "bad" partition 2 offset 2: truncated JSON`) {
		t.Fatalf("truncated JSON: got %v", err)
	}
}

func TestKafkaOptionErrors(t *testing.T) {
	schema := orderSchema(t)
	for _, c := range []struct {
		opts map[string]string
		want string
	}{
		{map[string]string{"topic": "t"}, "source src: the kafka connector needs option brokers"},
		{map[string]string{"brokers": "h:1"}, "source src: the kafka connector needs option topic"},
		{map[string]string{"brokers": "h:1", "topic": "t", "topik": "x"},
			`source src: unknown option(s) topik for connector "kafka" (valid: batch_size, brokers, delimiter, format, kafka.<property>, max_offsets_per_trigger, starting_offsets, timeout, topic)`},
		{map[string]string{"brokers": "h:1", "topic": "t", "format": "avro"}, "source src: format must be json, csv or text, got 'avro'"},
		{map[string]string{"brokers": "h:1", "topic": "t", "starting_offsets": "oldest"}, "source src: starting_offsets must be earliest or latest, got 'oldest'"},
		{map[string]string{"brokers": "h:1", "topic": "t", "max_offsets_per_trigger": "0"}, "source src: max_offsets_per_trigger must be a positive integer, got '0'"},
		{map[string]string{"brokers": "h:1", "topic": "t", "timeout": "soon"}, "source src: timeout must be an interval"},
		{map[string]string{"brokers": "h:1", "topic": "t", "delimiter": ";"}, "source src: option delimiter applies to format csv only"},
		{map[string]string{"brokers": "h:1", "topic": "t", "kafka.enable.auto.commit": "true"},
			"source src: option kafka.enable.auto.commit cannot be set: offsets are tracked by the engine's offset log"},
		{map[string]string{"brokers": "h:1", "topic": "t", "kafka.no.such.property": "1"}, `source src: cannot create the Kafka consumer: No such configuration property: "no.such.property"`},
		{map[string]string{"brokers": "h:1", "topic": "t", "format": "text"}, "source src: format text fills one VARCHAR column"},
	} {
		c.opts["connector"] = "kafka"
		_, err := openKafka(StreamConfig{Name: "src", Schema: schema, Options: c.opts})
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("options %v: got %v, want an error starting %q", c.opts, err, c.want)
		}
	}
	_, err := openKafka(StreamConfig{Name: "src", Schema: schemaOf(t, "partition VARCHAR"),
		Options: map[string]string{"connector": "kafka", "brokers": "h:1", "topic": "t"}})
	if err == nil || !strings.Contains(err.Error(), "column partition is Kafka metadata and must be BIGINT, not VARCHAR") {
		t.Errorf("metadata column of the wrong type: got %v", err)
	}

	// Values of sensitive options never appear in errors, even when librdkafka quotes them.
	secret := "Zq9-very-secret"
	for _, opts := range []map[string]string{
		{"kafka.sasl.mechanism": secret, "kafka.security.protocol": "sasl_plaintext"},
		{"kafka.ssl.key.password": secret, "kafka.client.id": secret, "kafka.fetch.min.bytes": secret},
	} {
		opts["connector"], opts["brokers"], opts["topic"] = "kafka", "h:1", "t"
		_, err := openKafka(StreamConfig{Name: "src", Schema: schema, Options: opts})
		if err == nil {
			t.Fatalf("options %v: want an error", opts)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error must redact the secret: %v", err)
		}
		t.Logf("redacted: %v", err)
	}
}

func TestKafkaUnknownTopicAndClusterDown(t *testing.T) {
	env := newKafkaEnv(t)
	env.topic("live", 2)
	env.produce("live", &kafkaMsg{partition: 1, value: []byte(`{"id": 1}`)})
	opts := func(topic string) map[string]string {
		return map[string]string{"brokers": env.mc.BootstrapServers(), "topic": topic, "timeout": "1.5 seconds", "starting_offsets": "earliest"}
	}
	missing := openKafkaTest(t, orderSchema(t), opts("nope"))
	if _, err := missing.Latest(context.Background(), nil); err == nil || !strings.Contains(err.Error(), `topic "nope" does not exist`) {
		t.Fatalf("unknown topic: got %v", err)
	}
	s := openKafkaTest(t, orderSchema(t), opts("live"))
	end := s.latest(nil)
	if string(end) != `{"0":0,"1":1}` {
		t.Fatalf("Latest = %s", end)
	}
	if _, err := s.Latest(context.Background(), Offset(`{"0":0,"1":1,"7":0}`)); err == nil || !strings.Contains(err.Error(), "names partition 7") {
		t.Fatalf("offset of an unknown partition: got %v", err)
	}
	if _, err := s.Latest(context.Background(), Offset(`{"0":"x"}`)); err == nil || !strings.Contains(err.Error(), "invalid Kafka offset") {
		t.Fatalf("malformed offset: got %v", err)
	}
	if err := env.mc.SetBrokerDown(-1); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := s.Latest(context.Background(), end)
	if err == nil || !strings.Contains(err.Error(), "source src: cannot") || !strings.Contains(err.Error(), env.mc.BootstrapServers()) {
		t.Fatalf("Latest with the brokers down: got %v", err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Fatalf("Latest with the brokers down took %s, timeout is 1.5 s", d)
	}
	_, _, err = s.readErr(Offset(`{"0":0,"1":0}`), end)
	if err == nil || !strings.Contains(err.Error(), "timed out after 1.5s reading topic \"live\" partition 1 offsets 0..0") {
		t.Fatalf("Read with the brokers down: got %v", err)
	}
	// The cluster going away altogether is reported the same way.
	kafkatest.Close(t, env.mc)
	env.mc = nil
	start = time.Now()
	if _, err := s.Latest(context.Background(), end); err == nil || !strings.Contains(err.Error(), "source src: cannot") {
		t.Fatalf("Latest after the cluster is gone: got %v", err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Fatalf("Latest after the cluster is gone took %s, timeout is 1.5 s", d)
	}
}
