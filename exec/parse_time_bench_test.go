package exec

import "testing"

// BenchmarkParseTimestamp parses one value of each accepted form (CAST and literal path; no cache).
//
//	go test ./exec -run '^$' -bench ParseTimestamp -cpu 1 -count 5
func BenchmarkParseTimestamp(b *testing.B) {
	for _, f := range []struct{ name, s string }{
		{"space", "2024-01-01 12:34:56"},
		{"T_us", "2024-01-01T12:34:56.123456"},
		{"T_ms_Z", "2024-01-01T12:34:56.789Z"},
		{"T_ns_+hh:mm", "2024-01-01T12:34:56.123456789+05:30"},
		{"T_+hhmm", "2024-01-01T12:34:56+0530"},
		{"space_+hh", "2024-01-01 12:34:56 -07"},
		{"date", "2024-01-01"},
	} {
		if _, err := ParseTimestamp(f.s); err != nil {
			b.Fatal(err)
		}
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			var sink int64
			for i := 0; i < b.N; i++ {
				v, _ := ParseTimestamp(f.s)
				sink += v
			}
			_ = sink
		})
	}
}
