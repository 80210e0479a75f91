package sources

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestCSVScanPlainMatchesGeneral compares the word-at-a-time scan of quote-free records with the
// general field loop on random records (delimiters, quotes anywhere, CR before and away from LF,
// empty fields, lines cut short by the end of the buffered bytes): whenever scanPlain takes a
// record, the general loop must find the same fields, end and line count; and it must decline
// every record containing a quote, since those need the general loop's quoting rules.
func TestCSVScanPlainMatchesGeneral(t *testing.T) {
	r := rand.New(rand.NewPCG(20, 14))
	alphabet := []byte("ab1,;\"\r\n \t")
	taken := 0
	for n := 0; n < 200_000; n++ {
		delim := byte(',')
		if n%3 == 0 {
			delim = ';'
		}
		buf := make([]byte, r.IntN(48))
		for i := range buf {
			buf[i] = alphabet[r.IntN(len(alphabet))]
			if r.IntN(3) > 0 && buf[i] != '\n' { // mostly ordinary bytes, so records get long
				buf[i] = "abcdefgh0123"[r.IntN(12)]
			}
		}
		if len(buf) == 0 || buf[0] == '\n' || buf[0] == '\r' {
			continue // scan handles blank lines before either path
		}
		plain := &csvDecoder{delim: delim}
		next, lines, ok := plain.scanPlain(buf, 0)
		if !ok {
			continue
		}
		taken++
		general := &csvDecoder{delim: delim}
		gnext, glines, st, reason := general.scanGeneral(buf, 0, false)
		if st != scanOK || gnext != next || glines != lines || !slices.Equal(plain.fields, general.fields) {
			t.Fatalf("delimiter %q, input %q: scanPlain gives next %d, lines %d, fields %v; the general loop %d, %d, %v (status %d %s)",
				delim, buf, next, lines, plain.fields, gnext, glines, general.fields, st, reason)
		}
		if k := slices.Index(buf[:next], '"'); k >= 0 {
			t.Fatalf("input %q: scanPlain took a record with a quote at %d", buf, k)
		}
	}
	if taken < 10_000 {
		t.Fatalf("scanPlain took only %d records: the generator does not exercise it", taken)
	}
}
