package conformance

import (
	"strings"
	"testing"
)

const sample = `# a comment
statement ok
CREATE TABLE t (a BIGINT)

statement error division by zero
SELECT 1/0

skipif postgres
query IT rowsort
SELECT a,
  b FROM t
----
2 x y
1 (empty)

query I
SELECT 1 WHERE false
----

onlyif postgres
statement ok
SELECT 1

halt

statement ok
NOT REACHED
`

func TestParseSLT(t *testing.T) {
	recs, err := parseSLT("sample.slt", strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 7 {
		t.Fatalf("got %d records, want 7", len(recs))
	}
	if r := recs[0]; r.kind != recStatement || r.expectError || r.sql != "CREATE TABLE t (a BIGINT)" || r.line != 2 || !r.runsOn(enginePostgres) {
		t.Errorf("record 0 = %+v", r)
	}
	if r := recs[1]; !r.expectError || r.errContains != "division by zero" || r.sql != "SELECT 1/0" {
		t.Errorf("record 1 = %+v", r)
	}
	r := recs[2]
	if r.kind != recQuery || r.types != "IT" || !r.rowsort || r.sql != "SELECT a,\n  b FROM t" || r.line != 9 {
		t.Errorf("record 2 = %+v", r)
	}
	if strings.Join(r.expected, "|") != "2 x y|1 (empty)" || r.runsOn(enginePostgres) || !r.runsOn(engineStreamSQL) {
		t.Errorf("record 2 expected=%q skip=%v", r.expected, r.skip)
	}
	if r := recs[3]; r.kind != recQuery || len(r.expected) != 0 || r.rowsort || !r.runsOn(enginePostgres) {
		t.Errorf("record 3 = %+v", r)
	}
	if r := recs[4]; r.runsOn(engineStreamSQL) || !r.runsOn(enginePostgres) {
		t.Errorf("record 4 skip = %v", r.skip)
	}
	if recs[5].kind != recHalt {
		t.Errorf("record 5 kind = %v, want halt", recs[5].kind)
	}
}

func TestParseSLTErrors(t *testing.T) {
	for src, want := range map[string]string{
		"query X\nSELECT 1\n----\n1\n":           "x.slt:1: unknown column type",
		"query I\nSELECT 1\n":                    "x.slt:1: query record has no ----",
		"statement maybe\nSELECT 1\n":            "x.slt:1: unknown record",
		"\n\nquery I sorted\nSELECT 1\n----\n":   "x.slt:3: unknown sort mode",
		"skipif mysql\nstatement ok\nSELECT 1\n": "x.slt:1: want",
		"statement ok\n\n":                       "x.slt:1: record has no SQL",
	} {
		_, err := parseSLT("x.slt", strings.NewReader(src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parse %q: error %v, want one containing %q", src, err, want)
		}
	}
}

func TestCompareResult(t *testing.T) {
	rec := &record{types: "IRTB", expected: []string{"1 2.5 a b true", "2 NULL (empty) false"}}
	// Row 1 has a text cell with a space: it is compared as a whole row.
	same := [][]string{{"1", "2.5", "a b", "true"}, {"2", "NULL", "(empty)", "false"}}
	if d := compareResult(rec, same); d != "" {
		t.Errorf("identical rows differ: %s", d)
	}
	rec2 := &record{types: "IR", expected: []string{"3 2.5", "1 0.1"}, rowsort: true}
	if d := compareResult(rec2, [][]string{{"1.000", "0.1000000000000000055"}, {"3", "2.5000"}}); d != "" {
		t.Errorf("numerically equal rows differ: %s", d)
	}
	if d := compareResult(rec2, [][]string{{"1", "0.1"}, {"3", "2.5001"}}); !strings.Contains(d, "first difference at row 2") {
		t.Errorf("2.5 vs 2.5001 not reported at row 2: %q", d)
	}
	if d := compareResult(&record{types: "I", expected: []string{"3"}}, [][]string{{"3.5"}}); d == "" {
		t.Error("I column 3 == 3.5")
	}
	if d := compareResult(&record{types: "I", expected: []string{"3"}}, [][]string{{"3", "4"}}); !strings.Contains(d, "declares 1") {
		t.Errorf("column count mismatch not reported: %q", d)
	}
	if d := compareResult(&record{types: "T", expected: []string{"a"}}, nil); !strings.Contains(d, "expected 1 rows, got 0") {
		t.Errorf("missing row not reported: %q", d)
	}
	plan := [][]string{{"Limit 3"}, {"  Sort"}, {"    Scan t"}}
	if d := compareResult(&record{types: "T", contains: true, expected: []string{"Limit", "Scan"}}, plan); d != "" {
		t.Errorf("contains: %s", d)
	}
	if d := compareResult(&record{types: "T", contains: true, expected: []string{"Scan", "Limit"}}, plan); !strings.Contains(d, `"Limit"`) {
		t.Errorf("contains out of order accepted: %q", d)
	}
	if d := compareResult(&record{types: "T", expected: []string{"b", "a"}}, [][]string{{"a"}, {"b"}}); d == "" {
		t.Error("nosort accepted rows out of order")
	}
}

func TestPGCell(t *testing.T) {
	for _, c := range []struct {
		oid  uint32
		in   []byte
		want string
	}{
		{16, []byte("t"), "true"}, {16, []byte("f"), "false"}, {25, nil, "NULL"}, {25, []byte(""), "(empty)"},
		{1184, []byte("2024-01-01 00:00:00+00"), "2024-01-01 00:00:00"}, {1700, []byte("2.50"), "2.50"},
	} {
		if got := pgCell(c.oid, c.in); got != c.want {
			t.Errorf("pgCell(%d, %q) = %q, want %q", c.oid, c.in, got, c.want)
		}
	}
}
