package streamsql

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/incremental"
	"github.com/streamsql/streamsql/sources"
	"github.com/streamsql/streamsql/sql"
)

// durableExec runs the statements that change the durable catalog (CREATE and DROP of tables,
// sources, sinks and views, STOP QUERY) and records them; handled is false for any other
// statement, which execOne runs as usual.
func (e *Engine) durableExec(ctx context.Context, stmt sql.Stmt, text string) (res *Result, err error, handled bool) {
	d := e.durable
	switch s := stmt.(type) {
	case *sql.CreateTable:
		if res, err, done := e.checkRecreate(sql.KindTable, s.Name, s.IfNotExists, text); done {
			return res, err, true
		}
		existed := e.catalog.exists(s.Name)
		if res, err = e.createTable(s); err != nil || existed {
			return res, err, true
		}
		ent, err := d.add(sql.KindTable, s.Name, text)
		if err != nil {
			_ = e.catalog.drop(s.Name, true)
			return nil, err, true
		}
		if t, ok := e.catalog.get(s.Name); ok && t.file == nil {
			if err := e.attachWAL(t, ent); err != nil {
				_ = e.catalog.drop(s.Name, true)
				_, _, _ = d.remove(s.Name)
				return nil, err, true
			}
		}
		return res, nil, true
	case *sql.CreateSource:
		if res, err, done := e.checkRecreate(sql.KindSource, s.Name, s.IfNotExists, text); done {
			return res, err, true
		}
		existed := e.catalog.exists(s.Name)
		if res, err = e.createSource(s); err != nil || existed {
			return res, err, true
		}
		if _, err := d.add(sql.KindSource, s.Name, text); err != nil {
			_ = e.catalog.dropSource(s.Name, true)
			return nil, err, true
		}
		return res, nil, true
	case *sql.CreateSink:
		kind := kindOf(s)
		if res, err, done := e.checkRecreate(kind, s.Name, s.IfNotExists, text); done {
			if err == nil {
				if rq := e.queries.get(s.Name); rq != nil && rq.q.Trigger().AvailableNow {
					if werr := rq.q.Wait(ctx); werr != nil {
						return nil, fmt.Errorf("query %s: %w", s.Name, werr), true
					}
				}
			}
			return res, err, true
		}
		existed := e.queries.get(s.Name) != nil || e.catalog.exists(s.Name)
		if existed {
			return e.createSinkRecorded(ctx, s)
		}
		return e.createSinkRecorded(ctx, s, text)
	case *sql.CreateView:
		_, replacing := e.catalog.plainView(s.Name)
		before := d.snapshot()
		if res, err = e.createView(s); err != nil {
			return nil, err, true
		}
		if replacing {
			if _, _, err = d.remove(s.Name); err == nil {
				_, err = d.add(sql.KindView, s.Name, text)
			}
		} else {
			_, err = d.add(sql.KindView, s.Name, text)
		}
		if err != nil {
			if rerr := d.restore(before); rerr != nil {
				err = errors.Join(err, rerr)
			}
			return nil, err, true
		}
		return res, nil, true
	case *sql.Drop:
		if s.Kind == sql.KindView {
			res, err = e.execDropView(s) // removes the entries of the views it drops
			return res, err, true
		}
		// The entry goes first: a crash between forgetting the object and removing its
		// checkpoint must not bring the object back without its checkpoint (a sink would then
		// start over and write its input again). A DROP that is refused (a source still read,
		// an object of another kind) leaves the catalog as it was.
		ent, found := d.entry(s.Name)
		if found && ent.Kind == string(s.Kind) && d.unrestoredReason(s.Name) != "" {
			return e.dropUnrestored(ent)
		}
		if !found || ent.Kind != string(s.Kind) || (s.Kind == sql.KindSource && len(e.queries.readers(s.Name)) > 0) {
			res, err = e.execDrop(s)
			return res, err, true
		}
		before := d.snapshot()
		if _, _, err := d.remove(s.Name); err != nil {
			return nil, err, true
		}
		if res, err = e.execDrop(s); err != nil {
			if rerr := d.restore(before); rerr != nil {
				err = errors.Join(err, rerr)
			}
			return nil, err, true
		}
		if ent.Kind == string(sql.KindTable) {
			d.mu.Lock()
			w := d.wals[s.Name]
			delete(d.wals, s.Name)
			d.mu.Unlock()
			if w != nil {
				w.close()
			}
			if err := os.RemoveAll(d.tableDir(ent.ID)); err != nil {
				return nil, fmt.Errorf("table %s was dropped, but its rows could not be removed: %w", s.Name, err), true
			}
		}
		return res, nil, true
	case *sql.StopQuery:
		if e.queries.get(s.Name) == nil {
			return nil, nil, false // the usual error
		}
		// Recorded first: once STOP QUERY returns, a crash must not start the query again.
		if err := d.setStatus(s.Name, string(incremental.StatusStopped), ""); err != nil {
			return nil, err, true
		}
		res, err = e.stopQuery(s, text)
		return res, err, true
	}
	return nil, nil, false
}

// createSinkRecorded starts a sink or view and, when text is given, records it once its query
// runs (an available_now query is recorded before CREATE waits for it to finish).
func (e *Engine) createSinkRecorded(ctx context.Context, s *sql.CreateSink, text ...string) (*Result, error, bool) {
	rq, err := e.startQuery(s, false)
	if err != nil || rq == nil {
		if err == nil {
			return &Result{Tag: createTag(s)}, nil, true // IF NOT EXISTS of a name in use
		}
		return nil, err, true
	}
	if len(text) > 0 {
		if _, err := e.durable.add(kindOf(s), s.Name, text[0]); err != nil {
			_, _ = e.dropQuery(&sql.Drop{Kind: kindOf(s), Name: s.Name})
			return nil, err, true
		}
		e.watchQuery(rq)
	}
	if rq.q.Trigger().AvailableNow {
		if err := rq.q.Wait(ctx); err != nil {
			return nil, fmt.Errorf("query %s: %w", s.Name, err), true
		}
	}
	return &Result{Tag: createTag(s)}, nil, true
}

// checkRecreate applies the rule for a plain CREATE (no IF NOT EXISTS) of an object that Open
// restored from the catalog: the same definition (compared without comments, layout and case
// of bare words) is a no-op with a notice, so a script re-run on its data directory keeps
// working; another definition is error 42P07 naming the object. done is false when the rule
// does not apply (the statement runs as usual).
func (e *Engine) checkRecreate(kind sql.ObjectKind, name string, ifNotExists bool, text string) (*Result, error, bool) {
	d := e.durable
	d.mu.Lock()
	restored := d.restored[name]
	_, unrestored := d.unrestored[name]
	d.mu.Unlock()
	if (ifNotExists && !unrestored) || !(restored || unrestored) {
		return nil, nil, false
	}
	ent, ok := d.entry(name)
	if !ok {
		return nil, nil, false
	}
	what := strings.ToLower(string(kind))
	if unrestored {
		if ent.Kind != string(kind) || normalizeStatement(ent.SQL) != normalizeStatement(text) {
			if ifNotExists {
				return &Result{Tag: "CREATE " + string(kind)}, nil, true
			}
			return nil, exec.Errorf(exec.CodeDuplicateTable, "%s %q already exists in %s, with another definition, and could not be restored at start (%s); DROP it first", what, name, d.path, d.unrestoredReason(name)), true
		}
		// The same statement again: try to start it now, on its checkpoint.
		stmt, err := sql.Parse(ent.SQL)
		if err != nil {
			return nil, err, true
		}
		cs, ok := stmt.(*sql.CreateSink)
		if !ok {
			return nil, fmt.Errorf("internal: catalog entry %s is not a CREATE SINK or VIEW", name), true
		}
		if err := e.restoreEntry(context.Background(), ent); err != nil {
			return nil, err, true
		}
		d.mu.Lock()
		delete(d.unrestored, name)
		d.restored[name] = true
		d.mu.Unlock()
		return &Result{Tag: createTag(cs)}, nil, true
	}
	if ent.Kind != string(kind) || normalizeStatement(ent.SQL) != normalizeStatement(text) {
		return nil, exec.Errorf(exec.CodeDuplicateTable, "%s %q already exists: it was restored from %s with another definition (DROP it first to change it, or use IF NOT EXISTS)", what, name, d.path), true
	}
	notice := fmt.Sprintf("%s %q already exists with this definition (restored from %s): CREATE skipped", what, name, d.path)
	e.opts.Logger.Info(notice)
	return &Result{Tag: "CREATE " + string(kind), Notices: []string{notice}}, nil, true
}

// attachWAL gives an in-memory table its write-ahead log and loads the rows it holds.
func (e *Engine) attachWAL(t *table, ent catalogEntry) error {
	d := e.durable
	w, recs, err := openTableWAL(d.tableDir(ent.ID), t.schema, e.opts.Allocator, d.snapshotAfter, e.opts.Logger)
	if err != nil {
		return fmt.Errorf("table %s: %w", t.name, err)
	}
	t.mu.Lock()
	for _, r := range recs {
		t.records = append(t.records, relabel(r, t.schema))
		r.Release()
	}
	t.wal = w
	t.mu.Unlock()
	d.mu.Lock()
	d.wals[t.name] = w
	d.mu.Unlock()
	return nil
}

// watchQuery records a query's failure in the catalog when its loop ends with one, so a failed
// query stays failed (with its error) after a restart. A query stopped by Engine.Close is not
// recorded: it resumes.
func (e *Engine) watchQuery(rq *runningQuery) {
	go func() {
		_ = rq.q.Wait(context.Background())
		e.noteFailure(rq)
	}()
}

// noteFailure records rq as failed if it is, and is still the engine's query of that name.
func (e *Engine) noteFailure(rq *runningQuery) {
	if e.durable == nil {
		return
	}
	st, err := rq.q.Status()
	if st != incremental.StatusFailed || err == nil || e.queries.get(rq.name) != rq {
		return
	}
	if serr := e.durable.setStatus(rq.name, string(incremental.StatusFailed), err.Error()); serr != nil {
		e.opts.Logger.Error("recording a failed query in the catalog", "query", rq.name, "error", serr.Error())
	}
}

// restoreCatalog re-creates every object of the durable catalog, in creation order (so each
// comes after the objects it reads): tables with their rows, sources, and sinks and views,
// whose queries resume from their checkpoints; stopped and failed queries come back stopped
// or failed. The first object that cannot be restored stops Open with an error naming it.
func (e *Engine) restoreCatalog() error {
	d := e.durable
	ctx := context.Background()
	for _, ent := range d.entries() {
		if err := e.restoreEntry(ctx, ent); err != nil {
			err = fmt.Errorf("restoring %s %s from %s: %w", strings.ToLower(ent.Kind), ent.Name, d.path, err)
			if ent.Kind != string(sql.KindSink) && ent.Kind != string(sql.KindMaterializedView) {
				return err // a table or source: its loss would change what every query reads
			}
			// A query that cannot start (its database unreachable, its checkpoint damaged)
			// must not keep the server and every other query down: it is reported instead.
			e.opts.Logger.Error("a continuous query could not be restored; it stays in the catalog (SHOW QUERIES lists it as failed): fix the cause and CREATE it again with the same statement, or DROP it", "query", ent.Name, "error", err.Error())
			d.mu.Lock()
			d.unrestored[ent.Name] = err.Error()
			d.mu.Unlock()
			continue
		}
		d.mu.Lock()
		d.restored[ent.Name] = true
		d.mu.Unlock()
	}
	return d.removeOrphanTables()
}

func (e *Engine) restoreEntry(ctx context.Context, ent catalogEntry) error {
	stmt, err := sql.Parse(ent.SQL)
	if err != nil {
		return err
	}
	switch s := stmt.(type) {
	case *sql.CreateTable:
		if _, err := e.createTable(s); err != nil {
			return err
		}
		if t, ok := e.catalog.get(s.Name); ok && t.file == nil {
			return e.attachWAL(t, ent)
		}
		return nil
	case *sql.CreateSource:
		_, err := e.createSource(s)
		return err
	case *sql.CreateView:
		_, err := e.createView(s)
		return err
	case *sql.CreateSink:
		if ent.Status == "" {
			rq, err := e.startQuery(s, false)
			if err != nil {
				return err
			}
			e.watchQuery(rq)
			return nil
		}
		return e.restoreInactive(ctx, s, ent)
	}
	return fmt.Errorf("the catalog holds a statement that creates nothing: %s", ent.SQL)
}

// restoreInactive brings back a stopped or failed query without running it: its query is
// built on its checkpoint with inputs that show no new data, a view is refilled from the
// checkpoint (one epoch that reads nothing), and the query is stopped again. SHOW QUERIES
// reports the recorded status and error.
func (e *Engine) restoreInactive(ctx context.Context, s *sql.CreateSink, ent catalogEntry) error {
	trigger := "default"
	var opts []sql.Option
	for _, o := range s.Options {
		if o.Key == "trigger" {
			trigger = o.Value
			continue
		}
		opts = append(opts, o)
	}
	inactive := *s
	inactive.Options = append(opts, sql.Option{Key: "trigger", Value: "manual"})
	rq, err := e.startQuery(&inactive, true)
	if err != nil {
		return err
	}
	if t, err := incremental.ParseTrigger(trigger); err == nil {
		rq.restoredTrigger = t.String()
	}
	var refill error
	if rq.view {
		refill = rq.q.ProcessAllAvailable(ctx)
	}
	stopErr := rq.q.Stop()
	rq.restoredStatus, rq.restoredError = incremental.Status(ent.Status), ent.Error
	if refill != nil && ent.Status != string(incremental.StatusFailed) {
		return errors.Join(refill, stopErr)
	}
	return stopErr
}

// frozenStream is an input that shows no data beyond what its query has already read: a
// stopped query restored from the catalog may refill its view from the checkpoint but must not
// read anything new.
type frozenStream struct{ sources.Stream }

func (f frozenStream) Latest(_ context.Context, from sources.Offset) (sources.Offset, error) {
	return from, nil
}

// dropUnrestored forgets a sink or view that Open could not start: its catalog entry, then its
// checkpoint.
func (e *Engine) dropUnrestored(ent catalogEntry) (*Result, error, bool) {
	stmt, err := sql.Parse(ent.SQL)
	if err != nil {
		return nil, err, true
	}
	cs, ok := stmt.(*sql.CreateSink)
	if !ok {
		return nil, fmt.Errorf("internal: catalog entry %s is not a CREATE SINK or VIEW", ent.Name), true
	}
	opts := map[string]string{}
	for _, o := range cs.Options {
		opts[o.Key] = o.Value
	}
	if _, _, err := e.durable.remove(ent.Name); err != nil {
		return nil, err, true
	}
	if ckpt := e.checkpointPath(ent.Name, opts); ckpt != "" {
		if err := incremental.RemoveCheckpoint(ckpt); err != nil {
			return nil, err, true
		}
	}
	return &Result{Tag: "DROP " + ent.Kind}, nil, true
}
