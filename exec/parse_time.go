package exec

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseTimestamp parses a timestamp in ISO-8601 / SQL form ("2024-01-02 03:04:05[.ffffff][zone]",
// with 'T' or a space, or a date alone; see parse_timestamp.go for the grammar) into microseconds
// since the epoch, UTC.
func ParseTimestamp(s string) (int64, error) {
	if us, ok := parseTimestamp(s, nil); ok {
		return us, nil
	}
	return 0, Errorf(CodeInvalidDatetime, "invalid timestamp %q (expected e.g. '2024-01-31 13:45:00', '2024-01-31T13:45:00.123Z' or '2024-01-31 13:45:00+01:00')", strings.TrimSpace(s))
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil converts a proleptic Gregorian date to days since 1970-01-01 (H. Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// ParseDate parses "YYYY-MM-DD" (surrounding white space ignored), or any form of ParseDateTime
// (time and zone ignored, as PostgreSQL does), into days since the epoch.
func ParseDate(s string) (int32, error) {
	t := strings.TrimSpace(s)
	if len(t) == 10 && t[4] == '-' && t[7] == '-' {
		y, ok1 := digits4(t[0], t[1], t[2], t[3])
		mo, ok2 := digits2(t[5], t[6])
		d, ok3 := digits2(t[8], t[9])
		if ok1 && ok2 && ok3 && mo >= 1 && mo <= 12 && d >= 1 && d <= daysIn(y, mo) {
			return int32(daysFromCivil(y, mo, d)), nil
		}
	}
	// PostgreSQL's date input also takes a timestamp (time and zone ignored) and 'epoch'.
	if dt, err := ParseDateTime(s, "date"); err == nil && dt.Days >= -1<<31 && dt.Days < 1<<31 {
		return int32(dt.Days), nil
	}
	return 0, Errorf(CodeInvalidDatetime, "invalid date %q (expected YYYY-MM-DD)", s)
}

var intervalUnits = map[string]int64{
	"microsecond": 1, "microseconds": 1, "us": 1,
	"millisecond": 1000, "milliseconds": 1000, "ms": 1000,
	"second": 1e6, "seconds": 1e6, "sec": 1e6, "secs": 1e6, "s": 1e6,
	"minute": 60e6, "minutes": 60e6, "min": 60e6, "mins": 60e6, "m": 60e6,
	"hour": 3600e6, "hours": 3600e6, "h": 3600e6,
	"day": 86400e6, "days": 86400e6, "d": 86400e6,
	"week": 7 * 86400e6, "weeks": 7 * 86400e6,
}

// IntervalUnit returns the length of one unit ("minute", "hours", ...) in microseconds. Months and
// years have no fixed length and are refused with an explanation.
func IntervalUnit(unit string) (int64, error) {
	u := strings.ToLower(strings.TrimSpace(unit))
	if us, ok := intervalUnits[u]; ok {
		return us, nil
	}
	switch u {
	case "month", "months", "year", "years", "quarter", "quarters":
		return 0, fmt.Errorf("interval unit %q has no fixed length; use days, hours, minutes or seconds", unit)
	}
	return 0, fmt.Errorf("unknown interval unit %q (expected microsecond, millisecond, second, minute, hour, day or week)", unit)
}

// ParseInterval parses '10 minutes', '1 hour 30 minutes', '1.5 hours', '90 s' or 'HH:MM:SS' into
// microseconds. A bare number means seconds.
func ParseInterval(s string) (int64, error) {
	orig := s
	s = strings.TrimSpace(strings.ToLower(s))
	s = strings.TrimPrefix(s, "interval ")
	if s == "" {
		return 0, Errorf(CodeInvalidDatetime, "invalid interval %q", orig)
	}
	if strings.Count(s, ":") == 2 && !strings.Contains(s, " ") {
		parts := strings.Split(s, ":")
		h, e1 := strconv.ParseInt(parts[0], 10, 64)
		m, e2 := strconv.ParseInt(parts[1], 10, 64)
		sec, e3 := strconv.ParseFloat(parts[2], 64)
		if e1 != nil || e2 != nil || e3 != nil {
			return 0, Errorf(CodeInvalidDatetime, "invalid interval %q", orig)
		}
		return (h*3600+m*60)*1e6 + int64(sec*1e6+0.5), nil
	}
	// Split "10minutes" and "10 minutes" alike into number/unit tokens.
	var toks []string
	cur := strings.Builder{}
	flush := func() {
		if cur.Len() > 0 {
			toks = append(toks, cur.String())
			cur.Reset()
		}
	}
	prevDigit := false
	for _, r := range s {
		isNum := (r >= '0' && r <= '9') || r == '.' || r == '-' || r == '+' || r == ':'
		switch {
		case r == ' ' || r == ',':
			flush()
		case cur.Len() > 0 && isNum != prevDigit:
			flush()
			cur.WriteRune(r)
		default:
			cur.WriteRune(r)
		}
		prevDigit = isNum
	}
	flush()
	var total int64
	for i := 0; i < len(toks); i++ {
		if strings.Count(toks[i], ":") == 2 {
			// The clock part of PostgreSQL's (and FormatInterval's) "1 day 02:03:04.5".
			c, err := ParseInterval(strings.TrimPrefix(toks[i], "-"))
			if err != nil {
				return 0, Errorf(CodeInvalidDatetime, "invalid interval %q", orig)
			}
			if strings.HasPrefix(toks[i], "-") {
				c = -c
			}
			total += c
			continue
		}
		n, err := strconv.ParseFloat(toks[i], 64)
		if err != nil {
			return 0, Errorf(CodeInvalidDatetime, "invalid interval %q: expected a number before %q", orig, toks[i])
		}
		unit := int64(1e6)
		if i+1 < len(toks) {
			u, err := IntervalUnit(toks[i+1])
			if err != nil {
				return 0, Errorf(CodeInvalidDatetime, "invalid interval %q: %v", orig, err)
			}
			unit = u
			i++
		} else if len(toks) > 1 {
			return 0, Errorf(CodeInvalidDatetime, "invalid interval %q: number %q has no unit", orig, toks[i])
		}
		v := n*float64(unit) + 0.5*sign(n)
		if limit := float64(math.MaxInt64); math.Abs(v) >= limit || math.Abs(float64(total)+v) >= limit {
			return 0, fmt.Errorf("interval %q is out of range (at most about 292,000 years)", orig)
		}
		total += int64(v)
	}
	return total, nil
}

func sign(f float64) float64 {
	if f < 0 {
		return -1
	}
	return 1
}
