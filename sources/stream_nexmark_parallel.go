package sources

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
)

// taskEvents is how many event ids (of all types) one task of a parallel Read generates: about
// one batch of the stream's own type.
func (s *NexmarkStream) taskEvents() int64 {
	lo, hi := nexKindOffsets(s.kind)
	return max(int64(s.batchRows)*nexProportion/(hi-lo), nexProportion)
}

// readParallel generates [a, b) in consecutive pieces on s.parallelism goroutines through the
// ordered pipeline (pipeline.go), emitting them in order. Every event depends only on the seed and
// its id, so the rows are those of the sequential Read, in the same order.
func (s *NexmarkStream) readParallel(ctx context.Context, a, b int64, emit func(arrow.RecordBatch) error) error {
	step := s.taskEvents()
	return readOrdered(ctx, s.parallelism, func(ctx context.Context, add func(readTask) error) error {
		for lo := a; lo < b; lo += step {
			hi := min(lo+step, b)
			if err := add(func(ctx context.Context, out *taskOutput) error {
				return s.readEvents(ctx, lo, hi, func(rec arrow.RecordBatch) error {
					rec.Retain() // flush releases it after emit; the pipeline owns this reference
					return out.send(rec)
				})
			}); err != nil {
				return err
			}
		}
		return nil
	}, nil, emit)
}
