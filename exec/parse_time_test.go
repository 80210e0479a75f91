package exec

import (
	"testing"
	"time"
)

func TestParseTimestampMatchesTimePackage(t *testing.T) {
	for _, s := range []string{"2024-02-29 23:59:59", "1970-01-01 00:00:00", "1969-12-31 23:59:59.5", "2024-01-02T03:04:05.123456", "1900-03-01 00:00:00"} {
		got, err := ParseTimestamp(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		l := "2006-01-02 15:04:05.999999"
		if s[10] == 'T' {
			l = "2006-01-02T15:04:05.999999"
		}
		want, _ := time.Parse(l, s)
		if got != want.UnixMicro() {
			t.Errorf("%s: got %d want %d", s, got, want.UnixMicro())
		}
	}
	for _, bad := range []string{"2024-02-30 00:00:00", "yesterday", "2024-13-01 00:00:00", ""} {
		if _, err := ParseTimestamp(bad); err == nil {
			t.Errorf("%q: expected an error", bad)
		}
	}
	z, err := ParseTimestamp("2024-01-01T01:00:00+01:00")
	if err != nil || z != time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro() {
		t.Errorf("zone offset not applied: %d %v", z, err)
	}
}

func TestParseInterval(t *testing.T) {
	cases := map[string]int64{
		"10 minutes": 600e6, "1 hour": 3600e6, "1 hour 30 minutes": 5400e6, "1.5 hours": 5400e6,
		"90 s": 90e6, "5": 5e6, "01:00:00": 3600e6, "2 days": 172800e6, "10minutes": 600e6,
	}
	for s, want := range cases {
		got, err := ParseInterval(s)
		if err != nil || got != want {
			t.Errorf("%q: got %d, %v; want %d", s, got, err, want)
		}
	}
	for _, bad := range []string{"", "1 month", "ten minutes", "5 parsecs", "1 hour 30", "9223372036854775807 microseconds", "300000 weeks 300000000 weeks"} {
		if _, err := ParseInterval(bad); err == nil {
			t.Errorf("%q: expected an error", bad)
		}
	}
}

func TestParseIntervalReadsFormatInterval(t *testing.T) {
	for _, us := range []int64{0, 1, 59e6, 3600e6 + 5e5, 86400e6, 86400e6 + 1, 3*86400e6 + 7322e6, -3600e6, -86400e6 - 1} {
		text := FormatInterval(us)
		got, err := ParseInterval(text)
		if err != nil || got != us {
			t.Errorf("FormatInterval(%d) = %q, parsed back as %d, %v", us, text, got, err)
		}
	}
}
