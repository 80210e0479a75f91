package sources

import (
	"bytes"
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

// benchDecode decodes data (benchRows records) completely b.N times, expecting wantRows good rows,
// and reports records/s and MB/s of wall time, and records per CPU-second of the process (GC
// included), which stays meaningful on a busy machine.
func benchDecode(b *testing.B, data []byte, wantRows int, newDec func(r io.Reader) (Decoder, error)) {
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	cpu0 := processCPUTime()
	for i := 0; i < b.N; i++ {
		decodeAll(b, data, wantRows, newDec)
	}
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	if cpu := processCPUTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(benchRows)*float64(b.N)/cpu.Seconds(), "rows/cpu-s")
	}
}

// BenchmarkCSVDecode: go test ./sources -run '^$' -bench CSVDecode -cpu 1 -count 5
func BenchmarkCSVDecode(b *testing.B) {
	data := csvBenchData()
	benchDecode(b, data, benchRows, func(r io.Reader) (Decoder, error) { return NewCSVDecoder(r, benchSchema, DecodeOptions{}) })
}

// BenchmarkJSONDecode: go test ./sources -run '^$' -bench JSONDecode -cpu 1 -count 5
func BenchmarkJSONDecode(b *testing.B) {
	data := jsonBenchData()
	benchDecode(b, data, benchRows, func(r io.Reader) (Decoder, error) { return NewJSONDecoder(r, benchSchema, DecodeOptions{}) })
}

// csvBadBench caches csvBadBenchData per every.
var csvBadBench struct {
	sync.Mutex
	data map[int][]byte
	bad  map[int]int
}

// csvBadBenchData is csvBenchData with every every-th record replaced by a bad one of the same
// length class, in rotation: a BIGINT that does not parse (found after ts and k were converted),
// a missing field, and text after a closing quote (a scan error and a resync).
func csvBadBenchData(every int) (data []byte, bad int) {
	csvBadBench.Lock()
	defer csvBadBench.Unlock()
	if d, ok := csvBadBench.data[every]; ok {
		return d, csvBadBench.bad[every]
	}
	if csvBadBench.data == nil {
		csvBadBench.data, csvBadBench.bad = map[int][]byte{}, map[int]int{}
	}
	defer func() { csvBadBench.data[every], csvBadBench.bad[every] = data, bad }()
	src := csvBenchData()
	out := make([]byte, 0, len(src))
	kinds := []string{"2024-01-01 00:00:00,key123,45x7890\n", "2024-01-01 00:00:00,key123\n", "\"2024-01-01 00:00:00\"x,key123,4567890\n"}
	for i := 0; len(src) > 0; i++ {
		k := bytes.IndexByte(src, '\n') + 1
		if i%every == every-1 {
			out = append(out, kinds[bad%len(kinds)]...)
			bad++
		} else {
			out = append(out, src[:k]...)
		}
		src = src[k:]
	}
	return out, bad
}

// BenchmarkCSVDecodeBadRows decodes the CSV benchmark input with 0%, 1% and 10% of its records
// bad, with an OnError that counts them and goes on. rows/cpu-s counts every input record, so it
// compares with BenchmarkCSVDecode directly.
//
//	go test ./sources -run '^$' -bench 'CSVDecode' -cpu 1 -count 5
func BenchmarkCSVDecodeBadRows(b *testing.B) {
	for _, tc := range []struct {
		name  string
		every int
	}{{"0pct", 0}, {"1pct", 100}, {"10pct", 10}} {
		b.Run(tc.name, func(b *testing.B) {
			data, bad := csvBenchData(), 0
			if tc.every > 0 {
				data, bad = csvBadBenchData(tc.every)
			}
			reported := 0
			onError := func(*RecordError) error {
				reported++
				return nil
			}
			b.ResetTimer()
			benchDecode(b, data, benchRows-bad, func(r io.Reader) (Decoder, error) {
				return NewCSVDecoder(r, benchSchema, DecodeOptions{OnError: onError})
			})
			if reported != bad*b.N {
				b.Fatalf("%d bad records reported, want %d", reported, bad*b.N)
			}
		})
	}
}
