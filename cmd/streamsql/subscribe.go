package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	streamsql "github.com/streamsql/streamsql"
	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/sql"
)

// SUBSCRIBE in the shell: each epoch that changes the view prints as a small result set with
// epoch and weight columns before the view's, until Ctrl-C ends the subscription. Interactive,
// the shell then returns to the prompt; piped, Ctrl-C interrupts the whole input as for any
// statement. `run -f` refuses SUBSCRIBE: a headless script cannot be stopped by hand between
// statements, and writes changes to a sink instead.

// subscriber is the part of *streamsql.Engine SUBSCRIBE needs.
type subscriber interface {
	OpenSubscription(ctx context.Context, statement string) (*streamsql.Subscription, error)
}

// errSubscribeNotInteractive is the answer to SUBSCRIBE in `run -f`.
var errSubscribeNotInteractive = errors.New("SUBSCRIBE needs an interactive session (streamsql, or a PostgreSQL client of streamsql serve); a script writes changes to a sink: CREATE SINK ... AS SELECT")

// subscribe runs SUBSCRIBE statement st of script, printing changes until ctx ends. A Ctrl-C
// (ctx cancelled) is the normal end and is not an error.
func (s *session) subscribe(ctx context.Context, script string, st sql.Statement) error {
	fail := func(err error) error {
		printError(s.errOut, err)
		return err
	}
	sub, ok := s.eng.(subscriber)
	if !ok || !s.subscribeOK {
		return fail(errSubscribeNotInteractive)
	}
	subscription, err := sub.OpenSubscription(ctx, positionPad(script, st.Offset)+st.Text)
	if err != nil {
		return fail(err)
	}
	defer subscription.Close()
	err = subscription.Run(func(epoch int64, changes arrow.RecordBatch) error {
		return s.printChanges(epoch, changes)
	})
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		fmt.Fprintln(s.out, "SUBSCRIBE ended")
		return nil
	}
	return fail(err)
}

// printChanges prints one epoch's changes (the view's columns then weight) as a result set
// whose columns are epoch, weight, then the view's.
func (s *session) printChanges(epoch int64, changes arrow.RecordBatch) error {
	n := int(changes.NumRows())
	last := int(changes.NumCols()) - 1
	mem := memory.DefaultAllocator
	b := array.NewInt64Builder(mem)
	for range n {
		b.Append(epoch)
	}
	epochs := b.NewArray()
	b.Release()
	defer epochs.Release()
	fields := []arrow.Field{{Name: "epoch", Type: exec.Int64}, changes.Schema().Field(last)}
	fields = append(fields, changes.Schema().Fields()[:last]...)
	cols := append([]arrow.Array{epochs, changes.Column(last)}, changes.Columns()[:last]...)
	schema := arrow.NewSchema(fields, nil)
	rec := array.NewRecordBatch(schema, cols, int64(n))
	defer rec.Release()
	if err := s.printResult(&streamsql.Result{Schema: schema, Records: []arrow.RecordBatch{rec}, Tag: fmt.Sprintf("SUBSCRIBE %d", n)}); err != nil {
		return err
	}
	if f, ok := s.out.(interface{ Flush() error }); ok {
		return f.Flush()
	}
	return nil
}
