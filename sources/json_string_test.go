package sources

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// TestJSONScanStringMatchesEncodingJSON compares scanString (eight bytes per step up to the first
// quote, backslash or control character) with encoding/json on random string literals: plain
// runs of every length around the word size, escapes (valid, bad, \u with surrogates), control
// characters, multi-byte UTF-8, and text after the closing quote. Both must agree on validity and,
// for valid literals, on the content and where the literal ends.
func TestJSONScanStringMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(20, 15))
	parts := []string{"a", "b", "0", " ", "é", "🙂", `\"`, `\\`, `\/`, `\n`, `\t`, `\u00e9`, `\ud83d\ude42`, `\ud800`, `\x`, "\x01", "\x1f", "\t"}
	valid := 0
	for n := 0; n < 100_000; n++ {
		lit := []byte{'"'}
		for k := r.IntN(30); k > 0; k-- {
			if r.IntN(4) > 0 {
				lit = append(lit, "abcdefghijklmnop"[:1+r.IntN(16)]...)
			} else {
				lit = append(lit, parts[r.IntN(len(parts))]...)
			}
		}
		end := len(lit)
		if r.IntN(8) > 0 {
			lit = append(lit, '"')
			end = len(lit)
			lit = append(lit, `,"k":1}`[:r.IntN(8)]...)
		}
		var buf []byte
		content, next, reason := scanString(lit, 0, &buf)
		var want string
		err := json.Unmarshal(lit[:end], &want)
		if (reason == "") != (err == nil) {
			t.Fatalf("%q: scanString reason %q, encoding/json error %v", lit, reason, err)
		}
		if err != nil {
			continue
		}
		valid++
		if string(content) != want || next != end {
			t.Fatalf("%q: scanString gives %q ending at %d; encoding/json %q ending at %d", lit, content, next, want, end)
		}
	}
	if valid < 20_000 || valid > 80_000 {
		t.Fatalf("%d of 100000 literals valid: the generator is unbalanced", valid)
	}
}
