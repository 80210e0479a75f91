package state

import (
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Merging a base with changelogs by key.
//
// Only the changed keys are indexed (a map from the key's bytes), so the merge holds memory for
// the changes, not for the base, which is streamed: a base row whose key changed is replaced in
// place by the key's latest row (or dropped when its last change deletes it); a key created
// after the base, or deleted and created again, comes after the base rows, in the order it
// (re)appeared. That is the order the operator's own ids had, so emissions after a restore come
// out in the same order as without it.

type changeEntry struct {
	log, rec, row int32 // where the latest row is: changelog, record, row
	seq           int   // order of (re)appearance
	deleted       bool  // the latest change deletes the key
	moved         bool  // deleted at some point: a base row of the key is stale
}

// runBuilder collects rows as runs of consecutive rows of one record and cuts them into merged
// records of at most mergeChunkRows rows.
type runBuilder struct {
	mem    memory.Allocator
	schema *arrow.Schema
	ncols  int
	src    arrow.RecordBatch
	start  int
	n      int
	parts  [][]arrow.Array // per column, slices of the pending chunk
	rows   int
	out    []arrow.RecordBatch
	err    error
}

func (b *runBuilder) add(src arrow.RecordBatch, row int) {
	if b.src == src && b.start+b.n == row {
		b.n++
		if b.rows+b.n >= mergeChunkRows {
			b.cut()
		}
		return
	}
	b.cut()
	b.src, b.start, b.n = src, row, 1
}

// cut turns the current run into slices.
func (b *runBuilder) cut() {
	if b.n == 0 {
		return
	}
	if b.parts == nil {
		b.parts = make([][]arrow.Array, b.ncols)
	}
	for c := 0; c < b.ncols; c++ {
		b.parts[c] = append(b.parts[c], array.NewSlice(b.src.Column(c), int64(b.start), int64(b.start+b.n)))
	}
	b.rows += b.n
	b.src, b.n = nil, 0
	if b.rows >= mergeChunkRows {
		b.finish()
	}
}

// finish concatenates the pending slices into one record.
func (b *runBuilder) finish() {
	if b.rows == 0 || b.err != nil {
		b.releaseParts()
		return
	}
	cols := make([]arrow.Array, b.ncols)
	for c := range cols {
		if len(b.parts[c]) == 1 {
			cols[c] = b.parts[c][0]
			cols[c].Retain()
		} else {
			a, err := array.Concatenate(b.parts[c], b.mem)
			if err != nil {
				b.err = err
				releaseAll(cols[:c])
				b.releaseParts()
				return
			}
			cols[c] = a
		}
	}
	b.out = append(b.out, array.NewRecordBatch(b.schema, cols, int64(b.rows)))
	releaseAll(cols)
	b.releaseParts()
}

func (b *runBuilder) releaseParts() {
	for _, p := range b.parts {
		releaseAll(p)
	}
	b.parts, b.rows = nil, 0
}

// mergeByKey applies logs (changelog records, oldest first) to base and returns the records of
// schema (the state's columns, without the deleted column); keyCols leading columns are the key.
func mergeByKey(mem memory.Allocator, schema *arrow.Schema, keyCols int, base []arrow.RecordBatch, logs [][]arrow.RecordBatch) ([]arrow.RecordBatch, error) {
	ncols := schema.NumFields()
	index := map[string]int{}
	var entries []changeEntry
	var key []byte
	seq := 0
	for li, recs := range logs {
		for ri, r := range recs {
			del, ok := r.Column(ncols).(*array.Boolean)
			if !ok {
				return nil, fmt.Errorf("changelog: the %s column is not BOOLEAN", DeletedColumn)
			}
			keys := r.Columns()[:keyCols]
			for row := 0; row < int(r.NumRows()); row++ {
				key = appendKey(key[:0], keys, row)
				i, seen := index[string(key)]
				if !seen {
					i = len(entries)
					index[string(key)] = i
					entries = append(entries, changeEntry{deleted: true})
				}
				e := &entries[i]
				if del.Value(row) {
					e.deleted, e.moved = true, true
					continue
				}
				if e.deleted {
					e.seq = seq
					seq++
				}
				e.deleted = false
				e.log, e.rec, e.row = int32(li), int32(ri), int32(row)
			}
		}
	}
	b := &runBuilder{mem: mem, schema: schema, ncols: ncols}
	inBase := make([]bool, len(entries))
	for _, r := range base {
		keys := r.Columns()[:keyCols]
		for row := 0; row < int(r.NumRows()); row++ {
			key = appendKey(key[:0], keys, row)
			i, changed := index[string(key)]
			if !changed {
				b.add(r, row)
				continue
			}
			if inBase[i] {
				b.cut()
				b.finish()
				releaseRecs(b.out)
				return nil, fmt.Errorf("checkpoint state is damaged: a base snapshot holds a key twice")
			}
			inBase[i] = true
			if e := entries[i]; !e.deleted && !e.moved {
				b.add(logs[e.log][e.rec], int(e.row))
			}
		}
	}
	var tail []int
	for i, e := range entries {
		if !e.deleted && (!inBase[i] || e.moved) {
			tail = append(tail, i)
		}
	}
	sort.Slice(tail, func(x, y int) bool { return entries[tail[x]].seq < entries[tail[y]].seq })
	for _, i := range tail {
		e := entries[i]
		b.add(logs[e.log][e.rec], int(e.row))
	}
	b.cut()
	b.finish()
	if b.err != nil {
		releaseRecs(b.out)
		return nil, b.err
	}
	if len(b.out) == 0 {
		// One empty record keeps the schema (and its metadata) for the reader.
		cols := emptyColumns(mem, schema)
		b.out = append(b.out, array.NewRecordBatch(schema, cols, 0))
		releaseAll(cols)
	}
	return b.out, nil
}

func emptyColumns(mem memory.Allocator, schema *arrow.Schema) []arrow.Array {
	cols := make([]arrow.Array, schema.NumFields())
	for i, f := range schema.Fields() {
		cols[i] = nullArray(mem, f.Type, 0)
	}
	return cols
}

// appendKey appends an encoding of row's values in cols that is equal for equal keys and
// different for different ones (within one column layout): per column a NULL marker, then the
// value's bytes (fixed-width types) or its length and bytes (strings, binary) or, for other
// types, its text form.
func appendKey(buf []byte, cols []arrow.Array, row int) []byte {
	for _, c := range cols {
		if c.IsNull(row) {
			buf = append(buf, 0)
			continue
		}
		buf = append(buf, 1)
		switch a := c.(type) {
		case *array.String:
			v := a.Value(row)
			buf = binary.AppendUvarint(buf, uint64(len(v)))
			buf = append(buf, v...)
		case *array.LargeString:
			v := a.Value(row)
			buf = binary.AppendUvarint(buf, uint64(len(v)))
			buf = append(buf, v...)
		case *array.Binary:
			v := a.Value(row)
			buf = binary.AppendUvarint(buf, uint64(len(v)))
			buf = append(buf, v...)
		case *array.Boolean:
			if a.Value(row) {
				buf = append(buf, 1)
			} else {
				buf = append(buf, 0)
			}
		default:
			fw, ok := c.DataType().(arrow.FixedWidthDataType)
			bufs := c.Data().Buffers()
			if ok && fw.BitWidth() >= 8 && fw.BitWidth()%8 == 0 && len(bufs) == 2 && bufs[1] != nil {
				w := fw.BitWidth() / 8
				off := (c.Data().Offset() + row) * w
				buf = append(buf, bufs[1].Bytes()[off:off+w]...)
				continue
			}
			v := c.ValueStr(row)
			buf = binary.AppendUvarint(buf, uint64(len(v)))
			buf = append(buf, v...)
		}
	}
	return buf
}

// nullArray is n NULLs of type t (through a builder: array.MakeArrayOfNull leaks the children of
// nested types in this Arrow version).
func nullArray(mem memory.Allocator, t arrow.DataType, n int) arrow.Array {
	b := array.NewBuilder(mem, t)
	defer b.Release()
	b.AppendNulls(n)
	return b.NewArray()
}
