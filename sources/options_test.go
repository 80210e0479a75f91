package sources

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func TestParseDecodeOptions(t *testing.T) {
	o, err := ParseDecodeOptions(map[string]string{"header": "TRUE", "Delimiter": "|", "batch_size": "100", "path": "/x"})
	if err != nil || !o.Header || o.Delimiter != '|' || o.BatchSize != 100 {
		t.Fatalf("got %+v, %v", o, err)
	}
	o, err = ParseDecodeOptions(map[string]string{"delimiter": `\t`})
	if err != nil || o.Delimiter != '\t' || o.Header || o.BatchSize != 0 {
		t.Fatalf("got %+v, %v", o, err)
	}
	for opts, msg := range map[string]string{
		"header=yes":          `option header: invalid value "yes" (expected 'true' or 'false')`,
		"delimiter=;;":        `option delimiter: invalid value ";;" (expected one ASCII character)`,
		"delimiter=é":         `option delimiter: invalid value "é" (expected one ASCII character)`,
		`delimiter="`:         `option delimiter: invalid delimiter '"': it may not be a quote or a line break`,
		"batch_size=0":        `option batch_size: invalid value "0" (expected an integer 1..16777216)`,
		"batch_size=lots":     `option batch_size: invalid value "lots" (expected an integer 1..16777216)`,
		"batch_size=99999999": `option batch_size: invalid value "99999999" (expected an integer 1..16777216)`,
	} {
		k, v, _ := cutEq(opts)
		_, err := ParseDecodeOptions(map[string]string{k: v})
		if err == nil || err.Error() != msg {
			t.Errorf("%s: error %v, want %s", opts, err, msg)
		}
	}
}

func cutEq(s string) (string, string, bool) {
	for i := range s {
		if s[i] == '=' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func TestDecoderConstructionErrors(t *testing.T) {
	if _, err := NewCSVDecoder(nil, nil, DecodeOptions{}); err == nil {
		t.Error("nil schema accepted")
	}
	if _, err := NewJSONDecoder(nil, schemaOf(t, "a BIGINT"), DecodeOptions{BatchSize: -1}); err == nil || err.Error() != "invalid batch size -1 (must be 1..16777216)" {
		t.Errorf("negative batch size: %v", err)
	}
}

func TestUnsupportedColumnType(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64)}}, nil)
	_, err := NewCSVDecoder(strings.NewReader(""), schema, DecodeOptions{})
	if err == nil || !strings.HasPrefix(err.Error(), `column "l": type BIGINT[] cannot be read from files`) {
		t.Fatalf("got %v", err)
	}
}
