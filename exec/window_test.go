package exec_test

import (
	"fmt"
	"testing"

	"github.com/streamsql/streamsql/exec"
)

// TestWindowFunctions checks each window function on a hand-computed partitioned input with ties
// and NULLs, fed in small batches (the operator must see the whole input before computing).
func TestWindowFunctions(t *testing.T) {
	// columns: partition key, order key, value
	in := opSchema(exec.String, exec.Int64, exec.Int64)
	rows := [][]exec.Datum{
		{"a", int64(1), int64(10)}, {"b", int64(5), int64(7)}, {"a", int64(2), nil}, {"a", int64(2), int64(30)},
		{"a", int64(3), int64(40)}, {nil, int64(1), int64(1)}, {"b", int64(6), int64(8)},
	}
	unb := exec.FrameBound{Unbounded: true}
	funcs := []exec.WindowFunc{
		{Name: "row_number", Arg: -1, Def: -1, Type: exec.Int64},
		{Name: "rank", Arg: -1, Def: -1, Type: exec.Int64},
		{Name: "dense_rank", Arg: -1, Def: -1, Type: exec.Int64},
		{Name: "ntile", Arg: -1, Def: -1, N: 3, Type: exec.Int64},
		{Name: "lag", Arg: 2, Def: -1, N: 1, Type: exec.Int64},
		{Name: "lead", Arg: 2, Def: 1, N: 1, Type: exec.Int64},
		{Name: "sum", Arg: 2, Def: -1, Type: exec.Int64},                                                               // default frame: peers included
		{Name: "count", Arg: -1, Def: -1, Type: exec.Int64, Frame: exec.WindowFrame{Rows: true, Start: unb, End: unb}}, // count(*) over the partition
		{Name: "max", Arg: 2, Def: -1, Type: exec.Int64, Frame: exec.WindowFrame{Rows: true, Start: exec.FrameBound{Offset: -1}, End: exec.FrameBound{Offset: 0}}},
		{Name: "first_value", Arg: 2, Def: -1, Type: exec.Int64},
		{Name: "last_value", Arg: 2, Def: -1, Type: exec.Int64},
		{Name: "avg", Arg: 2, Def: -1, Type: exec.Float64, Frame: exec.WindowFrame{Rows: true, Start: exec.FrameBound{Offset: 0}, End: unb}},
	}
	op, err := exec.NewWindow(in, []int{0}, []exec.SortKey{{Col: 1}}, funcs)
	if err != nil {
		t.Fatal(err)
	}
	got := opRunUnary(t, op, in, rows, 2)
	var lines []string
	for _, r := range got {
		lines = append(lines, fmt.Sprint(r))
	}
	// Partitions sort with NULL last; rows (2, nil) and (2, 30) are peers and keep input order.
	want := []string{
		"[a 1 10 1 1 1 1 <nil> <nil> 10 4 10 10 10 26.666666666666668]",
		"[a 2 <nil> 2 2 2 1 10 30 40 4 10 10 30 35]",
		"[a 2 30 3 2 2 2 <nil> 40 40 4 30 10 30 35]",
		"[a 3 40 4 4 3 3 30 3 80 4 40 10 40 40]",
		"[b 5 7 1 1 1 1 <nil> 8 7 2 7 7 7 7.5]",
		"[b 6 8 2 2 2 2 7 6 15 2 8 7 8 8]",
		"[<nil> 1 1 1 1 1 1 <nil> 1 1 1 1 1 1 1]",
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d rows:\n%v", len(lines), lines)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("row %d:\n got %s\nwant %s", i, lines[i], want[i])
		}
	}
	if _, err := exec.NewWindow(in, nil, nil, []exec.WindowFunc{{Name: "sum", Arg: 0, Def: -1, Type: exec.Int64}}); err == nil {
		t.Errorf("sum over VARCHAR accepted")
	}
	empty, err := exec.NewWindow(in, []int{0}, nil, funcs[:1])
	if err != nil {
		t.Fatal(err)
	}
	if got := opRunUnary(t, empty, in, nil, 2); len(got) != 0 {
		t.Errorf("empty input gave %v", got)
	}
}
