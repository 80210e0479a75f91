package sources

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// kafkaParallelRun is what one stream, read to the end in steps, produced: the offsets Latest
// returned, the rows, the bad records reported (in order) and the error without a policy.
type kafkaParallelRun struct {
	offsets []string
	rows    []string
	bad     []string
	err     string
}

// readKafkaSteps opens topic with the given parallelism (batch_size 16 and max_offsets_per_trigger
// 50, so that a Read has several tasks and the range needs several Reads) and reads it from the
// start to the end in steps. With collect, bad records go to an OnError that records them.
func readKafkaSteps(t *testing.T, env *kafkaEnv, topic string, parallelism int, collect bool) kafkaParallelRun {
	t.Helper()
	var run kafkaParallelRun
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	cfg := StreamConfig{Name: "src", Schema: orderSchema(t), Mem: mem, Parallelism: parallelism, Options: map[string]string{
		"connector": "kafka", "brokers": env.mc.BootstrapServers(), "topic": topic, "starting_offsets": "earliest",
		"batch_size": "16", "max_offsets_per_trigger": "50"}}
	if collect {
		cfg.OnError = func(re *RecordError) error {
			run.bad = append(run.bad, fmt.Sprintf("%s@%d %s: %s", re.Path, re.Line, re.Column, re.Reason))
			return nil
		}
	}
	st, err := openKafka(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &kafkaTestStream{Stream: st, t: t, mem: mem}
	defer func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
		if n := mem.CurrentAlloc(); n != 0 {
			t.Errorf("parallelism %d: %d bytes still allocated after Close", parallelism, n)
		}
	}()
	var from Offset
	for step := 0; step < 100; step++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		end, err := s.Latest(ctx, from)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if from != nil && string(end) == string(from) {
			return run
		}
		run.offsets = append(run.offsets, string(end))
		rows, _, err := s.readErr(from, end)
		run.rows = append(run.rows, rows...)
		if err != nil {
			run.err = err.Error()
			return run
		}
		from = end
	}
	t.Fatal("the topic did not reach its end in 100 steps")
	return run
}

// TestKafkaParallelSameAsSequential reads a 3-partition topic holding good and bad messages with
// parallelism 1, 2 and 4: the offsets of every step, the rows (checked against the produced
// messages), the bad records reported with an OnError policy and, without one, the error that
// ends the read must be the same for every parallelism.
func TestKafkaParallelSameAsSequential(t *testing.T) {
	env := newKafkaEnv(t)
	env.topic("par", 3)
	var good, all []*kafkaMsg
	for i := 0; i < 240; i++ {
		m := order(i)
		if i%37 == 5 {
			m.value = []byte(fmt.Sprintf(`{"id": %d, "amount": "lots"}`, i))
		} else if i%53 == 7 {
			m.value = []byte(`{"id": 1`)
		} else {
			good = append(good, m)
		}
		all = append(all, m)
	}
	env.produce("par", all...)

	base := readKafkaSteps(t, env, "par", 1, true)
	want := expectOrders("par", good)
	slices.Sort(want)
	got := slices.Clone(base.rows)
	slices.Sort(got)
	sameRows(t, "parallelism 1 rows against the produced messages", got, want)
	if len(base.bad) != len(all)-len(good) || len(base.offsets) < 5 {
		t.Fatalf("parallelism 1: %d bad records (want %d) over %d steps", len(base.bad), len(all)-len(good), len(base.offsets))
	}
	baseErr := readKafkaSteps(t, env, "par", 1, false)
	if baseErr.err == "" {
		t.Fatal("parallelism 1 without OnError: no error")
	}
	for _, p := range []int{2, 4} {
		run := readKafkaSteps(t, env, "par", p, true)
		if !slices.Equal(run.offsets, base.offsets) {
			t.Fatalf("parallelism %d offsets %v, parallelism 1 %v", p, run.offsets, base.offsets)
		}
		sameRows(t, fmt.Sprintf("parallelism %d rows", p), run.rows, base.rows)
		sameRows(t, fmt.Sprintf("parallelism %d bad records", p), run.bad, base.bad)
		runErr := readKafkaSteps(t, env, "par", p, false)
		if runErr.err != baseErr.err || !slices.Equal(runErr.offsets, baseErr.offsets) {
			t.Fatalf("parallelism %d without OnError: error %q after offsets %v; parallelism 1: %q after %v", p, runErr.err, runErr.offsets, baseErr.err, baseErr.offsets)
		}
		sameRows(t, fmt.Sprintf("parallelism %d rows before the error", p), runErr.rows, baseErr.rows)
	}
}
