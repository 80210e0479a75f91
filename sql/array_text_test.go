package sql

import (
	"reflect"
	"testing"
)

func TestSplitArrayText(t *testing.T) {
	for in, want := range map[string][]arrayItem{
		"{}":                              nil,
		" { } ":                           nil,
		"{1,2, 3 }":                       {{text: "1"}, {text: "2"}, {text: "3"}},
		`{"a b","c\"d",NULL,"NULL",x\,y}`: {{text: "a b"}, {text: `c"d`}, {null: true, text: "NULL"}, {text: "NULL"}, {text: "x,y"}},
		`{it's}`:                          {{text: "it's"}},
	} {
		got, err := splitArrayText(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "1,2", "{1,2", "{{1},{2}}", `{"a}`, `{a"b}`, "{1,,2}", `{"a"b}`} {
		if got, err := splitArrayText(bad); err == nil {
			t.Errorf("%q: %+v, want an error", bad, got)
		}
	}
}
