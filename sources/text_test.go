package sources

import (
	"errors"
	"reflect"
	"testing"
)

func TestTextDecoder(t *testing.T) {
	for _, bufSize := range []int{4, 0} {
		got := decodeString(t, "text", "\xEF\xBB\xBFfirst\r\n\nthird, with \"quotes\"\n日本\nlast", nil, DecodeOptions{BatchSize: 2, bufSize: bufSize})
		want := [][]any{{"first"}, {""}, {`third, with "quotes"`}, {"日本"}, {"last"}}
		if got.err != nil || !reflect.DeepEqual(got.rows, want) || !reflect.DeepEqual(got.batches, []int{2, 2, 1}) {
			t.Fatalf("buf %d: rows %q batches %v err %v", bufSize, got.rows, got.batches, got.err)
		}
	}
	got := decodeString(t, "text", "ok\nbad\xff\n", nil, DecodeOptions{})
	var re *RecordError
	if !errors.As(got.err, &re) || re.Line != 2 || re.Error() != `line 2: column "value": invalid UTF-8 in VARCHAR "bad\xff"` {
		t.Fatalf("got %v", got.err)
	}
	if got = decodeString(t, "text", "", nil, DecodeOptions{}); got.err != nil || len(got.rows) != 0 {
		t.Fatalf("empty input: %v %v", got.rows, got.err)
	}
}
