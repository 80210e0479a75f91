package sinks

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/exec"
)

// This file turns the weighted deltas a sink receives (exec.Delta: rows with weights, nil weights
// meaning +1 each) into what a sink writes: the inserted rows of append and complete mode
// (InsertedRows), or the net changes of an update-mode epoch (ConsolidateByKey).

// Changes is the net effect of one update-mode epoch on a result table; see ConsolidateByKey.
// Both records have the sink's schema and belong to whoever received the Changes (Release).
type Changes struct {
	// Upserts: with keys, the row each changed key holds after the epoch (one row per key);
	// without keys, one row per copy to insert.
	Upserts arrow.RecordBatch
	// Deletes: with keys, one row per key that holds no row after the epoch (the last row
	// retracted for it; its key columns identify it); without keys, one row per copy to delete
	// (each deletes one row equal to it in every column, NULL equal to NULL).
	Deletes arrow.RecordBatch
}

// Release releases both records.
func (c Changes) Release() {
	if c.Upserts != nil {
		c.Upserts.Release()
	}
	if c.Deletes != nil {
		c.Deletes.Release()
	}
}

// ErrRetractionOutsideUpdate is wrapped by the error of a sink in append or complete mode that
// receives a retraction: only update mode can express a row leaving the result.
var ErrRetractionOutsideUpdate = fmt.Errorf("internal error: a retraction reached a sink outside update mode")

// checkDelta verifies one delta against the schema and its weights against its rows.
func checkDelta(schema *arrow.Schema, d exec.Delta) error {
	if d.Rec == nil {
		return fmt.Errorf("delta without a record")
	}
	if int(d.Rec.NumCols()) != schema.NumFields() {
		return fmt.Errorf("record has %d columns, the output schema %d", d.Rec.NumCols(), schema.NumFields())
	}
	if d.Weights != nil && int64(d.Weights.Len()) != d.Rec.NumRows() {
		return fmt.Errorf("delta has %d rows but %d weights", d.Rec.NumRows(), d.Weights.Len())
	}
	if d.Weights != nil && d.Weights.NullN() > 0 {
		return fmt.Errorf("delta has a NULL weight")
	}
	return nil
}

// allOnes says every row of d has weight +1.
func allOnes(d exec.Delta) bool {
	if d.Weights == nil {
		return true
	}
	for _, w := range d.Weights.Int64Values() {
		if w != 1 {
			return false
		}
	}
	return true
}

func weightAt(d exec.Delta, i int) int64 {
	if d.Weights == nil {
		return 1
	}
	return d.Weights.Value(i)
}

// InsertedRows returns the rows of an append- or complete-mode epoch as records of schema owned
// by the caller (Release each): a row of weight n > 1 appears n times, weight 0 not at all. A
// negative weight is an error wrapping ErrRetractionOutsideUpdate naming the mode and the row.
// deltas are borrowed.
func InsertedRows(mem memory.Allocator, schema *arrow.Schema, mode OutputMode, deltas []exec.Delta) ([]arrow.RecordBatch, error) {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	out := make([]arrow.RecordBatch, 0, len(deltas))
	fail := func(err error) ([]arrow.RecordBatch, error) {
		releaseRecords(out)
		return nil, err
	}
	for _, d := range deltas {
		if err := checkDelta(schema, d); err != nil {
			return fail(err)
		}
		if d.Rec.NumRows() == 0 {
			continue
		}
		if allOnes(d) {
			out = append(out, array.NewRecordBatch(schema, d.Rec.Columns(), d.Rec.NumRows()))
			continue
		}
		var idx []int64
		for i, w := range d.Weights.Int64Values() {
			if w < 0 {
				return fail(fmt.Errorf("%w: %s mode, weight %d for row (%s)", ErrRetractionOutsideUpdate, mode, w, rowString(schema, d.Rec, i)))
			}
			for range w {
				idx = append(idx, int64(i))
			}
		}
		if len(idx) == 0 {
			continue
		}
		rec, err := takeRows(mem, schema, d.Rec, idx)
		if err != nil {
			return fail(err)
		}
		out = append(out, rec)
	}
	return out, nil
}

// takeRows gathers rows idx of rec as a record of schema owned by the caller.
func takeRows(mem memory.Allocator, schema *arrow.Schema, rec arrow.RecordBatch, idx []int64) (arrow.RecordBatch, error) {
	b := array.NewInt64Builder(mem)
	b.AppendValues(idx, nil)
	ia := b.NewArray()
	b.Release()
	defer ia.Release()
	return exec.TakeRecord(&exec.Ctx{Context: context.Background(), Mem: mem}, rec, schema, ia)
}

// rowPos addresses row row of deltas[delta]; seq orders positions as the rows arrived.
type rowPos struct {
	delta, row int
	seq        int64
}

// rowAcc is the net weight of one distinct row (enc: its exec.AppendRowKey encoding, when kept)
// and where it was last seen.
type rowAcc struct {
	enc  string
	net  int64
	last rowPos
}

// keyAcc collects the distinct rows seen for one key: usually one or two (the old and the new
// row), so a slice searched linearly beats a map per key.
type keyAcc struct {
	rows []rowAcc
}

// ConsolidateByKey turns the weighted deltas of one update-mode epoch into at most one change per
// key (keys: column indexes of schema; the whole row when keys is empty).
//
// With keys, rows are grouped by key and, within a key, the weights of equal rows are summed, so
// the outcome does not depend on the order of the deltas: when some row of the key has a positive
// net weight, the latest such row is an upsert; otherwise, when some row has a negative net
// weight, the key is deleted (the change carries the latest retracted row); when everything
// cancels (a row inserted and retracted in the same epoch, or retracted and inserted back), the
// key does not change. Without keys, every distinct row is a key of its own and its net weight n
// becomes n copies in Upserts (n > 0) or -n copies in Deletes (n < 0): multiset semantics, a
// retraction deletes one matching copy.
//
// Rows are compared with exec.AppendRowKey (NULL equals NULL). The result's records have schema
// and belong to the caller; deltas are borrowed. Upserts and Deletes are in arrival order of the
// row that decided them, so the result is deterministic.
func ConsolidateByKey(mem memory.Allocator, schema *arrow.Schema, deltas []exec.Delta, keys []int) (Changes, error) {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	for _, k := range keys {
		if k < 0 || k >= schema.NumFields() {
			return Changes{}, fmt.Errorf("key column index %d out of range for %d columns", k, schema.NumFields())
		}
	}
	insertOnly := true
	for _, d := range deltas {
		if err := checkDelta(schema, d); err != nil {
			return Changes{}, err
		}
		insertOnly = insertOnly && allOnes(d)
	}
	var ups, dels []rowPos
	switch {
	case insertOnly && len(keys) == 0:
		// Every row is one inserted copy.
		for di, d := range deltas {
			for i := 0; i < int(d.Rec.NumRows()); i++ {
				ups = append(ups, rowPos{delta: di, row: i})
			}
		}
	case insertOnly:
		// The last row of each key wins.
		last := map[string]rowPos{}
		var order []string
		var buf []byte
		for di, d := range deltas {
			cols := keyColumns(d.Rec, keys)
			for i := 0; i < int(d.Rec.NumRows()); i++ {
				buf = exec.AppendRowKey(buf[:0], cols, i)
				if _, seen := last[string(buf)]; !seen {
					order = append(order, string(buf))
				}
				last[string(buf)] = rowPos{delta: di, row: i}
			}
		}
		if len(order) == countDeltaRows(deltas) {
			ups = make([]rowPos, 0, len(order))
			for di, d := range deltas {
				for i := 0; i < int(d.Rec.NumRows()); i++ {
					ups = append(ups, rowPos{delta: di, row: i})
				}
			}
		} else {
			for _, k := range order {
				ups = append(ups, last[k])
			}
			slices.SortFunc(ups, func(a, b rowPos) int {
				if a.delta != b.delta {
					return a.delta - b.delta
				}
				return a.row - b.row
			})
		}
	case len(keys) == 0:
		ups, dels = consolidateMultiset(deltas)
	default:
		ups, dels = consolidateKeyed(deltas, keys)
	}
	up, err := gather(mem, schema, deltas, ups)
	if err != nil {
		return Changes{}, err
	}
	del, err := gather(mem, schema, deltas, dels)
	if err != nil {
		up.Release()
		return Changes{}, err
	}
	return Changes{Upserts: up, Deletes: del}, nil
}

func countDeltaRows(deltas []exec.Delta) int {
	n := 0
	for _, d := range deltas {
		n += int(d.Rec.NumRows())
	}
	return n
}

// consolidateMultiset sums the weights of equal rows: n > 0 gives n upserted copies, n < 0 -n
// deleted copies.
func consolidateMultiset(deltas []exec.Delta) (ups, dels []rowPos) {
	acc := map[string]*rowAcc{}
	var order []*rowAcc
	var buf []byte
	var seq int64
	for di, d := range deltas {
		cols := d.Rec.Columns()
		for i := 0; i < int(d.Rec.NumRows()); i++ {
			w := weightAt(d, i)
			seq++
			if w == 0 {
				continue
			}
			buf = exec.AppendRowKey(buf[:0], cols, i)
			a := acc[string(buf)]
			if a == nil {
				a = &rowAcc{}
				acc[string(buf)] = a
				order = append(order, a)
			}
			a.net += w
			a.last = rowPos{delta: di, row: i, seq: seq}
		}
	}
	slices.SortFunc(order, func(a, b *rowAcc) int { return cmpSeq(a.last.seq, b.last.seq) })
	for _, a := range order {
		for n := a.net; n > 0; n-- {
			ups = append(ups, a.last)
		}
		for n := a.net; n < 0; n++ {
			dels = append(dels, a.last)
		}
	}
	return ups, dels
}

// consolidateKeyed decides each key's change; see ConsolidateByKey.
func consolidateKeyed(deltas []exec.Delta, keys []int) (ups, dels []rowPos) {
	byKey := map[string]*keyAcc{}
	var keyOrder []*keyAcc
	var kbuf, rbuf []byte
	var seq int64
	for di, d := range deltas {
		kcols := keyColumns(d.Rec, keys)
		cols := d.Rec.Columns()
		for i := 0; i < int(d.Rec.NumRows()); i++ {
			w := weightAt(d, i)
			seq++
			if w == 0 {
				continue
			}
			kbuf = exec.AppendRowKey(kbuf[:0], kcols, i)
			k := byKey[string(kbuf)]
			if k == nil {
				k = &keyAcc{}
				byKey[string(kbuf)] = k
				keyOrder = append(keyOrder, k)
			}
			rbuf = exec.AppendRowKey(rbuf[:0], cols, i)
			j := 0
			for j < len(k.rows) && k.rows[j].enc != string(rbuf) {
				j++
			}
			if j == len(k.rows) {
				k.rows = append(k.rows, rowAcc{enc: string(rbuf)})
			}
			k.rows[j].net += w
			k.rows[j].last = rowPos{delta: di, row: i, seq: seq}
		}
	}
	type decided struct {
		pos    rowPos
		delete bool
	}
	var out []decided
	for _, k := range keyOrder {
		var up, del *rowAcc
		for j := range k.rows {
			a := &k.rows[j]
			switch {
			case a.net > 0 && (up == nil || a.last.seq > up.last.seq):
				up = a
			case a.net < 0 && (del == nil || a.last.seq > del.last.seq):
				del = a
			}
		}
		switch {
		case up != nil:
			out = append(out, decided{pos: up.last})
		case del != nil:
			out = append(out, decided{pos: del.last, delete: true})
		}
	}
	slices.SortFunc(out, func(a, b decided) int { return cmpSeq(a.pos.seq, b.pos.seq) })
	for _, d := range out {
		if d.delete {
			dels = append(dels, d.pos)
		} else {
			ups = append(ups, d.pos)
		}
	}
	return ups, dels
}

func cmpSeq(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// gather builds one record of schema from the rows at pos (an empty record when pos is empty).
func gather(mem memory.Allocator, schema *arrow.Schema, deltas []exec.Delta, pos []rowPos) (arrow.RecordBatch, error) {
	xctx := &exec.Ctx{Context: context.Background(), Mem: mem}
	if len(pos) == 0 {
		return exec.ConcatRecords(xctx, schema, nil)
	}
	// Whole records taken in order need no copy.
	if d := deltas[pos[0].delta]; len(pos) == int(d.Rec.NumRows()) && contiguous(pos) {
		return array.NewRecordBatch(schema, d.Rec.Columns(), d.Rec.NumRows()), nil
	}
	var parts []arrow.RecordBatch
	defer func() { releaseRecords(parts) }()
	for start := 0; start < len(pos); {
		end := start
		var idx []int64
		for end < len(pos) && pos[end].delta == pos[start].delta {
			idx = append(idx, int64(pos[end].row))
			end++
		}
		part, err := takeRows(mem, schema, deltas[pos[start].delta].Rec, idx)
		if err != nil {
			return nil, err
		}
		parts = append(parts, part)
		start = end
	}
	return exec.ConcatRecords(xctx, schema, parts)
}

// contiguous says pos is rows 0, 1, 2, ... of one delta.
func contiguous(pos []rowPos) bool {
	for i, p := range pos {
		if p.delta != pos[0].delta || p.row != i {
			return false
		}
	}
	return true
}

// ChangeRecord returns c as one change record of ChangeSchema(schema) owned by the caller: the
// deleted rows with weight -1, then the upserted rows with weight +1. It is the format of the
// update-mode output of the files sink and of the keyless Kafka sink, like SUBSCRIBE's.
func ChangeRecord(mem memory.Allocator, schema *arrow.Schema, c Changes) (arrow.RecordBatch, error) {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	cs := ChangeSchema(schema)
	var parts []arrow.RecordBatch
	defer func() { releaseRecords(parts) }()
	for _, p := range []struct {
		rec arrow.RecordBatch
		w   int64
	}{{c.Deletes, -1}, {c.Upserts, 1}} {
		n := int(p.rec.NumRows())
		if n == 0 {
			continue
		}
		wb := array.NewInt64Builder(mem)
		wb.Reserve(n)
		for range n {
			wb.UnsafeAppend(p.w)
		}
		weights := wb.NewArray()
		wb.Release()
		cols := append(append([]arrow.Array(nil), p.rec.Columns()...), weights)
		parts = append(parts, array.NewRecordBatch(cs, cols, int64(n)))
		weights.Release()
	}
	return exec.ConcatRecords(&exec.Ctx{Context: context.Background(), Mem: mem}, cs, parts)
}

// checkNoWeightColumn refuses an output whose columns already include the weight column a
// change record adds (connector names the sink in the message).
func checkNoWeightColumn(connector string, schema *arrow.Schema) error {
	for _, f := range schema.Fields() {
		if strings.EqualFold(f.Name, WeightColumn) {
			return fmt.Errorf("%s: update mode writes change records with a %q column, and the query's output already has a column %q: rename it (AS ...)", connector, WeightColumn, f.Name)
		}
	}
	return nil
}
