package sources

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// TestJSONTypes reads every SQL type from the JSON forms the package documents.
func TestJSONTypes(t *testing.T) {
	schema := schemaOf(t, "b BOOLEAN", "i BIGINT", "f DOUBLE", "d DECIMAL(6,2)", "s VARCHAR", "ts TIMESTAMP", "dt DATE", "iv INTERVAL")
	input := "\xEF\xBB\xBF" +
		`{"b":true,"i":42,"f":1.5,"d":1234.5,"s":"hello","ts":"2024-01-31 13:45:00","dt":"2024-02-29","iv":"10 minutes"}` + "\r\n" +
		`{"B":"f","I":"-7","F":"-0.25","D":"-0.005","S":"a\"b\\c\u00e9\ud83d\ude42\n","TS":1706708700.5,"DT":"1970-01-01","IV":90}` + "\n" +
		"   \n" +
		`{}` + "\n" +
		`{"b":null,"i":null,"f":null,"d":null,"s":null,"ts":null,"dt":null,"iv":null,"extra":[1,{"x":"}"}]}` + "\n" +
		`  { "s" : {"nested": [1, 2.5, "x"]} , "i" : 1e3, "f": -2E-2, "d": 0.004, "ts": -0.0000015, "iv": 1.5 }  ` + "\n" +
		`{"s":12.50,"i":2.0,"b":false}` + "\n" +
		`{"s":true}`
	got := decodeString(t, "json", input, schema, DecodeOptions{})
	if got.err != nil {
		t.Fatal(got.err)
	}
	want := []string{
		"true|42|1.5|1234.50|hello|2024-01-31 13:45:00|2024-02-29|00:10:00",
		"false|-7|-0.25|-0.01|a\"b\\cé🙂\n|2024-01-31 13:45:00.5|1970-01-01|00:01:30",
		"NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL",
		"NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL",
		`NULL|1000|-0.02|0.00|{"nested": [1, 2.5, "x"]}|1969-12-31 23:59:59.999998|NULL|00:00:01.5`,
		"false|2|NULL|NULL|12.50|NULL|NULL|NULL",
		"NULL|NULL|NULL|NULL|true|NULL|NULL|NULL",
	}
	if g := formatRows(schema, got.rows); !reflect.DeepEqual(g, want) {
		t.Fatalf("rows:\n%s\nwant:\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
}

// TestJSONRandomOracle encodes random strings with encoding/json (which escapes some characters
// and not others) and checks the decoded values, across batch and buffer sizes.
func TestJSONRandomOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	schema := schemaOf(t, "a VARCHAR", "n BIGINT", "b VARCHAR")
	alphabet := []string{"a", "Z", " ", "\"", "\\", "/", "\n", "\t", "\r", "\x01", "<", "&", "é", "日本", "🙂", "\u2028", "{", "}"}
	for trial := 0; trial < 30; trial++ {
		var buf bytes.Buffer
		var want [][]any
		for r := rng.IntN(50); r > 0; r-- {
			obj := map[string]any{}
			row := make([]any, 3)
			for c, key := range []string{"a", "n", "b"} {
				switch rng.IntN(4) {
				case 0: // missing: NULL
					continue
				case 1:
					obj[key] = nil
					continue
				}
				if key == "n" {
					v := int64(rng.Uint64())
					obj[key], row[c] = v, v
					continue
				}
				var sb strings.Builder
				for n := rng.IntN(10); n > 0; n-- {
					sb.WriteString(alphabet[rng.IntN(len(alphabet))])
				}
				obj[key], row[c] = sb.String(), sb.String()
			}
			if rng.IntN(3) == 0 {
				obj["ignored"] = map[string]any{"x": []any{1, "y", nil}}
			}
			line, err := json.Marshal(obj)
			if err != nil {
				t.Fatal(err)
			}
			buf.Write(line)
			buf.WriteString([]string{"\n", "\r\n"}[rng.IntN(2)])
			want = append(want, row)
		}
		for _, bs := range []int{1, 3, 0} {
			for _, bufSize := range []int{4, 9, 0} {
				got := decodeString(t, "json", buf.String(), schema, DecodeOptions{BatchSize: bs, bufSize: bufSize})
				if got.err != nil {
					t.Fatalf("trial %d: %v\n%s", trial, got.err, buf.String())
				}
				if len(got.rows) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got.rows, want)) {
					t.Fatalf("trial %d batch %d buf %d:\ngot  %q\nwant %q", trial, bs, bufSize, got.rows, want)
				}
			}
		}
	}
}

// TestJSONBadInput checks the RecordError of each kind of bad line, with its exact line.
func TestJSONBadInput(t *testing.T) {
	schema := schemaOf(t, "id BIGINT", "price DOUBLE", "name VARCHAR", "ts TIMESTAMP", "day DATE")
	for _, tc := range []struct {
		name, input string
		line        int64
		column, msg string
	}{
		{"truncated", `{"id":1}` + "\n" + `{"id":2,"name":"x`, 2, "", "line 2: truncated JSON: unterminated string"},
		{"truncated object", "{\"id\":1,\n", 1, "", "line 1: truncated JSON: a key string expected at end of line"},
		{"not an object", "\n\n[1,2]\n", 3, "", `line 3: invalid JSON at offset 0: '{' expected, found '['`},
		{"fractional bigint", `{"id":1.5}`, 1, "id", `line 1: column "id": invalid BIGINT "1.5" (not an integer)`},
		{"bigint overflow", `{"id":1e19}`, 1, "id", `line 1: column "id": invalid BIGINT "1e19" (out of range)`},
		{"bool for bigint", `{"id":true}`, 1, "id", `line 1: column "id": invalid BIGINT "true" (a JSON boolean)`},
		{"object for double", `{"price":{"a":1}}`, 1, "price", `line 1: column "price": invalid DOUBLE "{\"a\":1}" (a JSON object)`},
		{"bad string number", `{"price":"12,x"}`, 1, "price", `line 1: column "price": invalid DOUBLE "12,x"`},
		{"number for date", `{"day":20240101}`, 1, "day", `line 1: column "day": invalid DATE "20240101" (a JSON number)`},
		{"bad timestamp", `{"ts":"yesterday"}`, 1, "ts", `line 1: column "ts": invalid TIMESTAMP "yesterday"`},
		{"invalid utf8", "{\"name\":\"a\xffb\"}", 1, "name", `line 1: column "name": invalid UTF-8 in VARCHAR "a\xffb"`},
		{"duplicate key", `{"id":1,"ID":2}`, 1, "id", `line 1: column "id": key given twice in one object`},
		{"trailing garbage", `{"id":1} x`, 1, "", `line 1: invalid JSON at offset 9: unexpected 'x' after the object`},
		{"bad literal", `{"id":tru}`, 1, "", `line 1: invalid JSON at offset 6: a value expected, found 't'`},
		{"bad number", `{"id":01}`, 1, "", `line 1: invalid JSON at offset 7: ',' or '}' expected, found '1'`},
		{"bad nested", `{"x":[1,}`, 1, "", `line 1: invalid JSON at offset 8: a value expected, found '}'`},
		{"control char", "{\"name\":\"a\tb\"}", 1, "", `line 1: invalid JSON at offset 10: control character '\t' in a string`},
		{"bad escape", `{"name":"\q"}`, 1, "", `line 1: invalid JSON at offset 9: bad escape \q`},
		{"deep nesting", `{"x":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`, 1, "", "line 1: JSON nested deeper than 512 levels"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := decodeString(t, "json", tc.input, schema, DecodeOptions{bufSize: 5})
			var re *RecordError
			if !errors.As(got.err, &re) {
				t.Fatalf("error %v, want a RecordError", got.err)
			}
			if re.Line != tc.line || re.Column != tc.column || re.Error() != tc.msg {
				t.Fatalf("got %+v\n%s\nwant line %d column %q\n%s", *re, re.Error(), tc.line, tc.column, tc.msg)
			}
		})
	}
}
