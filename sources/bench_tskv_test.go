package sources

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// tskvBenchRows is the number of records of the issue-14 decode benchmark input.
const tskvBenchRows = 2_000_000

// tskvBenchData is the issue-14 workload's input (as bench/compare generates it: event time 1 ms
// apart from 2024-01-01 with up to 2 s of disorder, ISO timestamps with milliseconds and `Z`,
// 1,000 keys key000..key999, v < 1000) as CSV `ts,k,v` or JSON lines {"ts":..,"k":..,"v":..}.
func tskvBenchData(json bool) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	buf := make([]byte, 0, tskvBenchRows*56)
	for i := 0; i < tskvBenchRows; i++ {
		t := base.Add(time.Duration(int64(i)-r.Int64N(2000)) * time.Millisecond)
		if t.Before(base) {
			t = base
		}
		k, v := r.IntN(1000), r.IntN(1000)
		if json {
			buf = append(buf, `{"ts":"`...)
		}
		buf = t.AppendFormat(buf, "2006-01-02T15:04:05.000Z")
		if json {
			buf = append(buf, `","k":"key`...)
		} else {
			buf = append(buf, ",key"...)
		}
		buf = append(buf, byte('0'+k/100), byte('0'+k/10%10), byte('0'+k%10))
		if json {
			buf = append(buf, `","v":`...)
		} else {
			buf = append(buf, ',')
		}
		buf = strconv.AppendInt(buf, int64(v), 10)
		if json {
			buf = append(buf, '}')
		}
		buf = append(buf, '\n')
	}
	return buf
}

// BenchmarkTSKVDecode decodes the issue-14 `ts,k,v` input (ISO `Z` timestamps) with the CSV and the
// JSON-lines decoder; cpu-ns/row is process CPU per record, GC included.
//
//	go test ./sources -run '^$' -bench TSKVDecode -cpu 1 -count 5 -benchtime 1x
func BenchmarkTSKVDecode(b *testing.B) {
	for _, tc := range []struct {
		name string
		json bool
	}{{"csv", false}, {"json", true}} {
		data := tskvBenchData(tc.json)
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			cpu0 := processCPUTime()
			for i := 0; i < b.N; i++ {
				decodeAll(b, data, tskvBenchRows, func(r io.Reader) (Decoder, error) {
					if tc.json {
						return NewJSONDecoder(r, benchSchema, DecodeOptions{})
					}
					return NewCSVDecoder(r, benchSchema, DecodeOptions{})
				})
			}
			if cpu := processCPUTime() - cpu0; cpu > 0 {
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(tskvBenchRows*b.N), "cpu-ns/row")
			}
		})
	}
}

// decodeAll decodes data to its end, failing b unless it gives wantRows rows.
func decodeAll(b *testing.B, data []byte, wantRows int, newDec func(r io.Reader) (Decoder, error)) {
	d, err := newDec(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	rows := 0
	for {
		rec, err := d.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		rows += int(rec.NumRows())
		rec.Release()
	}
	if rows != wantRows {
		b.Fatalf("decoded %d rows, want %d", rows, wantRows)
	}
}
