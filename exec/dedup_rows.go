package exec

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Rows from keys. When a row's key is its whole output row in the words layout (SELECT DISTINCT,
// every column a type whose word is its exact value: BIGINT, TIMESTAMP, INTERVAL, DATE, BOOLEAN,
// NULL; not DOUBLE, whose word is normalized), the held keys are the state: a snapshot is built
// from the words, and no input row is kept (no row store, no reference per key, no retained
// input records to release and compact).

// keysAreRows reports whether the keys of a deduplication of out identified by ident (output
// columns) hold its rows exactly.
func keysAreRows(out *arrow.Schema, ident []int, stride int) bool {
	if stride == 0 || len(ident) != out.NumFields() {
		return false
	}
	for i, c := range ident {
		if c != i {
			return false
		}
		switch out.Field(c).Type.ID() {
		case arrow.INT64, arrow.TIMESTAMP, arrow.DURATION, arrow.DATE32, arrow.BOOL, arrow.NULL:
		default:
			return false
		}
	}
	return true
}

// rowsFromKeys builds the snapshot records (schema: the output columns, nullable) of the held
// keys, part by part in key order and each in id order, at most storeChunkRows rows per record;
// an empty state is one empty record.
func (d *Deduplicate) rowsFromKeys(ctx *Ctx, schema *arrow.Schema) ([]arrow.RecordBatch, error) {
	type held struct {
		p  *dedupPart
		id int32
	}
	var all []held
	var ids []int32
	for _, p := range d.sortedParts() {
		ids = p.liveIDs(ids[:0])
		for _, id := range ids {
			all = append(all, held{p, id})
		}
	}
	stride := d.keys.stride
	var recs []arrow.RecordBatch
	for lo := 0; lo < len(all) || lo == 0; lo += storeChunkRows {
		hi := min(len(all), lo+storeChunkRows)
		cols := make([]arrow.Array, schema.NumFields())
		for c, f := range schema.Fields() {
			b := array.NewBuilder(ctx.Mem, f.Type)
			b.Reserve(hi - lo)
			for _, h := range all[lo:hi] {
				w := h.p.set.words[int(h.id)*stride : int(h.id+1)*stride]
				if w[stride-1]&(1<<c) != 0 {
					b.AppendNull()
					continue
				}
				switch b := b.(type) {
				case *array.Int64Builder:
					b.UnsafeAppend(int64(w[c]))
				case *array.TimestampBuilder:
					b.UnsafeAppend(arrow.Timestamp(w[c]))
				case *array.DurationBuilder:
					b.UnsafeAppend(arrow.Duration(w[c]))
				case *array.Date32Builder:
					b.UnsafeAppend(arrow.Date32(int32(int64(w[c]))))
				case *array.BooleanBuilder:
					b.UnsafeAppend(w[c] != 0)
				case *array.NullBuilder:
					b.AppendNull()
				default:
					b.Release()
					releaseArrays(cols[:c])
					releaseRecords(recs)
					return nil, fmt.Errorf("internal: deduplication cannot rebuild a %s column from its keys", TypeName(f.Type))
				}
			}
			cols[c] = b.NewArray()
			b.Release()
		}
		recs = append(recs, array.NewRecordBatch(schema, cols, int64(hi-lo)))
		releaseArrays(cols)
	}
	return recs, nil
}
