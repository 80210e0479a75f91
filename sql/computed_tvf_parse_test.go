package sql

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

// TestParseComputedColumns: computed columns keep their expression text, may span nested
// parentheses and commas, and their errors point into the statement.
func TestParseComputedColumns(t *testing.T) {
	st, err := Parse("CREATE SOURCE s (raw VARCHAR, ts AS to_timestamp(raw, 'M/d/yyyy H:mm'), n AS coalesce(length(raw), 0) + 1,\n  WATERMARK FOR ts AS ts - INTERVAL '5 minutes') WITH (connector = 'push')")
	if err != nil {
		t.Fatal(err)
	}
	cs := st.(*CreateSource)
	if len(cs.Columns) != 3 || cs.Columns[1].Computed == nil || cs.Columns[1].Computed.Text != "to_timestamp(raw, 'M/d/yyyy H:mm')" ||
		cs.Columns[2].Computed.Text != "coalesce(length(raw), 0) + 1" || cs.Watermark == nil || cs.Watermark.Column != "ts" {
		t.Fatalf("parsed %+v", cs)
	}
	phys := arrow.NewSchema([]arrow.Field{{Name: "raw", Type: arrow.BinaryTypes.String}}, nil)
	e, err := BindComputed("s", phys, cs.Columns[2].Computed)
	if err != nil || e.Type().ID() != arrow.INT64 {
		t.Fatalf("bound %v (%v)", e, err)
	}
	for _, c := range []struct {
		src, msg string
		pos      int
	}{
		{"CREATE SOURCE s (a VARCHAR, b AS length(a) +) WITH (connector = 'push')", "incomplete expression for the computed column", 44},
		{"CREATE SOURCE s (a VARCHAR,\n b AS a a a) WITH (connector = 'push')", `unexpected "a"`, 38},
		{"CREATE SOURCE s (a VARCHAR, b AS , c BIGINT) WITH (connector = 'push')", "expected an expression after AS", 33},
	} {
		_, err := Parse(c.src)
		e, ok := err.(*Error)
		if !ok || !strings.Contains(e.Msg, c.msg) || e.Pos != c.pos || e.Source != c.src {
			t.Errorf("%q: got %#v, want %q at %d", c.src, err, c.msg, c.pos)
		}
	}
	phys2 := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.BinaryTypes.String}}, nil)
	st, err = Parse("CREATE SOURCE s (a VARCHAR, b AS nope + 1) WITH (connector = 'push')")
	if err != nil {
		t.Fatal(err)
	}
	_, err = BindComputed("s", phys2, st.(*CreateSource).Columns[1].Computed)
	if e, ok := err.(*Error); !ok || e.Pos != 33 || !strings.Contains(e.Msg, `"nope"`) {
		t.Errorf("bind error: %#v", err)
	}
}

// TestWindowTVFPreStep: Flink's window TVF syntax reaches PostgreSQL's parser as RisingWave's
// form, and positions still point at what the user wrote.
func TestWindowTVFPreStep(t *testing.T) {
	for src, want := range map[string]string{
		"SELECT * FROM TABLE(TUMBLE(TABLE s, DESCRIPTOR(ts), INTERVAL '10' MINUTE))":                  "SELECT * FROM TUMBLE( s, ts, INTERVAL '10 minute')",
		"SELECT * FROM TABLE(SESSION(TABLE s PARTITION BY k, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) x": "SELECT * FROM SESSION( s , __partition_by( k), ts, INTERVAL '1 minute') x",
		"SELECT * FROM TABLE(SESSION(TABLE s PARTITION BY (k, j), DESCRIPTOR(ts), '1 minute'))":       "SELECT * FROM SESSION( s , __partition_by(k, j), ts, '1 minute')",
		"SELECT * FROM HOP(s, ts, '1 minute', '2 minutes')":                                           "SELECT * FROM HOP(s, ts, '1 minute', '2 minutes')",
		"SELECT table_name FROM t": "SELECT table_name FROM t",
	} {
		rw, err := preStep(src, 0, len(src))
		if err != nil {
			t.Fatal(err)
		}
		if norm := strings.Join(strings.Fields(rw.text), " "); norm != strings.Join(strings.Fields(want), " ") {
			t.Errorf("%s\n got  %s\n want %s", src, rw.text, want)
		}
	}
	src := "SELECT * FROM TABLE(TUMBLE(TABLE s, DESCRIPTOR(ts), INTERVAL '10' MINUTE, ))"
	_, err := Parse(src)
	if e, ok := err.(*Error); !ok || e.Pos != strings.Index(src, ", ))")+2 {
		t.Errorf("error %#v should point at the ')' after the last comma", err)
	}
}
