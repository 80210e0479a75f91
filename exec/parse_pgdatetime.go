package exec

import (
	"strings"
)

// PostgreSQL's date/time input forms beyond the fast TIMESTAMP parser (parse_timestamp.go, whose
// accepted set is exactly time.Parse's and stays so): what drivers send as parameter text. The
// server parses date/time parameters with ParseDateTime; ParseDate falls back to it, so CAST to
// DATE and DATE '...' literals accept the same set:
//
//	YYYY-MM-DD[(T|spaces)H[H]:MM[:SS[(.|,)fraction]]][zone]
//	YYYY-MM-DD spaces zone              a date with a zone and no time (JDBC: '2024-02-03 +00')
//	zone: [spaces](Z | UTC | GMT | ±HH | ±HHMM | ±HH:MM)
//	epoch                               1970-01-01 00:00:00 UTC
//
// 'infinity' and '-infinity' are refused with an explanation: the engine's dates and timestamps
// are finite. Words are case-insensitive; surrounding white space is ignored.

// DateTime is a date/time value split as written: the wall-clock date and time and the zone
// offset. A DATE keeps only Days; a timestamp without time zone keeps Local (PostgreSQL ignores
// the zone there); a timestamp with time zone is the instant UTC.
type DateTime struct {
	Days    int64 // days since 1970-01-01 of the written date
	Micros  int64 // time of day as written, 0 without a time
	Offset  int64 // zone offset east of UTC in microseconds, 0 without a zone
	HasZone bool
}

// Local is the written wall-clock time in microseconds since the epoch, zone ignored.
func (d DateTime) Local() int64 { return d.Days*86_400_000_000 + d.Micros }

// UTC is the instant in microseconds since the epoch: the wall-clock time minus the zone offset.
func (d DateTime) UTC() int64 { return d.Local() - d.Offset }

// ParseDateTime parses the forms listed above. kind ("date", "timestamp") only words the error.
func ParseDateTime(s, kind string) (DateTime, error) {
	t := strings.TrimSpace(s)
	bad := func() (DateTime, error) {
		return DateTime{}, Errorf(CodeInvalidDatetime, "invalid input syntax for type %s: %q (expected e.g. '2024-01-31', '2024-01-31 13:45:00', '2024-01-31T13:45:00.123+01:00' or 'epoch')", kind, strings.TrimSpace(s))
	}
	switch strings.ToLower(t) {
	case "epoch":
		return DateTime{}, nil
	case "infinity", "+infinity", "-infinity":
		return DateTime{}, Errorf(CodeInvalidDatetime, "%s value %q is not supported: streamsql's dates and timestamps are finite", kind, t)
	}
	if len(t) < 10 || t[4] != '-' || t[7] != '-' {
		return bad()
	}
	y, ok1 := digits4(t[0], t[1], t[2], t[3])
	mo, ok2 := digits2(t[5], t[6])
	d, ok3 := digits2(t[8], t[9])
	if !(ok1 && ok2 && ok3) || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) {
		return bad()
	}
	out := DateTime{Days: daysFromCivil(y, mo, d)}
	rest := t[10:]
	if rest == "" {
		return out, nil
	}
	switch rest[0] {
	case 'T', 't':
		rest = rest[1:]
		if rest == "" || rest[0]-'0' > 9 {
			return bad()
		}
	case ' ':
		rest = trimLeadingSpaces(rest)
	default:
		return bad()
	}
	if rest != "" && rest[0]-'0' <= 9 {
		us, n, ok := parseClock(rest)
		if !ok {
			return bad()
		}
		out.Micros, rest = us, rest[n:]
	}
	if rest == "" {
		return out, nil
	}
	off, ok := parseZoneName(rest)
	if !ok {
		return bad()
	}
	out.Offset, out.HasZone = off, true
	return out, nil
}

// parseClock parses "H[H]:MM[:SS[(.|,)fraction]]" at the start of s: microseconds after midnight
// and the bytes used. Fraction digits beyond microseconds are truncated.
func parseClock(s string) (us int64, n int, ok bool) {
	i := 0
	h := 0
	for ; i < len(s) && i < 2 && s[i]-'0' <= 9; i++ {
		h = h*10 + int(s[i]-'0')
	}
	if i == 0 || h > 24 || len(s) < i+3 || s[i] != ':' {
		return 0, 0, false
	}
	mi, ok := digits2(s[i+1], s[i+2])
	if !ok || mi > 59 {
		return 0, 0, false
	}
	i += 3
	us = (int64(h)*60 + int64(mi)) * 60_000_000
	if i < len(s) && s[i] == ':' {
		if len(s) < i+3 {
			return 0, 0, false
		}
		sec, ok := digits2(s[i+1], s[i+2])
		if !ok || sec > 60 {
			return 0, 0, false
		}
		us += int64(sec) * 1_000_000
		i += 3
		if i+1 < len(s) && (s[i] == '.' || s[i] == ',') && s[i+1]-'0' <= 9 {
			i++
			scale := int64(1_000_000)
			for ; i < len(s) && s[i]-'0' <= 9; i++ {
				if scale > 1 {
					scale /= 10
					us += int64(s[i]-'0') * scale
				}
			}
		}
	}
	if us > 86_400_000_000 { // 24:00:00 is the latest time PostgreSQL accepts
		return 0, 0, false
	}
	return us, i, true
}

// parseZoneName is parseZone plus the names UTC and GMT.
func parseZoneName(s string) (int64, bool) {
	switch strings.ToUpper(trimLeadingSpaces(s)) {
	case "UTC", "GMT", "Z":
		return 0, true
	}
	return parseZone(s)
}

// ParseTimeOfDay parses a TIME (or TIMETZ, whose zone is dropped) value "H[H]:MM[:SS[.f]][zone]"
// into microseconds after midnight.
func ParseTimeOfDay(s string) (int64, error) {
	t := strings.TrimSpace(s)
	us, n, ok := parseClock(t)
	if ok && n < len(t) {
		_, ok = parseZoneName(t[n:])
	}
	if !ok {
		return 0, Errorf(CodeInvalidDatetime, "invalid input syntax for type time: %q (expected e.g. '13:45:00')", t)
	}
	return us, nil
}
