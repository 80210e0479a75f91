package sources

import (
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
)

// tsBenchRows is the number of values in each timestamp-form benchmark input.
const tsBenchRows = 1_000_000

// tsBenchForms are the textual TIMESTAMP forms of BenchmarkTimestampDecode, as time layouts
// (the value advances one second per row from 2024-01-01, so the date changes every 86,400 rows).
var tsBenchForms = []struct{ name, layout string }{
	{"space", "2006-01-02 15:04:05"},
	{"T", "2006-01-02T15:04:05"},
	{"space_ms", "2006-01-02 15:04:05.000"},
	{"T_us", "2006-01-02T15:04:05.000000"},
	{"T_Z", "2006-01-02T15:04:05Z"},
	{"T_ms_Z", "2006-01-02T15:04:05.000Z"},
	{"T_ns_+hh:mm", "2006-01-02T15:04:05.000000000-07:00"},
	{"T_+hhmm", "2006-01-02T15:04:05-0700"},
	{"space_+hh", "2006-01-02 15:04:05 -07"},
	{"date", "2006-01-02"},
}

var tsBenchSchema = arrow.NewSchema([]arrow.Field{{Name: "ts", Type: exec.Timestamp, Nullable: true}}, nil)

// BenchmarkTimestampDecode decodes 1M single-column CSV records per timestamp form, and JSON lines
// whose value is a string of the form or (epoch_number) a JSON number of seconds. cpu-ns/row is the
// process CPU time per value (GC included), the figure to compare on a shared machine.
//
//	go test ./sources -run '^$' -bench TimestampDecode -cpu 1 -count 5
func BenchmarkTimestampDecode(b *testing.B) {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.FixedZone("", 5*3600+1800))
	for _, f := range tsBenchForms {
		var csv, js []byte
		for i := 0; i < tsBenchRows; i++ {
			t := start.Add(time.Duration(i)*time.Second + time.Duration(i%1000)*time.Millisecond)
			csv = append(t.AppendFormat(csv, f.layout), '\n')
			js = append(append(t.AppendFormat(append(js, `{"ts":"`...), f.layout), `"}`...), '\n')
		}
		b.Run("csv/"+f.name, func(b *testing.B) { benchTimestampInput(b, csv, false) })
		b.Run("json/"+f.name, func(b *testing.B) { benchTimestampInput(b, js, true) })
	}
	var js []byte
	for i := 0; i < tsBenchRows; i++ {
		js = strconv.AppendFloat(append(js, `{"ts":`...), 1704067200+float64(i)+float64(i%1000)/1000, 'f', -1, 64)
		js = append(js, "}\n"...)
	}
	b.Run("json/epoch_number", func(b *testing.B) { benchTimestampInput(b, js, true) })
}

func benchTimestampInput(b *testing.B, data []byte, json bool) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPUTime()
	newDec := func(r io.Reader) (Decoder, error) {
		if json {
			return NewJSONDecoder(r, tsBenchSchema, DecodeOptions{})
		}
		return NewCSVDecoder(r, tsBenchSchema, DecodeOptions{})
	}
	for i := 0; i < b.N; i++ {
		decodeAll(b, data, tsBenchRows, newDec)
	}
	if cpu := processCPUTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(tsBenchRows*b.N), "cpu-ns/row")
	}
}
