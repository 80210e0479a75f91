package exec

import (
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/watermark"
)

// Limit skips the first Offset rows of its input and passes at most Count rows (Count < 0: no
// limit). Rows arrive in input order, so over a Sort it implements ORDER BY ... LIMIT/OFFSET.
type Limit struct {
	schema        *arrow.Schema
	count, offset int64
	seen, emitted int64
}

func NewLimit(in *arrow.Schema, count, offset int64) *Limit {
	return &Limit{schema: in, count: count, offset: offset}
}

func (l *Limit) Schema() *arrow.Schema { return l.schema }

func (l *Limit) Push(_ *Ctx, _ int, d Delta, emit Emit) error {
	n := d.Rec.NumRows()
	start := int64(0)
	if l.seen < l.offset {
		start = min(l.offset-l.seen, n)
	}
	l.seen += n
	end := n
	if remaining := l.count - l.emitted; l.count >= 0 && remaining < n-start {
		end = start + remaining // written this way so a huge count cannot overflow
	}
	if end <= start {
		return nil
	}
	l.emitted += end - start
	if start == 0 && end == n {
		return emit(d)
	}
	out := d.Rec.NewSlice(start, end)
	defer out.Release()
	return emit(Delta{Rec: out})
}

// Done reports whether no further row of the current epoch can pass, so a driver may stop
// feeding input early.
func (l *Limit) Done() bool { return l.count >= 0 && l.emitted >= l.count }

// Flush ends the epoch. A limit only runs over whole result tables (batch queries, complete
// mode), so each epoch starts counting afresh.
func (l *Limit) Flush(*Ctx, watermark.Time, Emit) error {
	l.seen, l.emitted = 0, 0
	return nil
}
func (l *Limit) Close() error { return nil }

// Union passes through the records of all its inputs, which have identical schemas (the planner
// casts them), relabelled with the union's schema.
type Union struct{ schema *arrow.Schema }

func NewUnion(schema *arrow.Schema) *Union { return &Union{schema: schema} }

func (u *Union) Schema() *arrow.Schema { return u.schema }

func (u *Union) Push(_ *Ctx, _ int, d Delta, emit Emit) error {
	rec := relabel(d.Rec, u.schema)
	defer rec.Release()
	return emit(Delta{Rec: rec, Weights: d.Weights})
}

func (u *Union) Flush(*Ctx, watermark.Time, Emit) error { return nil }
func (u *Union) Close() error                           { return nil }
