package exec

import (
	"strings"
	"testing"
	"time"
)

// TestParseDateTimeForms checks each form against time.Parse of the same instant written in a
// layout it knows, and the refusals.
func TestParseDateTimeForms(t *testing.T) {
	for _, tc := range []struct{ in, local, utc string }{
		{"2024-02-03 +00", "2024-02-03T00:00:00Z", "2024-02-03T00:00:00Z"},
		{"2024-03-04T00:00:00.000+00:00", "2024-03-04T00:00:00Z", "2024-03-04T00:00:00Z"},
		{"2024-01-01 10:00:00+05:30", "2024-01-01T10:00:00Z", "2024-01-01T04:30:00Z"},
		{" 2024-01-01  10:00:00.1234567 -0800 ", "2024-01-01T10:00:00.123456Z", "2024-01-01T18:00:00.123456Z"},
		{"2024-12-31 23:59:59 utc", "2024-12-31T23:59:59Z", "2024-12-31T23:59:59Z"},
		{"2024-02-29t01:02", "2024-02-29T01:02:00Z", "2024-02-29T01:02:00Z"},
		{"2024-05-01 24:00:00", "2024-05-02T00:00:00Z", "2024-05-02T00:00:00Z"},
		{"EPOCH", "1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"},
		{"2024-05-01", "2024-05-01T00:00:00Z", "2024-05-01T00:00:00Z"},
	} {
		dt, err := ParseDateTime(tc.in, "timestamp")
		if err != nil {
			t.Fatalf("%q: %v", tc.in, err)
		}
		for _, c := range []struct {
			got  int64
			want string
		}{{dt.Local(), tc.local}, {dt.UTC(), tc.utc}} {
			w, _ := time.Parse(time.RFC3339Nano, c.want)
			if c.got != w.UnixMicro() {
				t.Errorf("%q: %s, want %s", tc.in, time.UnixMicro(c.got).UTC().Format(time.RFC3339Nano), c.want)
			}
		}
	}
	for _, bad := range []string{"", "2024-02-30", "2024-01-01 25:00", "2024-01-01 10:00:00 +25", "2024-01-01x", "2024-01-01T", "2024-01-01 10:61", "infinity", "-infinity", "yesterday", "2024-01-01 24:00:01"} {
		if _, err := ParseDateTime(bad, "timestamp"); err == nil || SQLState(err) != CodeInvalidDatetime {
			t.Errorf("%q: %v, want a 22007 error", bad, err)
		} else if strings.Contains(bad, "infinity") && !strings.Contains(err.Error(), "finite") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	// DATE takes the date of any form.
	for in, want := range map[string]string{"2024-02-03 +00": "2024-02-03", "2024-03-04T23:00:00-05:00": "2024-03-04", "epoch": "1970-01-01"} {
		d, err := ParseDate(in)
		if err != nil || FormatDatum(Date, d) != want {
			t.Errorf("ParseDate(%q) = %v, %v; want %s", in, FormatDatum(Date, d), err, want)
		}
	}
	for in, want := range map[string]int64{"13:45:06.5": 49506500000, "01:02+05:30": 3720000000, "24:00:00": 86400000000} {
		if got, err := ParseTimeOfDay(in); err != nil || got != want {
			t.Errorf("ParseTimeOfDay(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
}
