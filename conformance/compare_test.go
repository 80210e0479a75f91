package conformance

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Cell spellings shared by every executor.
const (
	nullCell  = "NULL"
	emptyCell = "(empty)"
)

// relTolerance is the relative difference under which two R cells are equal.
const relTolerance = 1e-9

// splitRow cuts an expected or actual row into n cells. Rows are written with single spaces between
// cells, so a row only splits unambiguously when no cell contains a space: when the split does not
// give n cells, ok is false and the row is compared as a whole string.
func splitRow(row string, n int) (cells []string, ok bool) {
	if n == 1 {
		return []string{row}, true
	}
	cells = strings.Split(row, " ")
	return cells, len(cells) == n
}

// canonicalCell rewrites a cell so that equal values of the column type have equal text: numbers
// of I/R columns get one spelling (so rowsort orders both sides alike). Other cells are unchanged.
func canonicalCell(typ byte, cell string) string {
	if typ != 'I' && typ != 'R' {
		return cell
	}
	f, err := strconv.ParseFloat(cell, 64)
	if err != nil {
		return cell
	}
	if f == 0 {
		f = 0 // -0 and 0 are the same number
	}
	if typ == 'I' && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', 15, 64)
}

// canonicalRows canonicalizes every row for types and sorts the rows when rowsort is set.
func canonicalRows(rows []string, types string, rowsort bool) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		cells, ok := splitRow(r, len(types))
		if !ok {
			out[i] = r
			continue
		}
		for c := range cells {
			cells[c] = canonicalCell(types[c], cells[c])
		}
		out[i] = strings.Join(cells, " ")
	}
	if rowsort {
		sort.Strings(out)
	}
	return out
}

// cellsEqual compares one expected cell with one actual cell of a column type.
func cellsEqual(typ byte, want, got string) bool {
	if want == got {
		return true
	}
	if typ != 'I' && typ != 'R' {
		return false
	}
	w, err1 := strconv.ParseFloat(want, 64)
	g, err2 := strconv.ParseFloat(got, 64)
	if err1 != nil || err2 != nil {
		return false
	}
	if typ == 'I' || w == g {
		return w == g
	}
	return math.Abs(w-g) <= relTolerance*math.Max(math.Abs(w), math.Abs(g))
}

// rowsEqual compares canonicalized rows.
func rowsEqual(types string, want, got string) bool {
	if want == got {
		return true
	}
	wc, ok1 := splitRow(want, len(types))
	gc, ok2 := splitRow(got, len(types))
	if !ok1 || !ok2 {
		return false
	}
	for i := range wc {
		if !cellsEqual(types[i], wc[i], gc[i]) {
			return false
		}
	}
	return true
}

// compareResult checks actual rows (cells already formatted) against a query record and returns a
// readable description of the difference, or "" when they match.
func compareResult(rec *record, got [][]string) string {
	if rec.contains {
		return compareContains(rec, got)
	}
	for i, row := range got {
		if len(row) != len(rec.types) {
			return fmt.Sprintf("row %d has %d columns but the record declares %d types (%q)", i+1, len(row), len(rec.types), rec.types)
		}
	}
	gotRows := make([]string, len(got))
	for i, row := range got {
		gotRows[i] = strings.Join(row, " ")
	}
	want := canonicalRows(rec.expected, rec.types, rec.rowsort)
	have := canonicalRows(gotRows, rec.types, rec.rowsort)
	first := -1
	for i := 0; i < len(want) || i < len(have); i++ {
		if i >= len(want) || i >= len(have) || !rowsEqual(rec.types, want[i], have[i]) {
			first = i
			break
		}
	}
	if first < 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "expected %d rows, got %d; first difference at row %d", len(want), len(have), first+1)
	if rec.rowsort {
		b.WriteString(" (both sides sorted)")
	}
	b.WriteString("\n--- expected\n")
	for i, r := range want {
		b.WriteString(marker(i == first) + r + "\n")
	}
	b.WriteString("+++ got\n")
	for i, r := range have {
		b.WriteString(marker(i == first) + r + "\n")
	}
	return b.String()
}

func marker(on bool) string {
	if on {
		return "> "
	}
	return "  "
}

// formatBlock renders actual rows as an expected block, ready to paste into a .slt file.
func formatBlock(got [][]string) string {
	var b strings.Builder
	b.WriteString("----\n")
	for _, row := range got {
		b.WriteString(strings.Join(row, " ") + "\n")
	}
	return b.String()
}

// compareContains matches each expected line, in order, as a substring of a later actual row.
func compareContains(rec *record, got [][]string) string {
	row := 0
	for _, want := range rec.expected {
		for row < len(got) && !strings.Contains(strings.Join(got[row], " "), want) {
			row++
		}
		if row == len(got) {
			return fmt.Sprintf("no row (after the previous match) contains %q", want)
		}
		row++
	}
	return ""
}
