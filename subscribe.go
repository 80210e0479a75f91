package streamsql

import (
	"context"
	"errors"
	"fmt"
	"github.com/streamsql/streamsql/exec"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/incremental"
	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sinks"
	"github.com/streamsql/streamsql/sql"
)

// SUBSCRIBE: a client follows the changes of a materialized view as they happen. Each epoch that
// changes the view arrives as one record of the view's columns plus a weight column (BIGINT: +1 an
// inserted row, -1 a removed row; an updated row is -1 old, +1 new), the first being the view's
// contents at subscription time as +1 rows. Summing the weights per row reconstructs the view.

// ErrSubscribeInExec is Exec's answer to a SUBSCRIBE statement, which never ends by itself.
var ErrSubscribeInExec = errors.New("SUBSCRIBE streams changes until it is cancelled, so Exec cannot run it: use Engine.Subscribe or Engine.OpenSubscription, the streamsql REPL, or a PostgreSQL client of streamsql serve")

// tempSubscriptions numbers the temporary views of SUBSCRIBE TO (query).
var tempSubscriptions atomic.Int64

// Subscription is a running SUBSCRIBE. Run delivers its changes; Close ends it (and stops the
// temporary view of SUBSCRIBE TO (query)).
type Subscription struct {
	e       *Engine
	name    string // the view's name ("" for a query's temporary view)
	rq      *runningQuery
	temp    bool
	sub     *sinks.Subscription
	ctx     context.Context
	cancel  context.CancelCauseFunc
	columns *arrow.Schema
	once    sync.Once
	err     error
}

// Subscribe delivers the changes of the materialized view name to fn, one call per epoch that
// changes it, in epoch order, starting with its current contents as +1 rows (when not empty).
// changes has the view's columns followed by weight BIGINT; fn borrows it (Retain to keep it).
// Subscribe blocks until ctx ends (it returns ctx's error), fn returns an error (returned), the
// view is dropped or its query fails (an error saying so), or fn falls more than 1024 epochs
// behind the view (an error wrapping sinks.ErrFellBehind). Slow fns never slow the view's query.
func (e *Engine) Subscribe(ctx context.Context, name string, fn func(epoch int64, changes arrow.RecordBatch) error) error {
	s, err := e.subscribeView(ctx, name)
	if err != nil {
		return err
	}
	defer s.Close()
	return s.Run(fn)
}

// IsSubscribe reports whether statement is a SUBSCRIBE statement (which Exec refuses).
func IsSubscribe(statement string) bool {
	for _, t := range sql.Lex(statement) {
		return t.Is("subscribe")
	}
	return false
}

// OpenSubscription starts a SUBSCRIBE statement: SUBSCRIBE [TO] view or SUBSCRIBE [TO] (query).
// A query runs as a temporary materialized view, invisible to SHOW and SELECT, which Close (or
// the end of ctx) stops. The subscription ends with ctx; call Run to receive its changes and
// Close when done.
func (e *Engine) OpenSubscription(ctx context.Context, statement string) (*Subscription, error) {
	st, err := parseSubscribe(statement)
	if err != nil {
		return nil, err
	}
	if st.Query == nil {
		return e.subscribeView(ctx, st.Name)
	}
	name := fmt.Sprintf("subscribe_%d", tempSubscriptions.Add(1))
	rq, err := e.prepareQuery(&sql.CreateSink{Name: name, View: true, Query: st.Query, QueryText: st.QueryText})
	if err != nil {
		return nil, err
	}
	s, err := e.start(ctx, "SUBSCRIBE query", rq, true)
	if err != nil {
		stopTemp(rq)
		return nil, err
	}
	return s, nil
}

// SubscribeColumns returns the columns a SUBSCRIBE statement streams besides its weight (the
// view's or the query's), without starting anything: for clients that describe a result before
// running it.
func (e *Engine) SubscribeColumns(statement string) (*arrow.Schema, error) {
	st, err := parseSubscribe(statement)
	if err != nil {
		return nil, err
	}
	if st.Query == nil {
		rq, err := e.viewQuery(st.Name)
		if err != nil {
			return nil, err
		}
		return rq.table.Schema(), nil
	}
	plan, err := sql.BindQuery(e.catalog, st.Query)
	if err != nil {
		return nil, err
	}
	if len(planner.StreamingScans(plan)) == 0 {
		return nil, exec.Errorf(exec.CodeFeatureNotSupported, "SUBSCRIBE query reads no source: a subscription needs a stream in FROM (CREATE SOURCE ...)")
	}
	return planner.SchemaOf(plan), nil
}

func parseSubscribe(statement string) (*sql.Subscribe, error) {
	stmts := sql.SplitStatements(statement)
	if len(stmts) != 1 {
		return nil, exec.Errorf(exec.CodeFeatureNotSupported, "SUBSCRIBE takes exactly one statement, got %d", len(stmts))
	}
	stmt, err := sql.Parse(stmts[0].Text)
	if err != nil {
		return nil, err
	}
	st, ok := stmt.(*sql.Subscribe)
	if !ok {
		return nil, exec.Errorf(exec.CodeFeatureNotSupported, "not a SUBSCRIBE statement (got %T)", stmt)
	}
	return st, nil
}

// viewQuery finds the running query of materialized view name.
func (e *Engine) viewQuery(name string) (*runningQuery, error) {
	if rq := e.queries.get(name); rq != nil && rq.view {
		return rq, nil
	}
	var msg string
	switch {
	case e.queries.get(name) != nil:
		msg = fmt.Sprintf("%q is a sink, not a materialized view: only materialized views can be subscribed to", name)
	case e.catalog.exists(name):
		msg = fmt.Sprintf("%q is not a materialized view: subscribe to a materialized view, or to a query over a source with SUBSCRIBE TO (SELECT ...)", name)
	default:
		msg = fmt.Sprintf("materialized view %q does not exist", name)
		if best := closestName(name, e.catalog.names(sql.KindMaterializedView)); best != "" {
			msg += fmt.Sprintf("; did you mean %q?", best)
		}
	}
	return nil, errors.New(msg)
}

func (e *Engine) subscribeView(ctx context.Context, name string) (*Subscription, error) {
	rq, err := e.viewQuery(name)
	if err != nil {
		return nil, err
	}
	return e.start(ctx, "materialized view "+name, rq, false)
}

// start subscribes to rq's table and watches its query: a failure ends the subscription.
func (e *Engine) start(ctx context.Context, what string, rq *runningQuery, temp bool) (*Subscription, error) {
	s := &Subscription{e: e, name: rq.name, rq: rq, temp: temp, columns: rq.table.Schema()}
	s.ctx, s.cancel = context.WithCancelCause(ctx)
	sub, err := rq.table.Subscribe(s.ctx, sinks.SubscribeLimits{})
	if err != nil {
		s.cancel(nil)
		if errors.Is(err, sinks.ErrTableClosed) {
			return nil, fmt.Errorf("%s was dropped", what)
		}
		return nil, err
	}
	s.sub = sub
	go func() {
		if err := rq.q.Wait(s.ctx); err != nil && s.ctx.Err() == nil {
			s.cancel(fmt.Errorf("%s failed: %w", what, err))
		}
	}()
	if temp {
		s.name = ""
	}
	return s, nil
}

// Columns are the subscribed view's columns; each change record has them followed by weight.
func (s *Subscription) Columns() *arrow.Schema { return s.columns }

// Run delivers the subscription's changes to fn (see Engine.Subscribe for the record and the
// ways it ends). It may be called once.
func (s *Subscription) Run(fn func(epoch int64, changes arrow.RecordBatch) error) error {
	for {
		c, err := s.sub.Next(s.ctx)
		if err != nil {
			return s.ended(err)
		}
		err = fn(c.Epoch, c.Rec)
		c.Rec.Release()
		if err != nil {
			return err
		}
	}
}

// ended turns the error that ended the feed into what Run returns.
func (s *Subscription) ended(err error) error {
	switch {
	case errors.Is(err, sinks.ErrTableClosed):
		if s.temp {
			return errors.New("SUBSCRIBE query stopped: the engine is closing")
		}
		if e := s.e.queries.get(s.name); e != s.rq {
			return fmt.Errorf("materialized view %s was dropped", s.name)
		}
		return fmt.Errorf("materialized view %s stopped", s.name)
	case errors.Is(err, sinks.ErrFellBehind):
		return fmt.Errorf("SUBSCRIBE to %s: %w", s.describe(), err)
	case s.ctx.Err() != nil:
		return context.Cause(s.ctx)
	}
	return err
}

func (s *Subscription) describe() string {
	if s.temp {
		return "query"
	}
	return s.name
}

// Close ends the subscription and stops a query's temporary view. Safe to call more than once.
func (s *Subscription) Close() error {
	s.once.Do(func() {
		s.cancel(sinks.ErrSubscriptionClosed)
		s.sub.Close()
		if s.temp {
			s.err = stopTemp(s.rq)
		}
	})
	return s.err
}

// stopTemp stops a temporary view's query and removes any checkpoint it wrote.
func stopTemp(rq *runningQuery) error {
	err := rq.q.Stop()
	if rq.checkpoint != "" {
		err = errors.Join(err, incremental.RemoveCheckpoint(rq.checkpoint))
	}
	return err
}
