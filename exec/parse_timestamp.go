package exec

import "strings"

// This file is the TIMESTAMP text parser used by CAST, TIMESTAMP '...' literals and the file
// decoders. It is hand-written because it sits on the hot path of every file and message source:
// it does not allocate, tries no layouts, and (through TimestampCache) converts the date part of a
// value only when it differs from the previous value's, and its hour and minute only when they do.
//
// Accepted forms (the same set time.Parse accepts with the layouts listed in parse_time_test.go):
//
//	YYYY-MM-DD
//	YYYY-MM-DD(T|spaces)H[H]:MM[:SS[(.|,)fraction]][zone]
//	zone: [spaces](Z | ±HH | ±HH:MM | ±HHMM)
//
// The fraction may have any number of digits; digits beyond microseconds are truncated (the value
// is floored to the microsecond). A value without a zone is UTC; a zone offset is subtracted to get
// UTC. Offsets are accepted up to 24 hours and 60 minutes, as time.Parse does. Surrounding white
// space is ignored.

// TimestampCache remembers the date of the last value a column parsed and its midnight in
// microseconds since the epoch, and the last value's first 16 bytes when they are a date, one `T`
// or space and a two-digit hour and minute (`2024-01-01T05:30`), with the microseconds of that
// minute: event times arrive mostly in order, so most values share their minute (or at least
// their date) with the previous one and only their seconds and zone (or time of day) need
// converting. The zero value is ready to use; a cache belongs to one goroutine.
type TimestampCache struct {
	day      [10]byte
	valid    bool
	midnight int64

	minute      [2]uint64 // the 16-byte prefix as two little-endian words
	minuteValid bool
	minuteUS    int64 // midnight + hour and minute of minute, UTC before any zone offset
}

// Parse converts s like ParseTimestamp, reporting failure with ok=false instead of an error (no
// allocation on either path). s is only read during the call.
func (c *TimestampCache) Parse(s string) (us int64, ok bool) {
	if len(s) >= 17 && c.minuteValid && le64(s) == c.minute[0] && le64(s[8:]) == c.minute[1] &&
		!isSpaceOrHigh(s[len(s)-1]) {
		// s[0] is a digit (the prefix matched), so only trailing space could need trimming.
		return parseSecondsZone(s[16:], c.minuteUS)
	}
	us, ok = parseTimestamp(s, c)
	if ok {
		c.rememberMinute(s)
	}
	return us, ok
}

// rememberMinute caches the minute of s, a value that just parsed (so its date is the one in c),
// when its first 16 bytes have the fixed layout date, `T` or one space, HH:MM.
func (c *TimestampCache) rememberMinute(s string) {
	if len(s) < 17 || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || isSpaceOrHigh(s[0]) {
		return
	}
	h, ok1 := digits2(s[11], s[12])
	mi, ok2 := digits2(s[14], s[15])
	if !ok1 || !ok2 || h > 23 || mi > 59 {
		return
	}
	c.minute = [2]uint64{le64(s), le64(s[8:])}
	c.minuteUS = c.midnight + (int64(h)*60+int64(mi))*60_000_000
	c.minuteValid = true
}

// le64 is the first eight bytes of s as a little-endian word (s has at least eight).
func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// isSpaceOrHigh reports a byte at which strings.TrimSpace might cut (ASCII white space, or the start
// of a multi-byte character that may be Unicode white space).
func isSpaceOrHigh(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r') || c >= 0x80
}

// parseTimestamp parses s into microseconds since the epoch, UTC. cache may be nil.
func parseTimestamp(s string, cache *TimestampCache) (int64, bool) {
	if len(s) > 0 && (isSpaceOrHigh(s[0]) || isSpaceOrHigh(s[len(s)-1])) {
		s = strings.TrimSpace(s)
	}
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return 0, false
	}
	var midnight int64
	if cache != nil && cache.valid && s[:10] == string(cache.day[:]) {
		midnight = cache.midnight
	} else {
		y, ok1 := digits4(s[0], s[1], s[2], s[3])
		mo, ok2 := digits2(s[5], s[6])
		d, ok3 := digits2(s[8], s[9])
		if !(ok1 && ok2 && ok3) || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) {
			return 0, false
		}
		midnight = daysFromCivil(y, mo, d) * 86_400_000_000
		if cache != nil {
			copy(cache.day[:], s[:10])
			cache.valid = true
			cache.midnight = midnight
		}
	}
	if len(s) == 10 {
		return midnight, true
	}
	tod, ok := parseTimeOfDayZone(s[10:])
	if !ok {
		return 0, false
	}
	return midnight + tod, true
}

// parseTimeOfDayZone parses "(T|spaces)H[H]:MM[:SS[(.|,)fraction]][zone]" into microseconds after
// midnight UTC of the date before it (negative or past a day when a zone offset moves it there).
func parseTimeOfDayZone(s string) (int64, bool) {
	switch {
	case len(s) == 0:
		return 0, false
	case s[0] == 'T':
		s = s[1:]
	case s[0] == ' ':
		s = trimLeadingSpaces(s)
	default:
		return 0, false
	}
	if len(s) < 4 {
		return 0, false
	}
	// The hour may have one digit (time.Parse's "15" does too); minutes and seconds have two.
	i := 0
	h := int(s[i] - '0')
	if h > 9 {
		return 0, false
	}
	i++
	if d := s[i] - '0'; d <= 9 {
		h = h*10 + int(d)
		i++
	}
	if h > 23 || len(s) < i+3 || s[i] != ':' {
		return 0, false
	}
	mi, ok := digits2(s[i+1], s[i+2])
	if !ok || mi > 59 {
		return 0, false
	}
	return parseSecondsZone(s[i+3:], (int64(h)*60+int64(mi))*60_000_000)
}

// pow10us[n] scales a fraction of n digits (n <= 6) to microseconds.
var pow10us = [7]int64{1_000_000, 100_000, 10_000, 1_000, 100, 10, 1}

// parseSecondsZone parses "[:SS[(.|,)fraction]][zone]", the rest of a value after its minutes,
// and adds it to us, the microseconds of the value's minute; a zone offset is subtracted.
func parseSecondsZone(s string, us int64) (int64, bool) {
	if len(s) == 8 && s[0] == ':' && s[3] == '.' && s[7] == 'Z' {
		// ":SS.mmmZ", the form of JavaScript's toISOString and most JSON encoders.
		sec, ok1 := digits2(s[1], s[2])
		ms, ok2 := digits2(s[4], s[5])
		d := s[6] - '0'
		if ok1 && ok2 && d <= 9 && sec <= 59 {
			return us + int64(sec)*1_000_000 + int64(ms*10+int(d))*1_000, true
		}
		// Anything else of that length (a space before the Z, a bad digit) takes the general path.
	}
	i := 0
	if i < len(s) && s[i] == ':' {
		if len(s) < i+3 {
			return 0, false
		}
		sec, ok := digits2(s[i+1], s[i+2])
		if !ok || sec > 59 {
			return 0, false
		}
		us += int64(sec) * 1_000_000
		i += 3
		if i+1 < len(s) && (s[i] == '.' || s[i] == ',') && s[i+1]-'0' <= 9 {
			i++
			// Digits beyond the sixth are read and dropped: the value is floored to the µs.
			frac, n := int64(0), 0
			for ; i < len(s) && s[i]-'0' <= 9; i++ {
				if n < 6 {
					frac = frac*10 + int64(s[i]-'0')
					n++
				}
			}
			us += frac * pow10us[n]
		}
	}
	if i == len(s) {
		return us, true
	}
	if len(s)-i == 1 && s[i] == 'Z' {
		return us, true
	}
	off, ok := parseZone(s[i:])
	if !ok {
		return 0, false
	}
	return us - off, true
}

// parseZone parses "[spaces](Z | ±HH | ±HH:MM | ±HHMM)", the whole of s, into an offset from UTC in
// microseconds (east positive).
func parseZone(s string) (int64, bool) {
	s = trimLeadingSpaces(s)
	if s == "Z" {
		return 0, true
	}
	if len(s) < 3 || (s[0] != '+' && s[0] != '-') {
		return 0, false
	}
	hh, ok := digits2(s[1], s[2])
	if !ok {
		return 0, false
	}
	mm := 0
	switch len(s) {
	case 3:
	case 5:
		mm, ok = digits2(s[3], s[4])
	case 6:
		if s[3] != ':' {
			return 0, false
		}
		mm, ok = digits2(s[4], s[5])
	default:
		return 0, false
	}
	if !ok || hh > 24 || mm > 60 {
		return 0, false
	}
	off := (int64(hh)*60 + int64(mm)) * 60_000_000
	if s[0] == '-' {
		off = -off
	}
	return off, true
}

func trimLeadingSpaces(s string) string {
	for len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	return s
}

// digits2 converts two ASCII digits; ok is false unless both are digits.
func digits2(a, b byte) (int, bool) {
	a, b = a-'0', b-'0'
	return int(a)*10 + int(b), a <= 9 && b <= 9
}

func digits4(a, b, c, d byte) (int, bool) {
	hi, ok1 := digits2(a, b)
	lo, ok2 := digits2(c, d)
	return hi*100 + lo, ok1 && ok2
}
