package sources

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

// readParallel is Read with parallelism > 1, on the ordered pipeline (pipeline.go): the consumer
// is polled on the pipeline's planner goroutine (the only one using it while Read holds s.mu),
// which cuts the messages, in the order the sequential Read adds them, into tasks of BatchSize
// messages; workers decode the tasks, each into its own kafkaRows, and the caller's goroutine
// emits their batches in task order. The rows, their order and the bad records reported are
// therefore the sequential Read's; only batch boundaries may differ when messages are dropped
// as bad records. A task's messages are Go copies owned by the message (librdkafka's buffers are
// not referenced), so they may be decoded on another goroutine.
func (s *kafkaStream) readParallel(ctx context.Context, ranges []kafkaRange, emit func(arrow.RecordBatch) error) error {
	plan := func(ctx context.Context, add func(readTask) error) error {
		var chunk []*kafka.Message
		flush := func() error {
			if len(chunk) == 0 {
				return nil
			}
			msgs := chunk
			chunk = nil
			return add(func(ctx context.Context, out *taskOutput) error { return s.decodeMessages(msgs, out) })
		}
		err := s.readRanges(ctx, ranges, func(m *kafka.Message) error {
			chunk = append(chunk, m)
			if len(chunk) >= s.opts.BatchSize {
				return flush()
			}
			return nil
		})
		if err != nil {
			return err
		}
		return flush()
	}
	return readOrdered(ctx, s.parallelism, plan, s.opts.OnError, emit)
}

// decodeMessages is one task of readParallel: it decodes msgs into one batch and sends it. Bad
// messages go to out.collect when the source has an OnError policy; without one, the first ends
// the task with its *KafkaRecordError, as it ends the sequential Read.
func (s *kafkaStream) decodeMessages(msgs []*kafka.Message, out *taskOutput) error {
	rows, err := s.newRows()
	if err != nil {
		return err
	}
	defer rows.release()
	if rows.onError != nil {
		rows.onError = out.collect
	}
	for _, m := range msgs {
		if err := rows.add(m, int64(m.TopicPartition.Offset)); err != nil {
			return err
		}
	}
	if rows.n == 0 {
		return nil
	}
	// emit releases the batch after the call; send takes a reference of its own.
	return rows.emit(func(rec arrow.RecordBatch) error {
		rec.Retain()
		return out.send(rec)
	})
}
