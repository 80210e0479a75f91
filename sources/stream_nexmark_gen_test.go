package sources

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// TestNexmarkGeneratorMatchesModel: the column generator yields, record for record, the arrays
// the builder-based generator (stream_nexmark_model_test.go) yields, for every event type, all
// columns and a shuffled subset, several seeds and rates, ranges that start and end inside a
// group of 50 events, and batch sizes that cut records anywhere.
func TestNexmarkGeneratorMatchesModel(t *testing.T) {
	for _, c := range []struct {
		kind string
		cols []string
	}{
		{"person", nexPersonCols},
		{"auction", nexAuctionCols},
		{"bid", nexBidCols},
		{"person", []string{"extra VARCHAR", "credit_card VARCHAR", "id BIGINT", "email_address VARCHAR"}},
		{"auction", []string{"expires TIMESTAMP", "description VARCHAR", "seller BIGINT", "extra VARCHAR"}},
		{"bid", []string{"url VARCHAR", "extra VARCHAR", "channel VARCHAR", "price BIGINT"}},
	} {
		for _, o := range []struct {
			seed, rate, batch string
			a, b              int64
		}{
			{"1", "1000", "65536", 0, 200_000},
			{"7", "100000", "1000", 17, 123_457},
			{"-3", "0.5", "37", 4_999_999_990, 5_000_003_001},
		} {
			name := fmt.Sprintf("%s/%d cols/seed %s", c.kind, len(c.cols), o.seed)
			s := openNexmark(t, c.kind, c.cols, "seed", o.seed, "events_per_second", o.rate, "batch_size", o.batch)
			var want, got []arrow.RecordBatch
			collect := func(out *[]arrow.RecordBatch) func(arrow.RecordBatch) error {
				return func(r arrow.RecordBatch) error {
					r.Retain()
					*out = append(*out, r)
					return nil
				}
			}
			if err := s.readEventsModel(o.a, o.b, collect(&want)); err != nil {
				t.Fatal(err)
			}
			if err := s.readEvents(context.Background(), o.a, o.b, collect(&got)); err != nil {
				t.Fatal(err)
			}
			if len(want) == 0 || len(got) != len(want) {
				t.Fatalf("%s: %d records, the model gives %d", name, len(got), len(want))
			}
			for i := range want {
				if !array.RecordEqual(got[i], want[i]) {
					t.Fatalf("%s: record %d differs from the model's:\n%v\nwant\n%v", name, i, got[i], want[i])
				}
			}
			for _, r := range append(want, got...) {
				r.Release()
			}
		}
	}
}
