package streamsql

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/streamsql/streamsql/internal/kafkatest"
)

// TestComputedColumnOnKafka: a Kafka source's computed column parses the message text's time and
// carries the watermark; a message whose time does not parse is dead-lettered with its location
// (the decoded batch row) while the others are counted.
func TestComputedColumnOnKafka(t *testing.T) {
	mc, err := kafka.NewMockCluster(1)
	if err != nil {
		t.Fatal(err)
	}
	defer kafkatest.Close(t, mc)
	if err := mc.CreateTopic("orders", 1, 1); err != nil {
		t.Fatal(err)
	}
	prod, err := kafka.NewProducer(&kafka.ConfigMap{"bootstrap.servers": mc.BootstrapServers(), "linger.ms": 0})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	topic := "orders"
	ch := make(chan kafka.Event, 4)
	for _, v := range []string{`{"raw": "3/22/2016 20:55", "side": "B"}`, `{"raw": "3/22/2016 21:05", "side": "S"}`, `{"raw": "junk", "side": "B"}`, `{"raw": "3/22/2016 21:59", "side": "B"}`} {
		if err := prod.Produce(&kafka.Message{TopicPartition: kafka.TopicPartition{Topic: &topic, Partition: 0}, Value: []byte(v)}, ch); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 4; i++ {
		select {
		case ev := <-ch:
			if m := ev.(*kafka.Message); m.TopicPartition.Error != nil {
				t.Fatal(m.TopicPartition.Error)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("delivery report timed out")
		}
	}
	eng := newTestEngine(t)
	mustExec(t, eng, `CREATE SOURCE o (raw VARCHAR, side VARCHAR, "offset" BIGINT, ts AS to_timestamp(raw, 'M/d/yyyy H:mm'),
		WATERMARK FOR ts AS ts - INTERVAL '5 minutes') WITH (connector = 'kafka', brokers = '`+mc.BootstrapServers()+`', topic = 'orders', format = 'json', starting_offsets = 'earliest')`)
	mustExec(t, eng, `CREATE MATERIALIZED VIEW v WITH (trigger = 'manual') AS SELECT window_start, side, COUNT(*) AS n FROM o GROUP BY window(ts, '1 hour'), side`)
	deadline := time.Now().Add(20 * time.Second)
	want := []string{"2016-03-22 20:00:00|B|1", "2016-03-22 21:00:00|B|1", "2016-03-22 21:00:00|S|1"}
	var got []string
	for time.Now().Before(deadline) {
		if err := eng.ProcessAllAvailable(context.Background(), "v"); err != nil {
			t.Fatal(err)
		}
		if got = query(t, eng, "SELECT * FROM v"); reflect.DeepEqual(got, want) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("view %v, want %v", got, want)
	}
	bad := query(t, eng, "SELECT column_name, reason FROM v_errors")
	if len(bad) != 1 || !strings.HasPrefix(bad[0], "ts|") || !strings.Contains(bad[0], `"junk"`) {
		t.Fatalf("dead letters %v", bad)
	}
}
