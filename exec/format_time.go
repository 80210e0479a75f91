package exec

// AppendTimestamp appends microseconds since the epoch as "2006-01-02 15:04:05[.ffffff]" (UTC,
// trailing zeros of the fraction trimmed): FormatTimestamp without time.Format, for the sinks
// and result writers that print millions of timestamps.
func AppendTimestamp(dst []byte, us int64) []byte {
	days := us / 86_400_000_000
	rem := us % 86_400_000_000
	if rem < 0 {
		rem += 86_400_000_000
		days--
	}
	y, m, d := civilFromDays(days)
	if y < 0 || y > 9999 {
		return append(dst, formatTimestampSlow(us)...)
	}
	secs := rem / 1_000_000
	frac := rem % 1_000_000
	dst = append4(dst, y)
	dst = append(dst, '-')
	dst = append2(dst, m)
	dst = append(dst, '-')
	dst = append2(dst, d)
	dst = append(dst, ' ')
	dst = append2(dst, int(secs/3600))
	dst = append(dst, ':')
	dst = append2(dst, int(secs/60%60))
	dst = append(dst, ':')
	dst = append2(dst, int(secs%60))
	if frac == 0 {
		return dst
	}
	var f [7]byte
	f[0] = '.'
	for i := 6; i >= 1; i-- {
		f[i] = byte('0' + frac%10)
		frac /= 10
	}
	n := 7
	for f[n-1] == '0' {
		n--
	}
	return append(dst, f[:n]...)
}

func append2(dst []byte, v int) []byte { return append(dst, byte('0'+v/10), byte('0'+v%10)) }

func append4(dst []byte, v int) []byte {
	return append(dst, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}

// civilFromDays converts days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's
// algorithm; the inverse of daysFromCivil).
func civilFromDays(z int64) (year, month, day int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era = (z - 146096) / 146097
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if mp >= 10 {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return int(y), int(m), int(d)
}
