package sources

import (
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/streamsql/streamsql/exec"
)

// bytesString views b as a string without copying. The result must not outlive the call it is
// passed to: b is a window of a read buffer that the next refill overwrites.
func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// trimSpace drops leading and trailing ASCII spaces and tabs.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// parseInt64 parses [+-]digits exactly; ok is false for anything else or on overflow.
func parseInt64(b []byte) (v int64, ok bool) {
	if len(b) == 0 {
		return 0, false
	}
	neg := false
	switch b[0] {
	case '-':
		neg = true
		b = b[1:]
	case '+':
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		// 19 digits can still overflow; more cannot fit unless they are leading zeros.
		for len(b) > 19 && b[0] == '0' {
			b = b[1:]
		}
		if len(b) == 0 || len(b) > 19 {
			return 0, false
		}
	}
	var u uint64
	for _, c := range b {
		d := c - '0'
		if d > 9 {
			return 0, false
		}
		u = u*10 + uint64(d) // at most 19 digits: no uint64 overflow
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > 1<<63-1 {
		return 0, false
	}
	return int64(u), true
}

// parseBool accepts true/false/t/f/1/0 in any case.
func parseBool(b []byte) (v, ok bool) {
	switch len(b) {
	case 1:
		switch b[0] {
		case 't', 'T', '1':
			return true, true
		case 'f', 'F', '0':
			return false, true
		}
	case 4:
		if b[0]|0x20 == 't' && b[1]|0x20 == 'r' && b[2]|0x20 == 'u' && b[3]|0x20 == 'e' {
			return true, true
		}
	case 5:
		if b[0]|0x20 == 'f' && b[1]|0x20 == 'a' && b[2]|0x20 == 'l' && b[3]|0x20 == 's' && b[4]|0x20 == 'e' {
			return false, true
		}
	}
	return false, false
}

// decStatus is the outcome of parseDecimal.
type decStatus uint8

const (
	decOK       decStatus = iota
	decRounded            // valid, but nonzero digits beyond the scale were rounded away
	decSyntax             // not a number
	decOverflow           // needs more digits than the precision allows
)

// maxExponent bounds exponents so digit arithmetic cannot overflow; larger ones are overflow (or
// round to zero when negative).
const maxExponent = 100000

// parseDecimal parses [+-]digits[.digits][(e|E)[+-]digits] exactly into an integer scaled by
// 10^scale, rounding half away from zero, and checks it has at most precision digits.
func parseDecimal(b []byte, precision, scale int32) (decimal128.Num, decStatus) {
	i := 0
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	// The mantissa's digits without leading zeros are b[digStart:] minus the point; collect them.
	var digits [80]byte // significant digits kept; more than 78 cannot be within precision after scaling
	nd := 0             // significant digits seen (may exceed len(digits): the extra ones are tracked below)
	extraNonzero := false
	fracDigits := 0
	sawDigit, sawPoint := false, false
	for ; i < len(b); i++ {
		c := b[i]
		if c == '.' {
			if sawPoint {
				return decimal128.Num{}, decSyntax
			}
			sawPoint = true
			continue
		}
		if c < '0' || c > '9' {
			break
		}
		sawDigit = true
		if sawPoint {
			fracDigits++
		}
		if nd == 0 && c == '0' {
			continue
		}
		if nd < len(digits) {
			digits[nd] = c
		} else if c != '0' {
			extraNonzero = true
		}
		nd++
	}
	if !sawDigit {
		return decimal128.Num{}, decSyntax
	}
	exp := 0
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		eneg := false
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			eneg = b[i] == '-'
			i++
		}
		if i == len(b) {
			return decimal128.Num{}, decSyntax
		}
		for ; i < len(b); i++ {
			c := b[i]
			if c < '0' || c > '9' {
				return decimal128.Num{}, decSyntax
			}
			if exp < maxExponent {
				exp = exp*10 + int(c-'0')
			}
		}
		if eneg {
			exp = -exp
		}
	}
	if i != len(b) {
		return decimal128.Num{}, decSyntax
	}
	if nd == 0 {
		return decimal128.Num{}, decOK
	}
	// value = digits * 10^k / 10^scale-units: the scaled integer is digits * 10^k.
	k := exp - fracDigits + int(scale)
	status := decOK
	keep := nd
	roundUp := false
	if k < 0 {
		keep = nd + k
		switch {
		case keep < 0:
			keep = 0
			status = decRounded
		case keep == 0:
			roundUp = digits[0] >= '5'
			status = decRounded
		default:
			if keep < len(digits) && keep < nd {
				roundUp = digits[keep] >= '5'
			}
			for j := keep; j < min(nd, len(digits)); j++ {
				if digits[j] != '0' {
					status = decRounded
				}
			}
		}
		if extraNonzero {
			status = decRounded
		}
		k = 0
	} else if extraNonzero || nd > len(digits) {
		return decimal128.Num{}, decOverflow
	}
	if keep+k > int(precision) {
		return decimal128.Num{}, decOverflow
	}
	var n decimal128.Num
	for j := 0; j < keep; j += 18 {
		end := min(j+18, keep)
		var chunk uint64
		for _, c := range digits[j:end] {
			chunk = chunk*10 + uint64(c-'0')
		}
		n = n.Mul(decimal128.GetScaleMultiplier(end - j)).Add(decimal128.FromU64(chunk))
	}
	if roundUp {
		n = n.Add(decimal128.FromU64(1))
	}
	if k > 0 {
		n = n.Mul(decimal128.GetScaleMultiplier(k))
	}
	if !n.FitsInPrecision(precision) {
		return decimal128.Num{}, decOverflow
	}
	if neg {
		n = n.Negate()
	}
	return n, status
}

// decimalToInt64 converts a scale-0 Num to int64 when it fits.
func decimalToInt64(n decimal128.Num) (int64, bool) {
	hi, lo := n.HighBits(), n.LowBits()
	if (hi == 0 && lo < 1<<63) || (hi == -1 && lo >= 1<<63) {
		return int64(lo), true
	}
	return 0, false
}

// appendText converts a textual value (a CSV field, a JSON string's content) to the column's type
// and appends it. An empty value is NULL for every type but VARCHAR. It returns "" on success or
// the Reason of a RecordError.
func (c *column) appendText(b []byte) string {
	if c.kind == kString {
		if !validUTF8(b) {
			return "invalid UTF-8 in VARCHAR " + quoteRaw(b)
		}
		if !c.appendString(b) {
			return reasonBatchFull
		}
		return ""
	}
	t := trimSpace(b)
	if len(t) == 0 {
		c.appendNull()
		return ""
	}
	switch c.kind {
	case kInt64:
		v, ok := parseInt64(t)
		if !ok {
			return c.invalid(b, "")
		}
		c.appendInt64(v)
	case kTimestamp:
		v, ok := c.parseTimestamp(t)
		if !ok {
			return c.invalid(b, "")
		}
		c.appendInt64(v)
	case kFloat64:
		v, err := strconv.ParseFloat(bytesString(t), 64)
		if err != nil && !isRangeErr(err) {
			return c.invalid(b, "")
		}
		c.appendFloat64(v)
	case kBool:
		v, ok := parseBool(t)
		if !ok {
			return c.invalid(b, "")
		}
		c.appendBool(v)
	case kDecimal:
		v, st := parseDecimal(t, c.dec.Precision, c.dec.Scale)
		switch st {
		case decSyntax:
			return c.invalid(b, "")
		case decOverflow:
			return c.invalid(b, "out of range")
		}
		c.appendDecimal(v)
	case kDate:
		v, err := exec.ParseDate(bytesString(t))
		if err != nil {
			return c.invalid(b, "")
		}
		c.appendInt32(v)
	case kInterval:
		v, err := exec.ParseInterval(bytesString(t))
		if err != nil {
			return c.invalid(b, "")
		}
		c.appendInt64(v)
	}
	return ""
}

// isRangeErr reports strconv's "value out of range": ParseFloat then returns ±Inf or 0, which is
// the nearest DOUBLE, so the value is accepted.
func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// invalid is the Reason for a value that does not convert: `invalid DOUBLE "12,x"`, with an
// optional detail in parentheses.
func (c *column) invalid(raw []byte, detail string) string {
	s := "invalid " + exec.TypeName(c.typ) + " " + quoteRaw(raw)
	if detail != "" {
		s += " (" + detail + ")"
	}
	return s
}

// validUTF8 is utf8.Valid with a cheaper path for short ASCII values.
func validUTF8(b []byte) bool {
	if len(b) <= 16 {
		var or byte
		for _, c := range b {
			or |= c
		}
		if or < utf8.RuneSelf {
			return true
		}
	}
	return utf8.Valid(b)
}

// parseTimestamp parses a TIMESTAMP value in any form exec.ParseTimestamp accepts, through the
// column's cache of the last value's date (event times mostly share their date with the previous
// value, so only the time of day and zone are converted).
func (c *column) parseTimestamp(t []byte) (int64, bool) {
	return c.tsCache.Parse(bytesString(t))
}
