package exec

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Datetime patterns of to_timestamp, to_date, unix_timestamp and date_format, in two dialects:
//
//   - Java/Spark (yyyy-MM-dd HH:mm:ss.SSS): case-sensitive letters, 'quoted text', '' for a quote;
//     any other ASCII letter is an error. Fields missing from a parsed value default to
//     1970-01-01 00:00:00.
//   - PostgreSQL (YYYY-MM-DD HH24:MI:SS.MS): upper-case field codes, "quoted text", FM (no padding)
//     and FX (exact separators) modifiers; letters that form no field are literal, as in
//     PostgreSQL. Missing fields default to PostgreSQL's 0001-01-01 BC 00:00:00 (year 0).
//
// A pattern is PostgreSQL-style when, outside quoted text, it contains an upper-case Y, DD,
// HH12, HH24, MI or TZH — none of which a Java pattern uses for a field we accept (Java's Y is the
// week-based year, DD a zero-padded day of the year) — and Java-style otherwise. The README holds
// the table of letters.
//
// Parsing reads the whole value (surrounding white space ignored); a field followed directly by
// another numeric field reads exactly its width, otherwise up to its maximum. Values that do not
// match fail with SQLSTATE 22007, fields out of range (month 13, 2016-02-30) with 22008. Every
// value is UTC unless the pattern has a zone field.

type dtDialect uint8

const (
	dtJava dtDialect = iota
	dtPG
)

type dtKind uint8

const (
	dtLiteral    dtKind = iota
	dtSeparator         // PostgreSQL: a non-letter, non-digit template character
	dtYear              // width: digits formatted (Java y count, PG Y count); two for yy/YY
	dtMonth             // numeric month
	dtMonthName         // style: abbreviated or full, with case
	dtDay               // day of month
	dtDayOfYear         // 1..366
	dtDayOfWeek         // PostgreSQL D (1 = Sunday): formatted, ignored when parsing
	dtDayName           // Java E, PostgreSQL Dy/Day: formatted, checked as a name when parsing
	dtHour24            // 0..23
	dtHour12            // 1..12 (Java h, PostgreSQL HH/HH12)
	dtHourK24           // Java k: 1..24
	dtHourK12           // Java K: 0..11
	dtMinute            // 0..59
	dtSecond            // 0..59
	dtSecOfDay          // PostgreSQL SSSS: seconds past midnight
	dtFraction          // Java S..S, PostgreSQL FF1..FF6: width digits of the second
	dtMillis            // PostgreSQL MS
	dtMicros            // PostgreSQL US
	dtAMPM              // style: case and dots
	dtZoneOffset        // style: offset form (see zone* constants)
	dtZoneName          // Java z
	dtTZH               // PostgreSQL TZH: sign and hours
	dtTZM               // PostgreSQL TZM: minutes
)

// Name and AM/PM styles.
const (
	styleUpper = 1 << iota // JANUARY, AM
	styleLower             // january, am
	styleFull              // January rather than Jan
	styleDots              // A.M.
)

// Zone offset forms (Java X, x, Z).
const (
	zoneHH       = iota // X, x: +HH (+HHMM accepted when parsing)
	zoneHHMM            // XX, xx, Z..ZZZ: +HHMM
	zoneHH_MM           // XXX, xxx, ZZZZZ: +HH:MM
	zoneFlagZ    = 8    // X forms: "Z" for a zero offset
	zoneFlagMask = 7
)

type dtElem struct {
	kind  dtKind
	width int // digits formatted / read (0: the kind's default)
	max   int // digits read at most when not followed by a numeric field
	style int
	fm    bool   // PostgreSQL FM: no padding when formatting
	th    int    // PostgreSQL TH (1) / th (2) ordinal suffix of a numeric field
	lit   string // dtLiteral, dtSeparator
}

// DatetimePattern is a compiled pattern; it is immutable and safe for concurrent use.
type DatetimePattern struct {
	src     string
	dialect dtDialect
	exact   bool // PostgreSQL FX
	elems   []dtElem
	// bareLetters: a PostgreSQL pattern has letters outside quotes that form no field.
	bareLetters bool
	// parseErr refuses parsing with a pattern whose fields contradict each other (a field twice,
	// AM/PM with a 24-hour field): such a pattern can still format.
	parseErr error
}

// CompileDatetimePattern compiles a Java/Spark or PostgreSQL datetime pattern (see above); a
// pattern that cannot be compiled fails with SQLSTATE 22007. A pattern without any of the
// PostgreSQL markers that is not a valid Java pattern but reads entirely as PostgreSQL fields and
// separators ("Month", "FMDay, Mon") is PostgreSQL-style.
func CompileDatetimePattern(p string) (*DatetimePattern, error) {
	dp := &DatetimePattern{src: p}
	if !isPGPattern(p) {
		err := dp.compileJava()
		if err == nil {
			dp.parseErr = dp.check()
			return dp, nil
		}
		// Not a valid Java pattern: it may be a PostgreSQL one without a marker ("Month").
		pg := &DatetimePattern{src: p, dialect: dtPG}
		if pg.compilePG() != nil || !pg.hasField() || pg.bareLetters {
			return nil, err
		}
		dp = pg
	} else {
		dp.dialect = dtPG
		if err := dp.compilePG(); err != nil {
			return nil, err
		}
	}
	dp.parseErr = dp.check()
	return dp, nil
}

// hasField says the pattern has a field, not only literal text.
func (p *DatetimePattern) hasField() bool {
	for _, e := range p.elems {
		if e.kind != dtLiteral && e.kind != dtSeparator {
			return true
		}
	}
	return false
}

// CheckParse returns the error Parse would fail every value with (a field given twice, AM/PM
// with a 24-hour field), or nil: such a pattern can only format.
func (p *DatetimePattern) CheckParse() error { return p.parseErr }

// Dialect names the pattern's dialect: "java" or "postgresql".
func (p *DatetimePattern) Dialect() string {
	if p.dialect == dtPG {
		return "postgresql"
	}
	return "java"
}

func (p *DatetimePattern) errorf(format string, args ...any) error {
	return Errorf(CodeInvalidDatetime, "datetime pattern %q: %s", p.src, fmt.Sprintf(format, args...))
}

// isPGPattern applies the dialect rule's markers to p, skipping quoted text of either dialect.
func isPGPattern(p string) bool {
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '\'', '"':
			j := strings.IndexByte(p[i+1:], c)
			if j < 0 {
				return c == '"'
			}
			i += j + 1
		case 'Y':
			return true
		case 'D':
			// DD is PostgreSQL's day of the month; DDD (day of the year) is both dialects'.
			if strings.HasPrefix(p[i:], "DD") && !strings.HasPrefix(p[i:], "DDD") {
				return true
			}
			for i+1 < len(p) && p[i+1] == 'D' {
				i++
			}
		default:
			for _, m := range [...]string{"HH12", "HH24", "MI", "MS", "US", "TZH"} {
				if strings.HasPrefix(p[i:], m) {
					return true
				}
			}
		}
	}
	return false
}

func (p *DatetimePattern) compileJava() error {
	s := p.src
	for i := 0; i < len(s); {
		c := s[i]
		if c == '\'' {
			if i+1 < len(s) && s[i+1] == '\'' {
				p.lit("'")
				i += 2
				continue
			}
			var sb strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return p.errorf("unterminated quote")
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						sb.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				sb.WriteByte(s[j])
				j++
			}
			p.lit(sb.String())
			i = j + 1
			continue
		}
		if !isASCIILetter(c) {
			p.lit(string(c))
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] == c {
			j++
		}
		n := j - i
		e := dtElem{}
		switch c {
		case 'y', 'u':
			e.kind = dtYear
			switch {
			case n == 2:
				e.width, e.max = 2, 2
			default:
				e.width, e.max = n, max(n, 6)
			}
		case 'M', 'L':
			switch n {
			case 1, 2:
				e = dtElem{kind: dtMonth, width: n, max: 2}
			case 3:
				e = dtElem{kind: dtMonthName}
			case 4:
				e = dtElem{kind: dtMonthName, style: styleFull}
			default:
				return p.errorf("too many pattern letters %q", s[i:j])
			}
		case 'd':
			e = dtElem{kind: dtDay, width: n, max: 2}
		case 'D':
			e = dtElem{kind: dtDayOfYear, width: n, max: 3}
		case 'H':
			e = dtElem{kind: dtHour24, width: n, max: 2}
		case 'h':
			e = dtElem{kind: dtHour12, width: n, max: 2}
		case 'k':
			e = dtElem{kind: dtHourK24, width: n, max: 2}
		case 'K':
			e = dtElem{kind: dtHourK12, width: n, max: 2}
		case 'm':
			e = dtElem{kind: dtMinute, width: n, max: 2}
		case 's':
			e = dtElem{kind: dtSecond, width: n, max: 2}
		case 'S':
			if n > 9 {
				return p.errorf("too many pattern letters %q (at most 9)", s[i:j])
			}
			e = dtElem{kind: dtFraction, width: n, max: n}
		case 'a':
			if n > 1 {
				return p.errorf("too many pattern letters %q", s[i:j])
			}
			e = dtElem{kind: dtAMPM, style: styleUpper}
		case 'E':
			switch {
			case n <= 3:
				e = dtElem{kind: dtDayName}
			case n == 4:
				e = dtElem{kind: dtDayName, style: styleFull}
			default:
				return p.errorf("too many pattern letters %q", s[i:j])
			}
		case 'z':
			if n > 4 {
				return p.errorf("too many pattern letters %q", s[i:j])
			}
			e = dtElem{kind: dtZoneName}
		case 'X', 'x':
			if n > 3 {
				return p.errorf("too many pattern letters %q (X, XX, XXX)", s[i:j])
			}
			e = dtElem{kind: dtZoneOffset, style: n - 1}
			if c == 'X' {
				e.style |= zoneFlagZ
			}
		case 'Z':
			switch {
			case n <= 3:
				e = dtElem{kind: dtZoneOffset, style: zoneHHMM}
			case n == 5:
				e = dtElem{kind: dtZoneOffset, style: zoneHH_MM | zoneFlagZ}
			default:
				return p.errorf("pattern letters %q are not supported (Z, ZZZ or ZZZZZ)", s[i:j])
			}
		default:
			return p.errorf("unsupported pattern letter %q (quote literal text: 'T')", string(c))
		}
		p.elems = append(p.elems, e)
		i = j
	}
	return nil
}

func isASCIILetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

func (p *DatetimePattern) lit(s string) {
	if n := len(p.elems); n > 0 && p.elems[n-1].kind == dtLiteral {
		p.elems[n-1].lit += s
		return
	}
	p.elems = append(p.elems, dtElem{kind: dtLiteral, lit: s})
}

// pgCodes are PostgreSQL's template patterns, longest first where one is a prefix of another.
var pgCodes = []struct {
	code string
	elem dtElem
}{
	{"HH24", dtElem{kind: dtHour24, width: 2, max: 2}},
	{"HH12", dtElem{kind: dtHour12, width: 2, max: 2}},
	{"HH", dtElem{kind: dtHour12, width: 2, max: 2}},
	{"MI", dtElem{kind: dtMinute, width: 2, max: 2}},
	{"SSSSS", dtElem{kind: dtSecOfDay, width: 1, max: 5}},
	{"SSSS", dtElem{kind: dtSecOfDay, width: 1, max: 5}},
	{"SS", dtElem{kind: dtSecond, width: 2, max: 2}},
	{"MS", dtElem{kind: dtMillis, width: 3, max: 3}},
	{"US", dtElem{kind: dtMicros, width: 6, max: 6}},
	{"FF1", dtElem{kind: dtFraction, width: 1, max: 1}},
	{"FF2", dtElem{kind: dtFraction, width: 2, max: 2}},
	{"FF3", dtElem{kind: dtFraction, width: 3, max: 3}},
	{"FF4", dtElem{kind: dtFraction, width: 4, max: 4}},
	{"FF5", dtElem{kind: dtFraction, width: 5, max: 5}},
	{"FF6", dtElem{kind: dtFraction, width: 6, max: 6}},
	{"A.M.", dtElem{kind: dtAMPM, style: styleUpper | styleDots}},
	{"P.M.", dtElem{kind: dtAMPM, style: styleUpper | styleDots}},
	{"a.m.", dtElem{kind: dtAMPM, style: styleLower | styleDots}},
	{"p.m.", dtElem{kind: dtAMPM, style: styleLower | styleDots}},
	{"AM", dtElem{kind: dtAMPM, style: styleUpper}},
	{"PM", dtElem{kind: dtAMPM, style: styleUpper}},
	{"am", dtElem{kind: dtAMPM, style: styleLower}},
	{"pm", dtElem{kind: dtAMPM, style: styleLower}},
	{"YYYY", dtElem{kind: dtYear, width: 4, max: 6}},
	{"YYY", dtElem{kind: dtYear, width: 3, max: 3}},
	{"YY", dtElem{kind: dtYear, width: 2, max: 2}},
	{"Y", dtElem{kind: dtYear, width: 1, max: 1}},
	{"MONTH", dtElem{kind: dtMonthName, style: styleFull | styleUpper}},
	{"Month", dtElem{kind: dtMonthName, style: styleFull}},
	{"month", dtElem{kind: dtMonthName, style: styleFull | styleLower}},
	{"MON", dtElem{kind: dtMonthName, style: styleUpper}},
	{"Mon", dtElem{kind: dtMonthName}},
	{"mon", dtElem{kind: dtMonthName, style: styleLower}},
	{"MM", dtElem{kind: dtMonth, width: 2, max: 2}},
	{"DAY", dtElem{kind: dtDayName, style: styleFull | styleUpper}},
	{"Day", dtElem{kind: dtDayName, style: styleFull}},
	{"day", dtElem{kind: dtDayName, style: styleFull | styleLower}},
	{"DY", dtElem{kind: dtDayName, style: styleUpper}},
	{"Dy", dtElem{kind: dtDayName}},
	{"dy", dtElem{kind: dtDayName, style: styleLower}},
	{"DDD", dtElem{kind: dtDayOfYear, width: 3, max: 3}},
	{"DD", dtElem{kind: dtDay, width: 2, max: 2}},
	{"D", dtElem{kind: dtDayOfWeek, width: 1, max: 1}},
	{"TZH", dtElem{kind: dtTZH}},
	{"TZM", dtElem{kind: dtTZM, width: 2, max: 2}},
}

func (p *DatetimePattern) compilePG() error {
	s := p.src
	fm := false
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "FM") {
			fm = true
			i += 2
			continue
		}
		if strings.HasPrefix(s[i:], "FX") {
			p.exact = true
			i += 2
			continue
		}
		c := s[i]
		if c == '"' {
			var sb strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return p.errorf("unterminated quoted text")
				}
				if s[j] == '\\' && j+1 < len(s) {
					sb.WriteByte(s[j+1])
					j += 2
					continue
				}
				if s[j] == '"' {
					break
				}
				sb.WriteByte(s[j])
				j++
			}
			p.lit(sb.String())
			i = j + 1
			fm = false
			continue
		}
		if c == '\\' && i+1 < len(s) {
			p.lit(string(s[i+1]))
			i += 2
			continue
		}
		matched := false
		for _, pc := range pgCodes {
			if strings.HasPrefix(s[i:], pc.code) {
				e := pc.elem
				e.fm = fm
				i += len(pc.code)
				if e.isNumeric() && strings.HasPrefix(s[i:], "TH") {
					e.th, i = 1, i+2
				} else if e.isNumeric() && strings.HasPrefix(s[i:], "th") {
					e.th, i = 2, i+2
				}
				p.elems = append(p.elems, e)
				matched = true
				break
			}
		}
		fm = false
		if matched {
			continue
		}
		if isASCIILetter(c) || (c >= '0' && c <= '9') || c >= 0x80 {
			p.bareLetters = p.bareLetters || isASCIILetter(c)
			p.lit(string(c))
		} else {
			p.elems = append(p.elems, dtElem{kind: dtSeparator, lit: string(c)})
		}
		i++
	}
	return nil
}

// check refuses patterns whose fields contradict each other.
func (p *DatetimePattern) check() error {
	seen := map[dtKind]bool{}
	for _, e := range p.elems {
		k := e.kind
		switch k {
		case dtLiteral, dtSeparator, dtDayName, dtDayOfWeek:
			continue
		case dtMonthName:
			k = dtMonth
		case dtHour12, dtHourK24, dtHourK12:
			k = dtHour24
		case dtZoneName:
			k = dtZoneOffset
		}
		if seen[k] {
			return p.errorf("a field appears twice")
		}
		seen[k] = true
	}
	var ampm, h12, h24 bool
	for _, e := range p.elems {
		switch e.kind {
		case dtAMPM:
			ampm = true
		case dtHour12, dtHourK12:
			h12 = true
		case dtHour24, dtHourK24:
			h24 = true
		}
	}
	if p.dialect == dtPG {
		return nil // PostgreSQL lets the last AM/PM or hour field win
	}
	if ampm && h24 {
		return p.errorf("AM/PM cannot be used with a 24-hour field")
	}
	if ampm && !h12 {
		return p.errorf("AM/PM needs a 12-hour field (h, HH12)")
	}
	return nil
}

// isNumeric says an element reads digits.
func (e *dtElem) isNumeric() bool {
	switch e.kind {
	case dtYear, dtMonth, dtDay, dtDayOfYear, dtDayOfWeek, dtHour24, dtHour12, dtHourK24, dtHourK12,
		dtMinute, dtSecond, dtSecOfDay, dtFraction, dtMillis, dtMicros, dtTZM:
		return true
	}
	return false
}

var (
	monthNames = [...]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
	dayNames   = [...]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
)

// dtFields are a parsed value's fields.
type dtFields struct {
	year, month, day, doy        int
	hour, minute, second         int
	frac                         int64 // microseconds
	pm, hasAMPM, hasDOY, hasHour bool
	hour12                       bool
	offset                       int64 // seconds east of UTC
	loc                          *time.Location
	secOfDay                     int
	hasSecOfDay                  bool
}

// Parse converts s to microseconds since the epoch (UTC).
func (p *DatetimePattern) Parse(s string) (int64, error) {
	if p.parseErr != nil {
		return 0, p.parseErr
	}
	in := strings.TrimSpace(s)
	f := dtFields{year: 1970, month: 1, day: 1}
	if p.dialect == dtPG {
		f.year = 0
	}
	pos := 0
	fail := func(what string) error {
		return Errorf(CodeInvalidDatetime, "invalid value %q for datetime pattern %q: expected %s at position %d", s, p.src, what, pos+1)
	}
	for i := range p.elems {
		e := &p.elems[i]
		nextNumeric := i+1 < len(p.elems) && p.elems[i+1].isNumeric()
		if p.dialect == dtPG && e.kind != dtLiteral && e.kind != dtSeparator {
			for pos < len(in) && in[pos] == ' ' {
				pos++
			}
		}
		if p.dialect == dtPG && !p.exact && pos >= len(in) {
			break // PostgreSQL ignores the fields of the pattern that the value does not reach
		}
		switch e.kind {
		case dtLiteral:
			if p.dialect == dtPG && !p.exact {
				// PostgreSQL skips as many characters as the literal text has.
				n := len(e.lit)
				if pos+n > len(in) {
					return 0, fail(strconv.Quote(e.lit))
				}
				pos += n
				continue
			}
			if !strings.HasPrefix(in[pos:], e.lit) {
				return 0, fail(strconv.Quote(e.lit))
			}
			pos += len(e.lit)
		case dtSeparator:
			if p.exact {
				// FX: exactly one separator (any) where the pattern has one.
				if pos >= len(in) || isAlnum(in[pos]) {
					return 0, fail("a separator")
				}
				pos++
				continue
			}
			// A separator matches any one separator of the input, or nothing; a space any run.
			if e.lit == " " {
				for pos < len(in) && in[pos] == ' ' {
					pos++
				}
				continue
			}
			if pos < len(in) && !isAlnum(in[pos]) {
				pos++
			}
		case dtMonthName, dtDayName:
			names := monthNames[:]
			if e.kind == dtDayName {
				names = dayNames[:]
			}
			idx, n := matchName(in[pos:], names, e.style&styleFull != 0)
			if idx < 0 {
				what := "a month name"
				if e.kind == dtDayName {
					what = "a day name"
				}
				return 0, fail(what)
			}
			if e.kind == dtMonthName {
				f.month = idx + 1
			}
			pos += n
		case dtAMPM:
			n, pm, ok := matchAMPM(in[pos:])
			if !ok {
				return 0, fail("AM or PM")
			}
			f.hasAMPM, f.pm = true, pm
			pos += n
		case dtZoneOffset, dtTZH:
			off, n, ok := parseOffset(in[pos:], e)
			if !ok {
				return 0, fail("a zone offset such as +01:00")
			}
			f.offset += off
			pos += n
		case dtZoneName:
			j := pos
			for j < len(in) && (isAlnum(in[j]) || in[j] == '/' || in[j] == '_' || in[j] == '+' || in[j] == '-') {
				j++
			}
			name := in[pos:j]
			switch strings.ToUpper(name) {
			case "UTC", "GMT", "UT", "Z":
			default:
				loc, err := time.LoadLocation(name)
				if err != nil || name == "" || name == "Local" {
					return 0, fail("a time zone name such as UTC or Europe/Paris")
				}
				f.loc = loc
			}
			pos = j
		default:
			minD, maxD := 1, e.max
			if e.kind == dtFraction || e.kind == dtMillis || e.kind == dtMicros {
				minD = 1
			} else if nextNumeric || (p.dialect == dtJava && e.width >= 2) {
				minD = max(e.width, 1)
				if nextNumeric {
					maxD = minD
				}
			}
			if e.kind == dtYear && p.dialect == dtJava && e.width == 2 {
				minD, maxD = 2, 2
			}
			j := pos
			for j < len(in) && j-pos < maxD && in[j] >= '0' && in[j] <= '9' {
				j++
			}
			if j-pos < minD {
				return 0, fail(strconv.Itoa(minD) + " digit(s)")
			}
			digits := in[pos:j]
			v, _ := strconv.Atoi(digits)
			pos = j
			if e.th != 0 {
				pos = min(pos+2, len(in)) // PostgreSQL skips the suffix's two characters
			}
			switch e.kind {
			case dtYear:
				f.year = v
				switch {
				case e.width == 2 && p.dialect == dtJava:
					f.year = 2000 + v
				case e.width == 2 && len(digits) <= 2:
					f.year = pgCentury(v, 100)
				case e.width == 3 && len(digits) <= 3:
					f.year = pgCentury(v, 1000)
				case e.width == 1 && len(digits) == 1:
					f.year = 2020 + v
				}
			case dtMonth:
				f.month = v
			case dtDay:
				f.day = v
			case dtDayOfYear:
				f.doy, f.hasDOY = v, true
			case dtDayOfWeek:
			case dtHour24:
				f.hour, f.hasHour = v, true
				if v > 23 {
					return 0, outOfRange(s, "hour", v)
				}
			case dtHour12:
				f.hour, f.hasHour, f.hour12 = v, true, true
				if v < 1 || v > 12 {
					return 0, outOfRange(s, "hour (1-12)", v)
				}
			case dtHourK24:
				if v < 1 || v > 24 {
					return 0, outOfRange(s, "hour (1-24)", v)
				}
				f.hour, f.hasHour = v%24, true
			case dtHourK12:
				if v > 11 {
					return 0, outOfRange(s, "hour (0-11)", v)
				}
				f.hour, f.hasHour, f.hour12 = v, true, true
			case dtMinute:
				f.minute = v
			case dtSecond:
				f.second = v
			case dtSecOfDay:
				f.secOfDay, f.hasSecOfDay = v, true
			case dtFraction, dtMillis, dtMicros:
				width := 6
				if e.kind == dtMillis {
					width = 3
				}
				us := fracMicros(digits, width)
				if e.kind == dtMillis {
					us *= 1000
				}
				f.frac += us
			case dtTZM:
				if f.offset < 0 {
					f.offset -= int64(v) * 60
				} else {
					f.offset += int64(v) * 60
				}
			}
		}
	}
	if pos != len(in) {
		return 0, Errorf(CodeInvalidDatetime, "invalid value %q for datetime pattern %q: unexpected %q at position %d", s, p.src, in[pos:], pos+1)
	}
	return f.micros(s)
}

// pgCentury completes a short PostgreSQL year: two digits to the year nearest 2020, three to
// the nearest in 1100..2099 (PostgreSQL's rules).
func pgCentury(v, mod int) int {
	if mod == 100 {
		if v < 70 {
			return 2000 + v
		}
		return 1900 + v
	}
	if v >= 100 {
		return 1000 + v
	}
	return 2000 + v
}

// fracMicros scales fraction digits (of a second, or of width digits) to microseconds.
func fracMicros(digits string, width int) int64 {
	var v int64
	n := 0
	for i := 0; i < len(digits) && n < width; i++ {
		v = v*10 + int64(digits[i]-'0')
		n++
	}
	for ; n < width; n++ {
		v *= 10
	}
	if width == 3 {
		return v // milliseconds; the caller scales
	}
	return v
}

func outOfRange(s, field string, v int) error {
	return Errorf(CodeDatetimeOverflow, "date/time field value out of range: %s %d in %q", field, v, s)
}

func (f *dtFields) micros(s string) (int64, error) {
	if f.hour12 && f.hasAMPM {
		f.hour %= 12
		if f.pm {
			f.hour += 12
		}
	}
	if f.year > 294000 {
		return 0, outOfRange(s, "year", f.year)
	}
	var days int64
	if f.hasDOY {
		leap := daysIn(f.year, 2) == 29
		if f.doy < 1 || f.doy > 365 || (f.doy == 366 && !leap) {
			if !(f.doy == 366 && leap) {
				return 0, outOfRange(s, "day of year", f.doy)
			}
		}
		days = daysFromCivil(f.year, 1, 1) + int64(f.doy-1)
	} else {
		if f.month < 1 || f.month > 12 {
			return 0, outOfRange(s, "month", f.month)
		}
		if f.day < 1 || f.day > daysIn(f.year, f.month) {
			return 0, outOfRange(s, "day", f.day)
		}
		days = daysFromCivil(f.year, f.month, f.day)
	}
	if f.minute > 59 {
		return 0, outOfRange(s, "minute", f.minute)
	}
	if f.second > 59 {
		return 0, outOfRange(s, "second", f.second)
	}
	if f.frac >= 1_000_000 {
		return 0, outOfRange(s, "fraction of a second", int(f.frac))
	}
	secs := int64(f.hour)*3600 + int64(f.minute)*60 + int64(f.second)
	if f.hasSecOfDay {
		if f.secOfDay >= 86400 {
			return 0, outOfRange(s, "seconds past midnight", f.secOfDay)
		}
		secs = int64(f.secOfDay)
	}
	us := (days*86400+secs)*1_000_000 + f.frac
	if f.loc != nil {
		// The wall time is in loc: find its offset there (at that wall time).
		wall := time.UnixMicro(us).UTC()
		t := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), wall.Nanosecond(), f.loc)
		return t.UnixMicro(), nil
	}
	return us - f.offset*1_000_000, nil
}

func isAlnum(c byte) bool { return isASCIILetter(c) || (c >= '0' && c <= '9') }

// matchName finds a month or day name at the start of s (case-insensitive): the full name, or
// its first three letters when full is false (a full name is then accepted too, as PostgreSQL
// and Java do not, but a person would).
func matchName(s string, names []string, full bool) (int, int) {
	for i, n := range names {
		if len(s) >= len(n) && strings.EqualFold(s[:len(n)], n) {
			return i, len(n)
		}
	}
	if full {
		return -1, 0
	}
	for i, n := range names {
		if len(s) >= 3 && strings.EqualFold(s[:3], n[:3]) {
			return i, 3
		}
	}
	return -1, 0
}

func matchAMPM(s string) (n int, pm, ok bool) {
	for _, c := range []struct {
		text string
		pm   bool
	}{{"a.m.", false}, {"p.m.", true}, {"am", false}, {"pm", true}} {
		if len(s) >= len(c.text) && strings.EqualFold(s[:len(c.text)], c.text) {
			return len(c.text), c.pm, true
		}
	}
	return 0, false, false
}

// parseOffset reads a zone offset: Z (where the form allows it), ±HH, ±HHMM or ±HH:MM; PostgreSQL
// TZH is a sign and one or two hour digits. It returns seconds east of UTC.
func parseOffset(s string, e *dtElem) (int64, int, bool) {
	if e.kind == dtZoneOffset && e.style&zoneFlagZ != 0 && len(s) > 0 && (s[0] == 'Z' || s[0] == 'z') {
		return 0, 1, true
	}
	if len(s) == 0 || (s[0] != '+' && s[0] != '-') {
		if e.kind == dtTZH && len(s) > 0 && s[0] >= '0' && s[0] <= '9' {
			s = "+" + s
			off, n, ok := parseOffset(s, e)
			return off, n - 1, ok
		}
		return 0, 0, false
	}
	sign := int64(1)
	if s[0] == '-' {
		sign = -1
	}
	i := 1
	digits := func(maxN int) (int, int) {
		j := i
		for j < len(s) && j-i < maxN && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		v, _ := strconv.Atoi(s[i:j])
		return v, j - i
	}
	if e.kind == dtTZH {
		h, n := digits(2)
		if n == 0 || h > 15 {
			return 0, 0, false
		}
		return sign * int64(h) * 3600, i + n, true
	}
	h, n := digits(2)
	if n != 2 || h > 18 {
		return 0, 0, false
	}
	i += 2
	m := 0
	switch e.style & zoneFlagMask {
	case zoneHH:
		if v, n := digits(2); n == 2 {
			m, i = v, i+2
		}
	case zoneHHMM:
		v, n := digits(2)
		if n != 2 {
			return 0, 0, false
		}
		m, i = v, i+2
	case zoneHH_MM:
		if i >= len(s) || s[i] != ':' {
			return 0, 0, false
		}
		i++
		v, n := digits(2)
		if n != 2 {
			return 0, 0, false
		}
		m, i = v, i+2
	}
	if m > 59 {
		return 0, 0, false
	}
	return sign * (int64(h)*3600 + int64(m)*60), i, true
}

// Append formats us (microseconds since the epoch, UTC) with the pattern.
func (p *DatetimePattern) Append(dst []byte, us int64) []byte {
	days := floorDiv(us, usPerDay)
	rem := us - days*usPerDay
	y, mo, d := civilFromDays(days)
	secs := int(rem / 1_000_000)
	frac := rem % 1_000_000
	hour, minute, second := secs/3600, secs/60%60, secs%60
	dow := int(floorMod(days+4, 7)) // 1970-01-01 was a Thursday
	doy := int(days-daysFromCivil(y, 1, 1)) + 1
	for i := range p.elems {
		e := &p.elems[i]
		pad := func(v, width int) {
			if e.fm {
				width = 1
			}
			dst = appendPadded(dst, v, width)
			if e.th != 0 {
				dst = appendOrdinal(dst, v, e.th == 2)
			}
		}
		switch e.kind {
		case dtLiteral, dtSeparator:
			dst = append(dst, e.lit...)
		case dtYear:
			switch {
			case e.width == 2:
				pad(y%100, 2)
			case e.width == 3 && p.dialect == dtPG:
				pad(y%1000, 3)
			case e.width == 1 && p.dialect == dtPG:
				pad(y%10, 1)
			default:
				pad(y, e.width)
			}
		case dtMonth:
			pad(mo, e.width)
		case dtMonthName:
			dst = appendName(dst, monthNames[mo-1], e, p.dialect)
		case dtDay:
			pad(d, e.width)
		case dtDayOfYear:
			pad(doy, e.width)
		case dtDayOfWeek:
			pad(dow+1, 1)
		case dtDayName:
			dst = appendName(dst, dayNames[dow], e, p.dialect)
		case dtHour24:
			pad(hour, e.width)
		case dtHour12, dtHourK12:
			h := hour % 12
			if h == 0 && e.kind == dtHour12 {
				h = 12
			}
			pad(h, e.width)
		case dtHourK24:
			h := hour
			if h == 0 {
				h = 24
			}
			pad(h, e.width)
		case dtMinute:
			pad(minute, e.width)
		case dtSecond:
			pad(second, e.width)
		case dtSecOfDay:
			dst = strconv.AppendInt(dst, int64(secs), 10)
		case dtFraction:
			dst = appendFraction(dst, frac, e.width)
		case dtMillis:
			dst = appendFraction(dst, frac, 3)
		case dtMicros:
			dst = appendFraction(dst, frac, 6)
		case dtAMPM:
			text := "AM"
			if hour >= 12 {
				text = "PM"
			}
			if e.style&styleDots != 0 {
				text = text[:1] + "." + text[1:] + "."
			}
			if e.style&styleLower != 0 {
				text = strings.ToLower(text)
			}
			dst = append(dst, text...)
		case dtZoneOffset:
			switch {
			case e.style&zoneFlagZ != 0:
				dst = append(dst, 'Z')
			case e.style&zoneFlagMask == zoneHH:
				dst = append(dst, "+00"...)
			case e.style&zoneFlagMask == zoneHHMM:
				dst = append(dst, "+0000"...)
			default:
				dst = append(dst, "+00:00"...)
			}
		case dtZoneName:
			dst = append(dst, "UTC"...)
		case dtTZH:
			dst = append(dst, "+00"...)
		case dtTZM:
			dst = append(dst, "00"...)
		}
	}
	return dst
}

// appendName writes a month or day name in the element's length and case; PostgreSQL pads full
// names to nine characters unless FM is given.
func appendName(dst []byte, name string, e *dtElem, d dtDialect) []byte {
	if e.style&styleFull == 0 {
		name = name[:3]
	}
	switch {
	case e.style&styleUpper != 0:
		name = strings.ToUpper(name)
	case e.style&styleLower != 0:
		name = strings.ToLower(name)
	}
	dst = append(dst, name...)
	if d == dtPG && e.style&styleFull != 0 && !e.fm {
		for i := len(name); i < 9; i++ {
			dst = append(dst, ' ')
		}
	}
	return dst
}

// appendOrdinal writes the English ordinal suffix of v (st, nd, rd, th).
func appendOrdinal(dst []byte, v int, lower bool) []byte {
	suf := "TH"
	if v%100 < 11 || v%100 > 13 {
		switch v % 10 {
		case 1:
			suf = "ST"
		case 2:
			suf = "ND"
		case 3:
			suf = "RD"
		}
	}
	if lower {
		suf = strings.ToLower(suf)
	}
	return append(dst, suf...)
}

func appendPadded(dst []byte, v, width int) []byte {
	if v < 0 {
		dst = append(dst, '-')
		v = -v
	}
	var buf [20]byte
	b := strconv.AppendInt(buf[:0], int64(v), 10)
	for i := len(b); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, b...)
}

// appendFraction writes the first width digits of a microsecond fraction (zeros past six).
func appendFraction(dst []byte, frac int64, width int) []byte {
	var buf [6]byte
	for i := 5; i >= 0; i-- {
		buf[i] = byte('0' + frac%10)
		frac /= 10
	}
	for i := 0; i < width; i++ {
		if i < 6 {
			dst = append(dst, buf[i])
		} else {
			dst = append(dst, '0')
		}
	}
	return dst
}
