package incremental

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sinks"
	"github.com/streamsql/streamsql/sources"
)

// fakeStream is a planner.StreamingTable for hand-built plans: its name marks it as a stream,
// and opening it (which only a batch lowering would do) is an error.
type fakeStream struct {
	name   string
	schema *arrow.Schema
}

func (f *fakeStream) Schema() *arrow.Schema { return f.schema }
func (f *fakeStream) StreamName() string    { return f.name }
func (f *fakeStream) Open([]int) (exec.Source, error) {
	return nil, errNotOpenable
}

type openError string

func (e openError) Error() string { return string(e) }

const errNotOpenable = openError("a fake stream is read through the query's leaves only")

// streamScan is a scan of a fake stream with columns k VARCHAR, v BIGINT, ts TIMESTAMP.
func streamScan(name string) *planner.Scan {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "k", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond}, Nullable: true},
	}, nil)
	cols := make([]planner.Column, schema.NumFields())
	for i, f := range schema.Fields() {
		cols[i] = planner.Column{Name: f.Name, Table: name, Type: f.Type}
	}
	return &planner.Scan{Table: name, Source: &fakeStream{name: name, schema: schema}, Cols: cols}
}

// memStream is a sources.Stream over records appended by the test; an offset is the number of
// records (JSON), so a range is a slice of them.
type memStream struct {
	schema *arrow.Schema
	recs   []arrow.RecordBatch
}

func (m *memStream) Schema() *arrow.Schema { return m.schema }

func (m *memStream) Latest(context.Context, sources.Offset) (sources.Offset, error) {
	return sources.Offset(strconv.Itoa(len(m.recs))), nil
}

func (m *memStream) Read(_ context.Context, from, to sources.Offset, emit func(arrow.RecordBatch) error) error {
	lo, hi := offsetInt(from), offsetInt(to)
	for _, r := range m.recs[lo:hi] {
		if err := emit(r); err != nil {
			return err
		}
	}
	return nil
}

func offsetInt(o sources.Offset) int {
	n, _ := strconv.Atoi(string(o))
	return n
}

func (m *memStream) Commit(sources.Offset) error { return nil }
func (m *memStream) Close() error {
	for _, r := range m.recs {
		r.Release()
	}
	m.recs = nil
	return nil
}

// push appends rows (k, v) with a zero event time.
func (m *memStream) push(t *testing.T, rows ...[2]any) {
	t.Helper()
	b := array.NewRecordBuilder(memory.DefaultAllocator, m.schema)
	defer b.Release()
	for _, r := range rows {
		b.Field(0).(*array.StringBuilder).Append(r[0].(string))
		b.Field(1).(*array.Int64Builder).Append(int64(r[1].(int)))
		b.Field(2).(*array.TimestampBuilder).Append(0)
	}
	m.recs = append(m.recs, b.NewRecordBatch())
}

// fakeSink records what the driver hands it, epoch by epoch, as sorted row strings.
type fakeSink struct {
	mode   sinks.OutputMode
	keys   []int
	epochs map[int64][]string
	closed bool
}

func (f *fakeSink) Open(_ *arrow.Schema, mode sinks.OutputMode, keys []int) error {
	f.mode, f.keys, f.epochs = mode, keys, map[int64][]string{}
	return nil
}

// Write records each row as "<weight> <cells>" (weight +1 for nil weights).
func (f *fakeSink) Write(_ context.Context, epoch int64, deltas []exec.Delta) error {
	var rows []string
	for _, d := range deltas {
		r := d.Rec
		for i := 0; i < int(r.NumRows()); i++ {
			cells := make([]string, r.NumCols())
			for c := range cells {
				cells[c] = exec.FormatValue(r.Column(c), i)
			}
			w := int64(1)
			if d.Weights != nil {
				w = d.Weights.Value(i)
			}
			rows = append(rows, fmt.Sprintf("%+d %s", w, strings.Join(cells, "|")))
		}
	}
	sort.Strings(rows)
	f.epochs[epoch] = rows
	return nil
}

func (f *fakeSink) Close() error { f.closed = true; return nil }
