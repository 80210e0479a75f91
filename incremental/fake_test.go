package incremental

import (
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
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
