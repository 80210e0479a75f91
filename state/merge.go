package state

import (
	"encoding/binary"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Merging a base with changelogs by key.
//
// Only the changed keys are indexed (keyindex.go), so the merge holds memory for the changes,
// not for the base, which is streamed record by record: a base row whose key changed is
// replaced in place by the key's latest row (or dropped when its last change deletes it); a key
// created after the base, or deleted and created again, comes after the base rows, in the order
// it (re)appeared. That is the order the operator's own ids had, so emissions after a restore
// come out in the same order as without it.

// recordSource hands out records one at a time: each is valid until the next call (the merge
// retains what it keeps), and (nil, nil) ends it. A recordStream is one, with its contract: what
// the merge made of the records is not to be used before the source reported the end.
type recordSource interface {
	Next() (arrow.RecordBatch, error)
}

// runBuilder collects rows as runs of consecutive rows of one record and cuts them into merged
// records of at most mergeChunkRows rows, each handed to emit (and released after it returns), so
// a caller that writes them out holds one merged record at a time, not a second copy of the
// state. Fixed-width columns are gathered by copying the runs' bytes; other columns are sliced
// and concatenated.
type runBuilder struct {
	mem     memory.Allocator
	schema  *arrow.Schema
	ncols   int
	cur     run
	runs    []run // of the pending chunk
	rows    int
	emit    func(arrow.RecordBatch) error
	emitted int
	err     error
	// held: the source records the pending runs point into, retained until the chunk is built
	// (a streamed base record would otherwise be gone by then).
	held []arrow.RecordBatch
}

type run struct {
	src      arrow.RecordBatch
	start, n int
}

func (b *runBuilder) add(src arrow.RecordBatch, row int) {
	if b.cur.src == src && b.cur.start+b.cur.n == row {
		b.cur.n++
		if b.rows+b.cur.n >= mergeChunkRows {
			b.cut()
		}
		return
	}
	b.cut()
	b.cur = run{src: src, start: row, n: 1}
	if len(b.held) == 0 || b.held[len(b.held)-1] != src {
		src.Retain()
		b.held = append(b.held, src)
	}
}

// release lets go of the held source records.
func (b *runBuilder) release() {
	releaseRecs(b.held)
	b.held = b.held[:0]
}

// cut ends the current run.
func (b *runBuilder) cut() {
	if b.cur.n == 0 {
		return
	}
	b.runs = append(b.runs, b.cur)
	b.rows += b.cur.n
	b.cur = run{}
	if b.rows >= mergeChunkRows {
		b.finish()
	}
}

// finish turns the pending runs into one record.
func (b *runBuilder) finish() {
	defer b.release()
	if b.rows == 0 || b.err != nil {
		b.runs, b.rows = b.runs[:0], 0
		return
	}
	cols := make([]arrow.Array, b.ncols)
	for c := range cols {
		a, err := b.gather(c)
		if err != nil {
			b.err = err
			releaseAll(cols[:c])
			b.runs, b.rows = b.runs[:0], 0
			return
		}
		cols[c] = a
	}
	rec := array.NewRecordBatch(b.schema, cols, int64(b.rows))
	releaseAll(cols)
	b.runs, b.rows = b.runs[:0], 0
	b.err = b.emit(rec)
	rec.Release()
	b.emitted++
}

// gather builds column c of the pending runs.
func (b *runBuilder) gather(c int) (arrow.Array, error) {
	t := b.schema.Field(c).Type
	if fw, ok := t.(arrow.FixedWidthDataType); ok && fw.BitWidth() >= 8 && fw.BitWidth()%8 == 0 && t.ID() != arrow.FIXED_SIZE_LIST {
		return b.gatherFixed(c, t, fw.BitWidth()/8), nil
	}
	if len(b.runs) == 1 {
		r := b.runs[0]
		return array.NewSlice(r.src.Column(c), int64(r.start), int64(r.start+r.n)), nil
	}
	parts := make([]arrow.Array, len(b.runs))
	for i, r := range b.runs {
		parts[i] = array.NewSlice(r.src.Column(c), int64(r.start), int64(r.start+r.n))
	}
	defer releaseAll(parts)
	return array.Concatenate(parts, b.mem)
}

func (b *runBuilder) gatherFixed(c int, t arrow.DataType, w int) arrow.Array {
	n := b.rows
	vals := memory.NewResizableBuffer(b.mem)
	vals.Resize(n * w)
	dst := vals.Bytes()
	nulls := 0
	for _, r := range b.runs {
		nulls += r.src.Column(c).NullN()
	}
	var valid *memory.Buffer
	var vbits []byte
	if nulls > 0 {
		valid = memory.NewResizableBuffer(b.mem)
		valid.Resize(int(bitutil.BytesForBits(int64(n))))
		vbits = valid.Bytes()
		clear(vbits)
	}
	pos := 0
	for _, r := range b.runs {
		col := r.src.Column(c)
		d := col.Data()
		off := d.Offset() + r.start
		if src := d.Buffers()[1]; src != nil {
			copy(dst[pos*w:(pos+r.n)*w], src.Bytes()[off*w:(off+r.n)*w])
		}
		if vbits != nil {
			for k := 0; k < r.n; k++ {
				if col.IsValid(r.start + k) {
					bitutil.SetBit(vbits, pos+k)
				}
			}
		}
		pos += r.n
	}
	data := array.NewData(t, n, []*memory.Buffer{valid, vals}, nil, nulls, 0)
	a := array.MakeFromData(data)
	data.Release()
	vals.Release()
	if valid != nil {
		valid.Release()
	}
	return a
}

// mergeByKeyTo applies logs (changelog records, oldest first) to base and hands the merged
// records of schema (the state's columns, without the deleted column; keyCols leading columns
// are the key) to emit in order, one at a time; emit must Retain a record it keeps. At least one record (empty, for the schema) is emitted unless
// an error stops the merge; after an error the records emitted so far are not the state. base
// may be nil (the empty state). hash is the key index's hash function (nil: the default; tests
// pass a weak one to force collisions).
func mergeByKeyTo(mem memory.Allocator, schema *arrow.Schema, keyCols int, base recordSource, logs [][]arrow.RecordBatch, hash func([]byte) uint64, emit func(arrow.RecordBatch) error) error {
	ncols := schema.NumFields()
	var recs []arrow.RecordBatch
	rows := 0
	for _, l := range logs {
		for _, r := range l {
			recs = append(recs, r)
			rows += int(r.NumRows())
		}
	}
	ix, err := newKeyIndex(recs, keyCols, rows, hash)
	if err != nil {
		return err
	}
	var key []byte
	seq := uint32(0)
	for ri, r := range recs {
		del, ok := r.Column(ncols).(*array.Boolean)
		if !ok {
			return fmt.Errorf("changelog: the %s column is not BOOLEAN", DeletedColumn)
		}
		keys := r.Columns()[:keyCols]
		for row := 0; row < int(r.NumRows()); row++ {
			key = appendKey(key[:0], keys, row)
			h := ix.hash(key)
			i, slot := ix.find(key, h)
			if i < 0 {
				i = ix.add(slot, h, uint32(ri), uint32(row))
			}
			e := &ix.entries[i]
			e.rec, e.row = uint32(ri), uint32(row)
			if del.Value(row) {
				e.deleted, e.moved = true, true
				continue
			}
			if e.deleted {
				e.seq = seq
				seq++
			}
			e.deleted = false
		}
	}
	b := &runBuilder{mem: mem, schema: schema, ncols: ncols, emit: emit}
	defer b.release()
	for base != nil {
		r, err := base.Next()
		if err != nil {
			return err
		}
		if r == nil {
			break
		}
		if int(r.NumCols()) < keyCols {
			return fmt.Errorf("checkpoint state is damaged: a base record has %d columns, the key %d", r.NumCols(), keyCols)
		}
		keys := r.Columns()[:keyCols]
		for row := 0; row < int(r.NumRows()); row++ {
			key = appendKey(key[:0], keys, row)
			i, _ := ix.find(key, ix.hash(key))
			if i < 0 {
				b.add(r, row)
				continue
			}
			e := &ix.entries[i]
			if e.inBase {
				return fmt.Errorf("checkpoint state is damaged: a base snapshot holds a key twice")
			}
			e.inBase = true
			if !e.deleted && !e.moved {
				b.add(recs[e.rec], int(e.row))
			}
		}
		if b.err != nil {
			return b.err
		}
	}
	// The keys that come after the base rows, by seq: each seq is given once, so a slot per seq
	// puts them in order without a sort.
	tail := make([]uint32, seq)
	for i, e := range ix.entries {
		if !e.deleted && (!e.inBase || e.moved) {
			tail[e.seq] = uint32(i + 1)
		}
	}
	for _, v := range tail {
		if v != 0 {
			e := ix.entries[v-1]
			b.add(recs[e.rec], int(e.row))
		}
	}
	b.cut()
	b.finish()
	if b.err != nil {
		return b.err
	}
	if b.emitted == 0 {
		// One empty record keeps the schema (and its metadata) for the reader.
		cols := emptyColumns(mem, schema)
		rec := array.NewRecordBatch(schema, cols, 0)
		releaseAll(cols)
		defer rec.Release()
		return emit(rec)
	}
	return nil
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
