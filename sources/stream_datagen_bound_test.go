package sources

import (
	"context"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/exec"
)

func TestDatagenNumberOfRowsEndsTheStream(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "v", Type: exec.Int64, Nullable: true}}, nil)
	s, err := NewDatagenStream(StreamConfig{Name: "g", Schema: schema, Mem: mem, Clock: time.Now,
		Options: map[string]string{"connector": "datagen", "rows_per_second": "unbounded", "max_rows_per_trigger": "400", "number_of_rows": "1000"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var from Offset
	var ends []string
	for i := 0; i < 5; i++ {
		end, err := s.Latest(context.Background(), from)
		if err != nil {
			t.Fatal(err)
		}
		ends = append(ends, string(end))
		from = end
	}
	want := []string{`{"rows":400}`, `{"rows":800}`, `{"rows":1000}`, `{"rows":1000}`, `{"rows":1000}`}
	for i := range want {
		if ends[i] != want[i] {
			t.Fatalf("Latest sequence %v, want %v", ends, want)
		}
	}
	if _, err := NewDatagenStream(StreamConfig{Name: "g", Schema: schema, Mem: mem, Clock: time.Now,
		Options: map[string]string{"connector": "datagen", "number_of_rows": "-3"}}); err == nil {
		t.Fatal("a negative number_of_rows must be refused")
	}
}

func TestDatagenEventTimesMatchEventTime(t *testing.T) {
	for _, rate := range []int64{0, 1, 3, 7, 1000, 100000, 300000} {
		s := &DatagenStream{rate: rate, startUs: 1_700_000_000_000_000}
		for _, first := range []int64{0, 1, 99999, 100000, 123457} {
			out := make([]int64, 2500)
			s.eventTimes(first, out)
			for j, v := range out {
				if want := s.eventTime(first + int64(j)); v != want {
					t.Fatalf("rate %d row %d: %d, want %d", rate, first+int64(j), v, want)
				}
			}
		}
	}
}
