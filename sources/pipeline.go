package sources

import (
	"context"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
)

// The ordered pipeline: how one Read uses several cores without changing what it returns.
//
// A parallel Read splits its range into tasks (a file, a piece of a file between two record
// boundaries, a range of generated events) in the order the sequential Read would produce their
// rows. A planner goroutine makes the tasks, up to `workers` goroutines decode them, and the
// caller's goroutine (the one that called Read, where the operators run) hands their batches to
// emit task by task, in task order. The rows emitted, their order, the bad records reported and the
// offsets are therefore those of the sequential Read; only the batch boundaries may differ (a batch
// never spans two tasks). Decoding runs concurrently with the operators even with one worker.
//
// Bad records: a task never calls the source's OnError itself (it would run concurrently with the
// operators, and later tasks' records would be reported before earlier ones). Its decoder's policy
// collects them instead, and the caller's goroutine reports them, in order, before the batch
// during which they were found, which is when the sequential Read reports them. When OnError
// returns an error the Read stops with it; rows that later tasks decoded ahead are dropped.
//
// Memory: a task holds at most taskBuffered decoded batches that the caller has not taken, and at
// most workers+1 tasks are planned ahead of the one being emitted.

// taskBuffered is how many decoded batches one task may hold before it waits for the caller.
const taskBuffered = 2

// taskItem is one step of a task's output: the bad records found since the previous item, then
// the batch (nil at the end of a task), or the error that ended the task.
type taskItem struct {
	bad []*RecordError
	rec arrow.RecordBatch
	err error
}

// taskOutput is what a running task writes to.
type taskOutput struct {
	ctx   context.Context
	items chan taskItem
	bad   []*RecordError
}

// collect is the OnError policy of a task's decoders: it keeps the record for the caller's
// goroutine to report, and lets the decoder go on.
func (o *taskOutput) collect(re *RecordError) error {
	o.bad = append(o.bad, re)
	return nil
}

// send hands one batch (owned by the call: it is released if the Read is over) with the bad
// records collected before it.
func (o *taskOutput) send(rec arrow.RecordBatch) error {
	it := taskItem{bad: o.bad, rec: rec}
	o.bad = nil
	select {
	case o.items <- it:
		return nil
	case <-o.ctx.Done():
		if rec != nil {
			rec.Release()
		}
		return o.ctx.Err()
	}
}

// readTask is one unit of a parallel Read. run decodes it, calling out.send for each batch; its
// decoders report bad records to out.collect. An error it returns ends the Read there (after the
// rows and bad records it sent).
type readTask func(ctx context.Context, out *taskOutput) error

type plannedTask struct {
	run   readTask
	items chan taskItem
}

// readOrdered runs the tasks that plan adds (in order, from its own goroutine) on workers
// goroutines and emits their batches on the calling goroutine in task order, reporting collected
// bad records to onError first (nil onError: tasks' decoders must not collect, see taskOutput).
// emit borrows each batch. plan's own error ends the Read after the tasks it added before it.
func readOrdered(ctx context.Context, workers int, plan func(ctx context.Context, add func(readTask) error) error,
	onError func(*RecordError) error, emit func(arrow.RecordBatch) error) error {
	if workers < 1 {
		workers = 1
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ordered := make(chan *plannedTask, workers+1)
	queue := make(chan *plannedTask, workers+1)
	var planErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(ordered)
		defer close(queue)
		planErr = plan(ctx, func(run readTask) error {
			t := &plannedTask{run: run, items: make(chan taskItem, taskBuffered)}
			select {
			case ordered <- t:
			case <-ctx.Done():
				return ctx.Err()
			}
			// queue has room: a task enters it only after entering ordered, whose capacity is
			// the same, and the workers take from queue before the caller drains ordered.
			select {
			case queue <- t:
			case <-ctx.Done():
				close(t.items) // never run: the caller's drain must not wait for it
				return ctx.Err()
			}
			return nil
		})
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range queue {
				out := &taskOutput{ctx: ctx, items: t.items}
				err := t.run(ctx, out)
				if err != nil || len(out.bad) > 0 {
					it := taskItem{bad: out.bad, err: err}
					select {
					case t.items <- it:
					case <-ctx.Done():
					}
				}
				close(t.items)
			}
		}()
	}
	err := consumeOrdered(ordered, onError, emit)
	if err != nil {
		cancel()
	}
	// Drain what the tasks still hold so that every goroutine can finish, releasing their batches.
	for t := range ordered {
		drainTask(t)
	}
	wg.Wait()
	if err != nil {
		return err
	}
	return planErr
}

// consumeOrdered emits the tasks' output in order until the first error.
func consumeOrdered(ordered chan *plannedTask, onError func(*RecordError) error, emit func(arrow.RecordBatch) error) error {
	for t := range ordered {
		for it := range t.items {
			for _, re := range it.bad {
				err := error(re)
				if onError != nil {
					err = onError(re)
				}
				if err != nil {
					if it.rec != nil {
						it.rec.Release()
					}
					drainTask(t)
					return err
				}
			}
			if it.rec != nil {
				err := emit(it.rec)
				it.rec.Release()
				if err != nil {
					drainTask(t)
					return err
				}
			}
			if it.err != nil {
				drainTask(t)
				return it.err
			}
		}
	}
	return nil
}

// drainTask releases the batches a task still holds, until it ends (its context is cancelled).
func drainTask(t *plannedTask) {
	for it := range t.items {
		if it.rec != nil {
			it.rec.Release()
		}
	}
}
