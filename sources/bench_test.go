package sources

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
)

// benchRows is the size of the generated benchmark inputs.
const benchRows = 10_000_000

var benchSchema = arrow.NewSchema([]arrow.Field{
	{Name: "ts", Type: exec.Timestamp, Nullable: true},
	{Name: "k", Type: exec.String, Nullable: true},
	{Name: "v", Type: exec.Int64, Nullable: true},
}, nil)

var (
	benchCSVOnce, benchJSONOnce sync.Once
	benchCSV, benchJSON         []byte
)

// genBenchRows calls emit for benchRows rows of (ts, k, v): ts advances one second per row from
// 2024-01-01, k is one of 1,000 short keys, v a random BIGINT.
func genBenchRows(emit func(ts []byte, k []byte, v int64)) {
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var ts, k []byte
	for i := 0; i < benchRows; i++ {
		ts = start.Add(time.Duration(i)*time.Second).AppendFormat(ts[:0], "2006-01-02 15:04:05")
		k = strconv.AppendInt(append(k[:0], "key"...), int64(rng.IntN(1000)), 10)
		emit(ts, k, rng.Int64N(10_000_000))
	}
}

func csvBenchData() []byte {
	benchCSVOnce.Do(func() {
		buf := make([]byte, 0, benchRows*36)
		genBenchRows(func(ts, k []byte, v int64) {
			buf = append(buf, ts...)
			buf = append(buf, ',')
			buf = append(buf, k...)
			buf = append(buf, ',')
			buf = strconv.AppendInt(buf, v, 10)
			buf = append(buf, '\n')
		})
		benchCSV = buf
	})
	return benchCSV
}

func jsonBenchData() []byte {
	benchJSONOnce.Do(func() {
		buf := make([]byte, 0, benchRows*56)
		genBenchRows(func(ts, k []byte, v int64) {
			buf = append(buf, `{"ts":"`...)
			buf = append(buf, ts...)
			buf = append(buf, `","k":"`...)
			buf = append(buf, k...)
			buf = append(buf, `","v":`...)
			buf = strconv.AppendInt(buf, v, 10)
			buf = append(buf, "}\n"...)
		})
		benchJSON = buf
	})
	return benchJSON
}

// benchDecode decodes data completely b.N times and reports rows/s and MB/s of wall time, and
// rows per CPU-second of the process (GC included), which stays meaningful on a busy machine.
func benchDecode(b *testing.B, data []byte, newDec func(r io.Reader) (Decoder, error)) {
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	cpu0 := processCPUTime()
	for i := 0; i < b.N; i++ {
		d, err := newDec(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
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
		d.Close()
		if rows != benchRows {
			b.Fatalf("decoded %d rows, want %d", rows, benchRows)
		}
	}
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	if cpu := processCPUTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(benchRows)*float64(b.N)/cpu.Seconds(), "rows/cpu-s")
	}
}

// BenchmarkCSVDecode: go test ./sources -run '^$' -bench CSVDecode -cpu 1 -count 5
func BenchmarkCSVDecode(b *testing.B) {
	data := csvBenchData()
	benchDecode(b, data, func(r io.Reader) (Decoder, error) { return NewCSVDecoder(r, benchSchema, DecodeOptions{}) })
}

// BenchmarkJSONDecode: go test ./sources -run '^$' -bench JSONDecode -cpu 1 -count 5
func BenchmarkJSONDecode(b *testing.B) {
	data := jsonBenchData()
	benchDecode(b, data, func(r io.Reader) (Decoder, error) { return NewJSONDecoder(r, benchSchema, DecodeOptions{}) })
}
