package exec

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/streamsql/streamsql/internal/testdb"
)

func mustTS(t *testing.T, s string) int64 {
	t.Helper()
	us, err := ParseTimestamp(s)
	if err != nil {
		t.Fatal(err)
	}
	return us
}

func TestDatetimePatternDialect(t *testing.T) {
	for p, want := range map[string]string{
		"yyyy-MM-dd HH:mm:ss":      "java",
		"M/d/yyyy H:mm":            "java",
		"MM-dd":                    "java",
		"'YYYY' yyyy":              "java",
		"YYYY-MM-DD HH24:MI:SS":    "postgresql",
		"MM/DD":                    "postgresql",
		"HH12:MI AM":               "postgresql",
		"HH24":                     "postgresql",
		`"yyyy" YY`:                "postgresql",
		"yyyy-MM-dd'T'HH:mm:ssXXX": "java",
		"SS TZH":                   "postgresql",
	} {
		dp, err := CompileDatetimePattern(p)
		if err != nil {
			t.Errorf("%q: %v", p, err)
			continue
		}
		if dp.Dialect() != want {
			t.Errorf("%q: dialect %s, want %s", p, dp.Dialect(), want)
		}
	}
}

// TestDatetimePatternParseJava covers every Java/Spark letter we accept, literal quotes, zones and
// the errors (22007 for a bad pattern or value, 22008 for a field out of range).
func TestDatetimePatternParseJava(t *testing.T) {
	cases := []struct{ value, pattern, want string }{
		{"3/22/2016 20:55", "M/d/yyyy H:mm", "2016-03-22 20:55:00"},
		{"12/1/2016 8:05", "M/d/yyyy H:mm", "2016-12-01 08:05:00"},
		{"  3/22/2016 20:55 ", "M/d/yyyy H:mm", "2016-03-22 20:55:00"},
		{"2024-01-02 03:04:05.678", "yyyy-MM-dd HH:mm:ss.SSS", "2024-01-02 03:04:05.678"},
		{"2024-01-02 03:04:05.6", "yyyy-MM-dd HH:mm:ss.SSS", "2024-01-02 03:04:05.6"},
		{"2024-01-02 03:04:05.123456789", "yyyy-MM-dd HH:mm:ss.SSSSSSSSS", "2024-01-02 03:04:05.123456"},
		{"20240102030405", "yyyyMMddHHmmss", "2024-01-02 03:04:05"},
		{"24-01-02", "yy-MM-dd", "2024-01-02 00:00:00"},
		{"2024-032", "yyyy-DDD", "2024-02-01 00:00:00"},
		{"02 Jan 2024", "dd MMM yyyy", "2024-01-02 00:00:00"},
		{"02 january 2024", "dd MMMM yyyy", "2024-01-02 00:00:00"},
		{"Tue, 02 Jan 2024 03:04:05", "EEE, dd MMM yyyy HH:mm:ss", "2024-01-02 03:04:05"},
		{"Tuesday 2024-01-02", "EEEE yyyy-MM-dd", "2024-01-02 00:00:00"},
		{"2024-01-02 12:30 AM", "yyyy-MM-dd hh:mm a", "2024-01-02 00:30:00"},
		{"2024-01-02 12:30 pm", "yyyy-MM-dd hh:mm a", "2024-01-02 12:30:00"},
		{"2024-01-02 1:30 PM", "yyyy-MM-dd h:mm a", "2024-01-02 13:30:00"},
		{"2024-01-02 24:00", "yyyy-MM-dd kk:mm", "2024-01-02 00:00:00"},
		{"2024-01-02 11 PM", "yyyy-MM-dd K a", "2024-01-02 23:00:00"},
		{"2024-01-02T03:04:05Z", "yyyy-MM-dd'T'HH:mm:ssX", "2024-01-02 03:04:05"},
		{"2024-01-02T03:04:05+01", "yyyy-MM-dd'T'HH:mm:ssX", "2024-01-02 02:04:05"},
		{"2024-01-02T03:04:05+0130", "yyyy-MM-dd'T'HH:mm:ssXX", "2024-01-02 01:34:05"},
		{"2024-01-02T03:04:05-05:00", "yyyy-MM-dd'T'HH:mm:ssXXX", "2024-01-02 08:04:05"},
		{"2024-01-02T03:04:05+00", "yyyy-MM-dd'T'HH:mm:ssx", "2024-01-02 03:04:05"},
		{"2024-01-02 03:04:05 +0200", "yyyy-MM-dd HH:mm:ss Z", "2024-01-02 01:04:05"},
		{"2024-01-02 03:04:05 Z", "yyyy-MM-dd HH:mm:ss ZZZZZ", "2024-01-02 03:04:05"},
		{"2024-01-02 03:04:05 UTC", "yyyy-MM-dd HH:mm:ss z", "2024-01-02 03:04:05"},
		{"2024-07-02 03:04:05 Europe/Paris", "yyyy-MM-dd HH:mm:ss z", "2024-07-02 01:04:05"},
		{"at 2024-01-02 o'clock", "'at' yyyy-MM-dd 'o''clock'", "2024-01-02 00:00:00"},
		{"12:30", "HH:mm", "1970-01-01 12:30:00"},
		{"2024", "yyyy", "2024-01-01 00:00:00"},
		{"2024-02-29", "yyyy-MM-dd", "2024-02-29 00:00:00"},
	}
	for _, c := range cases {
		dp, err := CompileDatetimePattern(c.pattern)
		if err != nil {
			t.Errorf("%q: %v", c.pattern, err)
			continue
		}
		got, err := dp.Parse(c.value)
		if err != nil {
			t.Errorf("to_timestamp(%q, %q): %v", c.value, c.pattern, err)
			continue
		}
		if want := mustTS(t, c.want); got != want {
			t.Errorf("to_timestamp(%q, %q) = %s, want %s", c.value, c.pattern, FormatTimestamp(got), c.want)
		}
	}
	bad := []struct{ value, pattern, code, msg string }{
		{"x", "yyyy-MM-dd Q", CodeInvalidDatetime, `unsupported pattern letter "Q"`},
		{"x", "yyyy 'T", CodeInvalidDatetime, "unterminated quote"},
		{"x", "MMMMM", CodeInvalidDatetime, "too many pattern letters"},
		{"x", "yyyy yyyy", CodeInvalidDatetime, "a field appears twice"},
		{"x", "HH a", CodeInvalidDatetime, "24-hour"},
		{"x", "yyyy-MM-dd'T'HH:mm:ssXXXX", CodeInvalidDatetime, "too many pattern letters"},
		{"2024/01/02", "yyyy-MM-dd", CodeInvalidDatetime, `expected "-" at position 5`},
		{"2024-01-02 junk", "yyyy-MM-dd", CodeInvalidDatetime, `unexpected " junk"`},
		{"3/22/16 20:55", "M/d/yyyy H:mm", CodeInvalidDatetime, "expected 4 digit(s) at position 6"},
		{"2024-13-02", "yyyy-MM-dd", CodeDatetimeOverflow, "month 13"},
		{"2023-02-29", "yyyy-MM-dd", CodeDatetimeOverflow, "day 29"},
		{"2024-01-02 25:00", "yyyy-MM-dd HH:mm", CodeDatetimeOverflow, "hour 25"},
		{"2024-01-02 10:60", "yyyy-MM-dd HH:mm", CodeDatetimeOverflow, "minute 60"},
		{"13 PM", "h a", CodeDatetimeOverflow, "hour (1-12) 13"},
		{"Foo 2024", "MMM yyyy", CodeInvalidDatetime, "expected a month name"},
		{"2024 Mars/Base", "yyyy z", CodeInvalidDatetime, "time zone name"},
		{"", "yyyy", CodeInvalidDatetime, "expected 4 digit(s)"},
	}
	for _, c := range bad {
		dp, err := CompileDatetimePattern(c.pattern)
		if err == nil {
			_, err = dp.Parse(c.value)
		}
		var ee *Error
		if err == nil || !errors.As(err, &ee) || ee.Code != c.code || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("to_timestamp(%q, %q): want %s error containing %q, got %v", c.value, c.pattern, c.code, c.msg, err)
		}
	}
}

func TestDatetimePatternFormatJava(t *testing.T) {
	ts := mustTS(t, "2016-03-05 07:08:09.123456")
	pm := mustTS(t, "2016-03-05 19:00:00")
	for _, c := range []struct {
		us            int64
		pattern, want string
	}{
		{ts, "yyyy-MM-dd HH:mm:ss.SSS", "2016-03-05 07:08:09.123"},
		{ts, "M/d/yyyy H:mm", "3/5/2016 7:08"},
		{ts, "yy MMM MMMM dd D DDD", "16 Mar March 05 65 065"},
		{ts, "EEE EEEE", "Sat Saturday"},
		{ts, "h:mm a", "7:08 AM"},
		{pm, "hh:mm a K k", "07:00 PM 7 19"},
		{mustTS(t, "2016-03-05 00:00:00"), "hh a K kk", "12 AM 0 24"},
		{ts, "SSSSSS S SSSSSSSSS", "123456 1 123456000"},
		{ts, "X XX XXX x xx xxx Z ZZZZZ z", "Z Z Z +00 +0000 +00:00 +0000 Z UTC"},
		{ts, "'T' 'o''clock' ''", "T o'clock '"},
		{mustTS(t, "0099-01-01 00:00:00"), "yyyy y", "0099 99"},
	} {
		dp, err := CompileDatetimePattern(c.pattern)
		if err != nil {
			t.Errorf("%q: %v", c.pattern, err)
			continue
		}
		if got := string(dp.Append(nil, c.us)); got != c.want {
			t.Errorf("date_format(%s, %q) = %q, want %q", FormatTimestamp(c.us), c.pattern, got, c.want)
		}
	}
}

// TestDatetimePatternRoundTrip: formatting a random timestamp and parsing the text back gives the
// timestamp, truncated to the pattern's precision, for patterns of both dialects.
func TestDatetimePatternRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	patterns := map[string]int64{
		"yyyy-MM-dd HH:mm:ss.SSSSSS":     1,
		"yyyyMMddHHmmssSSS":              1000,
		"d MMMM yyyy, h:mm:ss a":         1e6,
		"EEE, dd MMM yyyy HH:mm:ss Z":    1e6,
		"yyyy-DDD'T'HH:mm:ssXXX":         1e6,
		"YYYY-MM-DD HH24:MI:SS.US":       1,
		"DD Mon YYYY HH12:MI:SS.MS AM":   1000,
		"FMMonth FMDD, YYYY HH24:MI TZH": 60e6,
		"YYYYMMDDHH24MISS":               1e6,
		"YYYY-DDD SSSS":                  1e6,
	}
	for p, unit := range patterns {
		dp, err := CompileDatetimePattern(p)
		if err != nil {
			t.Fatalf("%q: %v", p, err)
		}
		for i := 0; i < 300; i++ {
			us := r.Int64N(mustTS(t, "2100-01-01 00:00:00")-mustTS(t, "1900-01-01 00:00:00")) + mustTS(t, "1900-01-01 00:00:00")
			text := string(dp.Append(nil, us))
			got, err := dp.Parse(text)
			want := us - floorMod(us, unit)
			if err != nil || got != want {
				t.Fatalf("%q: %s formats as %q, which parses as %s (%v), want %s", p, FormatTimestamp(us), text, FormatTimestamp(got), err, FormatTimestamp(want))
			}
		}
	}
}

// TestDatetimePatternPostgresOracle: PostgreSQL-style patterns parse (to_timestamp) and format
// (to_char) as PostgreSQL does, errors included.
func TestDatetimePatternPostgresOracle(t *testing.T) {
	url := testdb.Postgres(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Skipf("PostgreSQL unreachable: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SET TIME ZONE 'UTC'"); err != nil {
		t.Fatal(err)
	}
	parses := []struct{ value, pattern string }{
		{"3/22/2016 20:55", "MM/DD/YYYY HH24:MI"},
		{"2016-03-22 20:55:07", "YYYY-MM-DD HH24:MI:SS"},
		{"2016-03-22 08:55:07 PM", "YYYY-MM-DD HH12:MI:SS PM"},
		{"2016-03-22 08:55:07 am", "YYYY-MM-DD HH:MI:SS AM"},
		{"2016-03-22 12:00 A.M.", "YYYY-MM-DD HH12:MI A.M."},
		{"2016-03-22 12:00 p.m.", "YYYY-MM-DD HH12:MI P.M."},
		{"20160322205507", "YYYYMMDDHH24MISS"},
		{"2016-03-22 20:55:07.123", "YYYY-MM-DD HH24:MI:SS.MS"},
		{"2016-03-22 20:55:07.5", "YYYY-MM-DD HH24:MI:SS.MS"},
		{"2016-03-22 20:55:07.123456", "YYYY-MM-DD HH24:MI:SS.US"},
		{"2016-03-22 20:55:07.12", "YYYY-MM-DD HH24:MI:SS.US"},
		{"15:12:02.020.001230", "HH24:MI:SS.MS.US"},
		{"2016-03-22 20:55:07.123456", "YYYY-MM-DD HH24:MI:SS.FF6"},
		{"2016-03-22 20:55:07.12", "YYYY-MM-DD HH24:MI:SS.FF2"},
		{"22 Mar 2016", "DD Mon YYYY"},
		{"22 MARCH 2016", "DD MONTH YYYY"},
		{"22 march 2016", "DD Month YYYY"},
		{"Tue 22 Mar 2016", "Dy DD Mon YYYY"},
		{"Tuesday 22 Mar 2016", "Day DD Mon YYYY"},
		{"2016-082", "YYYY-DDD"},
		{"16-03-22", "YY-MM-DD"},
		{"95-03-22", "YY-MM-DD"},
		{"2016-03-22 +05", "YYYY-MM-DD TZH"},
		{"2016-03-22 20:00 -03:30", "YYYY-MM-DD HH24:MI TZH:TZM"},
		{"2016-03-22T20:55", `YYYY-MM-DD"T"HH24:MI`},
		{"2016-03-22T20:55", "YYYY-MM-DDTHH24:MI"},
		{"2016/03/22", "YYYY-MM-DD"},
		{"2016  03 22", "YYYY MM DD"},
		{"2016 Mar  5", "YYYY Mon DD"},
		{"  2016-03-22", "YYYY-MM-DD"},
		{"1/2/2024", "MM/DD/YYYY"},
		{"2016-03-22 86399", "YYYY-MM-DD SSSS"},
		{"12:30", "HH24:MI"},
		{"12.3", "SS.MS"},
		{"2016-03-22 5", "YYYY-MM-DD D"},
		{"22nd March 2016", "DDth Month YYYY"},
		{"2016-03-22 20:55", "FXYYYY-MM-DD HH24:MI"},
		{"2016/03/22", "FXYYYY-MM-DD"},
		{"2016--03-22", "FXYYYY-MM-DD"},
		{"2016 03 22", "FXYYYY MM DD"},
		{"2016  03 22", "FXYYYY MM DD"},
		{"March 22, 2016", "FMMonth DD, YYYY"},
		{"2016-03-22 8:5:7", "YYYY-MM-DD HH24:MI:SS"},
		// Errors on both sides.
		{"2016-13-22", "YYYY-MM-DD"},
		{"2016-02-30", "YYYY-MM-DD"},
		{"2016-03-22 25:00", "YYYY-MM-DD HH24:MI"},
		{"2016-03-22 13:00", "YYYY-MM-DD HH12:MI"},
		{"2016-03-22 10:61", "YYYY-MM-DD HH24:MI"},
		{"xx 2016", "Mon YYYY"},
		{"2016-03-22", "YYYY-MM-DD HH24"},
		{"2016-03-22 08:00", "YYYY-MM-DD HH24:MI AM"},
	}
	for _, c := range parses {
		var pgUS int64
		pgErr := conn.QueryRow(ctx, "SELECT (extract(epoch FROM to_timestamp($1, $2)) * 1000000)::bigint", c.value, c.pattern).Scan(&pgUS)
		dp, err := CompileDatetimePattern(c.pattern)
		var got int64
		if err == nil {
			got, err = dp.Parse(c.value)
		}
		switch {
		case pgErr != nil && err != nil:
		case pgErr != nil:
			t.Errorf("to_timestamp(%q, %q): PostgreSQL fails (%v), we give %s", c.value, c.pattern, pgErr, FormatTimestamp(got))
		case err != nil:
			t.Errorf("to_timestamp(%q, %q): PostgreSQL gives %s, we fail: %v", c.value, c.pattern, FormatTimestamp(pgUS), err)
		case got != pgUS:
			t.Errorf("to_timestamp(%q, %q) = %s, PostgreSQL %s", c.value, c.pattern, FormatTimestamp(got), FormatTimestamp(pgUS))
		}
	}
	stamps := []string{"2016-03-05 07:08:09.123456", "2016-12-31 23:59:59.999999", "2024-02-29 12:00:00", "2000-01-01 00:00:00.05", "1999-07-04 19:30:00"}
	formats := []string{
		"YYYY-MM-DD HH24:MI:SS", "YYYY-MM-DD HH24:MI:SS.MS", "YYYY-MM-DD HH24:MI:SS.US", "HH12:MI AM", "HH:MI pm", "HH12 A.M. a.m.",
		"Month Mon MONTH MON month mon", "FMMonth FMDD FMHH12", "Day Dy DAY DY day dy", "FMDay", "YY YYY Y", "YYYY DDD D", "HH24 SSSS SSSSS", "DDTH DDth FMDDth MMth YYYYth",
		"FF1 FF2 FF3 FF4 FF5 FF6", `"quoted" YYYY "text"`, "YYYYMMDD", "TZH:TZM", "DD/MM/YYYY", "YYYY-MM-DDTHH24:MI",
	}
	for _, s := range stamps {
		us := mustTS(t, s)
		for _, f := range formats {
			var want string
			if err := conn.QueryRow(ctx, "SELECT to_char($1::timestamp, $2)", s, f).Scan(&want); err != nil {
				t.Fatalf("to_char(%q, %q): %v", s, f, err)
			}
			dp, err := CompileDatetimePattern(f)
			if err != nil {
				t.Errorf("%q: %v", f, err)
				continue
			}
			if got := string(dp.Append(nil, us)); got != want {
				t.Errorf("date_format(%s, %q) = %q, PostgreSQL to_char %q", s, f, got, want)
			}
		}
	}
}

// BenchmarkDatetimePatternParse: the lecture's pattern, one value per iteration.
func BenchmarkDatetimePatternParse(b *testing.B) {
	for _, c := range []struct{ name, pattern, value string }{
		{"java", "M/d/yyyy H:mm", "3/22/2016 20:55"},
		{"postgres", "MM/DD/YYYY HH24:MI", "3/22/2016 20:55"},
	} {
		dp, err := CompileDatetimePattern(c.pattern)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := dp.Parse(c.value); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
