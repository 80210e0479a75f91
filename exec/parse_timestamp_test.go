package exec

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

// oracleLayouts are the time.Parse layouts whose union is the grammar ParseTimestamp documents.
var oracleLayouts = func() []string {
	ls := []string{"2006-01-02"}
	for _, sep := range []string{"T", " "} {
		for _, clock := range []string{"15:04", "15:04:05"} {
			for _, zone := range []string{"", "Z07:00", "Z0700", "Z07", " Z07:00", " Z0700", " Z07"} {
				ls = append(ls, "2006-01-02"+sep+clock+zone)
			}
		}
	}
	return ls
}()

// oracleParse is the reference: the first layout time.Parse accepts (at most one can).
func oracleParse(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	for _, l := range oracleLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UnixMicro(), true
		}
	}
	return 0, false
}

func checkAgainstOracle(t *testing.T, s string, cache *TimestampCache) {
	t.Helper()
	want, wantOK := oracleParse(s)
	got, gotErr := ParseTimestamp(s)
	if (gotErr == nil) != wantOK || (wantOK && got != want) {
		t.Fatalf("ParseTimestamp(%q) = %d, %v; time.Parse gives %d, ok=%v", s, got, gotErr, want, wantOK)
	}
	if cache != nil {
		got, ok := cache.Parse(s)
		if ok != wantOK || (ok && got != want) {
			t.Fatalf("TimestampCache.Parse(%q) = %d, %v; time.Parse gives %d, ok=%v", s, got, ok, want, wantOK)
		}
	}
}

// randomTimestampText builds a mostly plausible timestamp text from random parts: fields in and out
// of range, leap days, every separator and zone form, fractions of any length, and a random
// mutation (a byte replaced, deleted or inserted) one time in four.
func randomTimestampText(r *rand.Rand) string {
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	num := func(n, width int) string {
		s := strconv.Itoa(n)
		for len(s) < width {
			s = "0" + s
		}
		return s
	}
	year := pick("2024", "2023", "2000", "1900", "2100", "1970", "1969", "0000", "9999", "1600", "0004", num(r.IntN(10000), 4))
	month := num(r.IntN(14), 2)
	if r.IntN(3) > 0 {
		month = num(1+r.IntN(12), 2)
	}
	day := num(r.IntN(33), 2)
	if r.IntN(3) > 0 {
		day = pick("01", "28", "29", "30", "31", num(1+r.IntN(28), 2))
	}
	var b strings.Builder
	b.WriteString(year + "-" + month + "-" + day)
	if r.IntN(8) > 0 {
		b.WriteString(pick("T", " ", "T", " ", "t", "_"))
		h := r.IntN(26)
		if r.IntN(5) == 0 {
			b.WriteString(strconv.Itoa(h)) // one digit below 10
		} else {
			b.WriteString(num(h, 2))
		}
		b.WriteString(":" + num(r.IntN(62), 2))
		if r.IntN(6) > 0 {
			b.WriteString(":" + num(r.IntN(62), 2))
			if r.IntN(2) == 0 {
				b.WriteString(pick(".", ".", ","))
				n := r.IntN(13)
				for i := 0; i < n; i++ {
					b.WriteByte(byte('0' + r.IntN(10)))
				}
			}
		}
		switch r.IntN(6) {
		case 0, 1:
		case 2:
			b.WriteString(pick("Z", " Z", "z", "UTC"))
		default:
			b.WriteString(pick("", "", " ") + pick("+", "-", "±"))
			b.WriteString(num(r.IntN(26), 2))
			switch r.IntN(4) {
			case 0:
			case 1:
				b.WriteString(":" + num(r.IntN(62), 2))
			case 2:
				b.WriteString(num(r.IntN(62), 2))
			default:
				b.WriteString(pick(":", "0", ":5", "123"))
			}
		}
	}
	s := b.String()
	if r.IntN(4) == 0 && len(s) > 0 {
		i := r.IntN(len(s))
		switch r.IntN(3) {
		case 0:
			s = s[:i] + string(rune(pick("0", "9", ":", "-", " ", "x", "T", "Z", "+", ".")[0])) + s[i+1:]
		case 1:
			s = s[:i] + s[i+1:]
		default:
			s = s[:i] + pick("0", "5", ":", "-", " ", ".", "Z") + s[i:]
		}
	}
	if r.IntN(20) == 0 {
		s = pick(" ", "\t", "\n", "\u00a0") + s + pick("", " ", "\r\n")
	}
	return s
}

func TestParseTimestampMatchesTimeParseOnRandomInputs(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 2024))
	var cache TimestampCache
	valid := 0
	const n = 400_000
	for i := 0; i < n; i++ {
		s := randomTimestampText(r)
		if _, ok := oracleParse(s); ok {
			valid++
		}
		checkAgainstOracle(t, s, &cache)
	}
	// The generator must exercise both outcomes substantially, or the comparison proves little.
	if valid < n/5 || valid > n*4/5 {
		t.Fatalf("%d of %d random inputs valid: the generator is unbalanced", valid, n)
	}
}

func TestParseTimestampForms(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, us int) int64 {
		return time.Date(y, mo, d, h, mi, s, us*1000, time.UTC).UnixMicro()
	}
	for s, want := range map[string]int64{
		"2024-01-01T00:00:00.000Z":            utc(2024, 1, 1, 0, 0, 0, 0),
		"2024-01-01 00:00:00":                 utc(2024, 1, 1, 0, 0, 0, 0),
		"2024-02-29":                          utc(2024, 2, 29, 0, 0, 0, 0),
		"2024-01-01T01:00:00+01:00":           utc(2024, 1, 1, 0, 0, 0, 0),
		"2024-01-01T00:00:00-0130":            utc(2024, 1, 1, 1, 30, 0, 0),
		"2024-01-01 00:00:00 -07":             utc(2024, 1, 1, 7, 0, 0, 0),
		"2024-01-01T23:30:00.5-01":            utc(2024, 1, 2, 0, 30, 0, 500000),
		"1969-12-31T23:59:59.9999999Z":        utc(1969, 12, 31, 23, 59, 59, 999999),
		"2024-03-10T12:34:56.123456789123456": utc(2024, 3, 10, 12, 34, 56, 123456),
		"2024-03-10T12:34,5Z":                 0, // a fraction needs seconds: invalid
		"2024-03-10 9:05":                     utc(2024, 3, 10, 9, 5, 0, 0),
	} {
		got, err := ParseTimestamp(s)
		if want == 0 {
			if err == nil {
				t.Errorf("%q: expected an error, got %d", s, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("%q: got %d, %v; want %d", s, got, err, want)
		}
		checkAgainstOracle(t, s, nil)
	}
}

// TestTimestampCacheAcrossDays feeds one cache values that change date, including invalid values
// between valid ones: a failed parse must not leave a wrong midnight behind.
func TestTimestampCacheAcrossDays(t *testing.T) {
	var c TimestampCache
	for _, s := range []string{"2024-02-28T23:59:59Z", "2024-02-29T00:00:00Z", "2024-02-30T00:00:00Z", "2024-02-29 12:00", "2023-02-29T00:00:00Z", "2024-02-29T25:00:00Z", "2024-02-29T01:00:00+02:00", "2024-03-01"} {
		checkAgainstOracle(t, s, &c)
	}
}

func TestParseTimestampDoesNotAllocate(t *testing.T) {
	var c TimestampCache
	for _, s := range []string{"2024-01-01T00:00:00.000Z", "2024-01-01 00:00:00+05:30", "2024-01-01", "not a timestamp", "2024-01-01T00:00:00+99:00"} {
		if n := testing.AllocsPerRun(100, func() { c.Parse(s) }); n != 0 {
			t.Errorf("TimestampCache.Parse(%q) allocates %.0f times", s, n)
		}
	}
}

func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{"2024-01-01T00:00:00.000Z", "2024-01-01 00:00:00", "2024-02-29", "2024-01-01T01:00:00+01:00", "2024-01-01 00:00:00 -07", "2024-01-01T00:00-0130", "1969-12-31T23:59:59.9999999Z", "2024-01-01 9:05:00,5"} {
		f.Add(s)
	}
	var c TimestampCache
	f.Fuzz(func(t *testing.T, s string) {
		checkAgainstOracle(t, s, &c)
	})
}

// TestTimestampCacheSameMinute feeds one cache runs of values that share their first 16 bytes (the
// prefix its minute cache compares) with random tails: seconds and fractions in and out of range,
// every zone form, trailing space, garbage, mixed with values of other forms and dates, so that
// the cached minute path is compared with time.Parse on valid and invalid tails.
func TestTimestampCacheSameMinute(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 2026))
	var cache TimestampCache
	for i := 0; i < 15_000; i++ {
		base := randomTimestampText(r)
		for j := 0; j < 8; j++ {
			s := base
			if other := randomTimestampText(r); len(base) >= 16 && len(other) >= 16 {
				s = base[:16] + other[16:]
			}
			checkAgainstOracle(t, s, &cache)
		}
	}
	for _, s := range []string{"2024-01-01T05:30:00Z", "2024-01-01T05:30:59.999999Z", "2024-01-01T05:30:60Z",
		"2024-01-01T05:30:00+05:30", "2024-01-01T05:30:00 ", "2024-01-01T05:30:00\u00a0", "2024-01-01T05:30",
		"2024-01-01T05:30:", "2024-01-01T05:30:0", "2024-01-01T05:30x", "2024-01-01 05:30:00Z", "2024-01-01T05:30:00.Z",
		"2024-01-01T05:30:00.1234567Z", "2024-01-01T05:30:00ZZ", "2024-01-01T05:30:00 Z", "2024-01-01T05:30:00z"} {
		checkAgainstOracle(t, s, &cache)
	}
}
