package sql

import (
	"strings"
	"testing"
)

func TestSplitStatements(t *testing.T) {
	script := "SELECT 'a;b' AS x;\n-- comment; here\nSELECT \"c;d\" FROM t /* ; */ ;\n\n  ;  SELECT 3"
	got := SplitStatements(script)
	want := []string{"SELECT 'a;b' AS x", "-- comment; here\nSELECT \"c;d\" FROM t /* ; */", "SELECT 3"}
	if len(got) != len(want) {
		t.Fatalf("got %d statements %#v", len(got), got)
	}
	for i := range want {
		if got[i].Text != want[i] {
			t.Errorf("stmt %d: got %q want %q", i, got[i].Text, want[i])
		}
		if !strings.HasPrefix(script[got[i].Offset:], got[i].Text) {
			t.Errorf("stmt %d: offset %d does not point at its text", i, got[i].Offset)
		}
	}
}

func TestIsComplete(t *testing.T) {
	cases := map[string]bool{
		"SELECT 1;": true, "SELECT 1": false, "SELECT ';": false, "SELECT ';';": true,
		"SELECT 1; -- done": true, "SELECT 1 /* ; ": false, `\d t`: true, "": false,
		"SELECT\n 1\n;\n": true,
	}
	for in, want := range cases {
		if got := IsComplete(in); got != want {
			t.Errorf("IsComplete(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestLexDecodesQuotes(t *testing.T) {
	toks := Lex(`'it''s' "Mixed""Case" ` + "`b`" + ` x::bigint 1.5e3 <> 'a\b'`)
	if toks[0].Val != "it's" || toks[1].Val != `Mixed"Case` || toks[2].Val != "b" || toks[2].Kind != TokQIdent {
		t.Fatalf("bad quoting: %#v", toks[:3])
	}
	if toks[4].Text != "::" || toks[6].Text != "1.5e3" || toks[7].Text != "<>" || toks[8].Val != `a\b` {
		t.Fatalf("bad tokens: %#v", toks[3:])
	}
}

func TestErrorCaret(t *testing.T) {
	src := "SELECT a\nFROM t WHERE b = = 1"
	e := syntaxErrorf(src, strings.Index(src, "= 1"), "unexpected '='")
	want := "syntax error at line 2, column 18: unexpected '='\n  FROM t WHERE b = = 1\n                   ^"
	if e.Error() != want {
		t.Fatalf("got\n%s\nwant\n%s", e.Error(), want)
	}
}

// TestSplitEdgeCases: a ';' inside an unterminated string or comment does not split (the rest of
// the script is one statement, whose error then points at the unterminated token), and offsets
// survive CRLF line ends and leading comments.
func TestSplitEdgeCases(t *testing.T) {
	cases := []struct {
		script string
		want   []string
	}{
		{"SELECT 1; SELECT 'a;b", []string{"SELECT 1", "SELECT 'a;b"}},
		{"SELECT 1 /* ; */; SELECT 2 /* ;", []string{"SELECT 1 /* ; */", "SELECT 2 /* ;"}},
		{"SELECT \"x;y\" FROM t;", []string{"SELECT \"x;y\" FROM t"}},
		{"\r\n  SELECT 1;\r\nSELECT 2\r\n", []string{"SELECT 1", "SELECT 2"}},
		{"-- only a comment;\n", nil},
		{";;  ;", nil},
	}
	for _, c := range cases {
		got := SplitStatements(c.script)
		var texts []string
		for _, st := range got {
			texts = append(texts, st.Text)
			if !strings.HasPrefix(c.script[st.Offset:], st.Text) {
				t.Errorf("%q: offset %d does not point at %q", c.script, st.Offset, st.Text)
			}
		}
		if strings.Join(texts, "\x00") != strings.Join(c.want, "\x00") {
			t.Errorf("SplitStatements(%q) = %q, want %q", c.script, texts, c.want)
		}
	}
}

func TestErrorSnippetMasksSecrets(t *testing.T) {
	src := "CREATE SINK s WITH (connector = 'postgres', url = 'postgres://app:hunter2@db/x', 'kafka.sasl.password' = 'pw-9') AS SELEC 1"
	e := syntaxErrorf(src, strings.Index(src, "SELEC"), "unexpected %q", "SELEC")
	msg := e.Error()
	if strings.Contains(msg, "hunter2") || strings.Contains(msg, "pw-9") {
		t.Fatalf("the error shows a secret:\n%s", msg)
	}
	lines := strings.Split(msg, "\n")
	if col := strings.Index(lines[2], "^"); lines[1][col] != 'S' || !strings.Contains(lines[1], "app:*******@db") {
		t.Fatalf("caret moved or the URL was not masked in place:\n%s", msg)
	}
}
