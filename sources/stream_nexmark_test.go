package sources

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

func openNexmark(t *testing.T, kind string, cols []string, opts ...string) *NexmarkStream {
	t.Helper()
	o := map[string]string{"connector": "nexmark", "event_type": kind}
	for i := 0; i+1 < len(opts); i += 2 {
		o[opts[i]] = opts[i+1]
	}
	s, err := OpenStream(StreamConfig{Name: kind, Schema: schemaOf(t, cols...), Options: o, Mem: checkedMem(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s.(*NexmarkStream)
}

var (
	nexPersonCols  = []string{"id BIGINT", "name VARCHAR", "email_address VARCHAR", "credit_card VARCHAR", "city VARCHAR", "state VARCHAR", "date_time TIMESTAMP", "extra VARCHAR"}
	nexAuctionCols = []string{"id BIGINT", "item_name VARCHAR", "description VARCHAR", "initial_bid BIGINT", "reserve BIGINT", "date_time TIMESTAMP", "expires TIMESTAMP", "seller BIGINT", "category BIGINT", "extra VARCHAR"}
	nexBidCols     = []string{"auction BIGINT", "bidder BIGINT", "price BIGINT", "channel VARCHAR", "url VARCHAR", "date_time TIMESTAMP", "extra VARCHAR"}
)

// TestNexmarkModel checks the event model over 100,000 events: the 1:3:46 mix, ids, the
// in-flight and active windows bids and auctions draw from, hot shares, prices, event times,
// sizes, and that the stream is the same however the range is split into epochs.
func TestNexmarkModel(t *testing.T) {
	const events = 100_000
	opts := []string{"number_of_events", "100000", "max_events_per_trigger", "7777", "events_per_second", "1000"}
	person := readRange(t, openNexmark(t, "person", nexPersonCols, opts...), nil, Offset(`{"events":100000}`))
	auction := readRange(t, openNexmark(t, "auction", nexAuctionCols, opts...), nil, Offset(`{"events":100000}`))
	if len(person) != events/50 || len(auction) != events/50*3 {
		t.Fatalf("%d people and %d auctions in %d events, want %d and %d", len(person), len(auction), events, events/50, events/50*3)
	}
	// Bids through epochs of max_events_per_trigger events, against one read of the whole range.
	bids := openNexmark(t, "bid", nexBidCols, opts...)
	whole := readRange(t, bids, nil, Offset(`{"events":100000}`))
	var split []string
	var from Offset
	for {
		to := latest(t, bids, from)
		if string(to) == string(from) {
			break
		}
		split = append(split, readRange(t, bids, from, to)...)
		from = to
	}
	if len(whole) != events/50*46 || strings.Join(split, "\n") != strings.Join(whole, "\n") {
		t.Fatalf("bids: %d in one read, %d over epochs (want %d, identical)", len(whole), len(split), events/50*46)
	}
	// Ids and draws, with the raw columns.
	var hotAuction, hotBidder, n int
	bidRecs := nexRecords(t, bids, 100_000)
	for _, rec := range bidRecs {
		a, b, p := rec.Column(0).(*array.Int64), rec.Column(1).(*array.Int64), rec.Column(2).(*array.Int64)
		ts := rec.Column(5).(*array.Timestamp)
		for i := 0; i < int(rec.NumRows()); i++ {
			n++
			auc, bidder, price := a.Value(i), b.Value(i), p.Value(i)
			if price < 100 || price > 100_000_000 || price%100 != 0 {
				t.Fatalf("price %d outside [1, 10^6] dollars in cents", price)
			}
			if auc%nexHotRatio == 0 {
				hotAuction++
			}
			if (bidder-nexFirstPerson)%nexHotRatio == 1 {
				hotBidder++
			}
			if auc < nexFirstAuction || bidder < nexFirstPerson {
				t.Fatalf("bid on auction %d by %d: below the first ids", auc, bidder)
			}
			_ = ts
		}
	}
	for _, r := range bidRecs {
		r.Release()
	}
	if f := float64(hotAuction) / float64(n); f < 0.45 || f > 0.6 {
		t.Errorf("%.2f of bids on hot auctions, want about 0.5", f)
	}
	if f := float64(hotBidder) / float64(n); f < 0.7 || f > 0.85 {
		t.Errorf("%.2f of bids by hot bidders, want about 0.75", f)
	}
	// Event time: 1000 events/s from 2024-01-01: the last person (event 99,950) at 99.95 s.
	if got := person[len(person)-1]; !strings.Contains(got, "2024-01-01 00:01:39.95") {
		t.Errorf("last person %s: want date_time 2024-01-01 00:01:39.95", got)
	}
	// Padding: events average 200 / 500 / 100 bytes, counting 8 per BIGINT or TIMESTAMP and
	// the length of each string, as the reference generator does.
	for _, c := range []struct {
		kind string
		cols []string
		want float64
	}{{"person", nexPersonCols, 200}, {"auction", nexAuctionCols, 500}, {"bid", nexBidCols, 100}} {
		recs := nexRecords(t, openNexmark(t, c.kind, c.cols), 100_000)
		var bytes, rows int64
		for _, rec := range recs {
			rows += rec.NumRows()
			for _, col := range rec.Columns() {
				if s, ok := col.(*array.String); ok {
					bytes += int64(len(s.ValueBytes()))
				} else {
					bytes += 8 * int64(col.Len())
				}
			}
			rec.Release()
		}
		if avg := float64(bytes) / float64(rows); avg < c.want*0.95 || avg > c.want*1.05 {
			t.Errorf("%s: average event size %.1f bytes, want %.0f", c.kind, avg, c.want)
		}
	}
}

func nexRecords(t *testing.T, s *NexmarkStream, events int64) []arrow.RecordBatch {
	var out []arrow.RecordBatch
	err := s.Read(context.Background(), nil, countOffset("events", events), func(r arrow.RecordBatch) error {
		r.Retain()
		out = append(out, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestNexmarkColumnsAndOptions: any subset of columns in any order gives the same values; wrong
// columns, types and options are refused by name.
func TestNexmarkColumnsAndOptions(t *testing.T) {
	all := readRange(t, openNexmark(t, "bid", nexBidCols), nil, Offset(`{"events":5000}`))
	some := readRange(t, openNexmark(t, "bid", []string{"price BIGINT", "auction BIGINT"}), nil, Offset(`{"events":5000}`))
	for i := range all {
		f := strings.Split(all[i], "|")
		if some[i] != f[2]+"|"+f[0] {
			t.Fatalf("row %d: %q, want price|auction of %q", i, some[i], all[i])
		}
	}
	for _, c := range []struct {
		cols []string
		opts []string
		want string
	}{
		{[]string{"bogus BIGINT"}, nil, `no column "bogus"`},
		{[]string{"price VARCHAR"}, nil, "price is BIGINT"},
		{[]string{"price BIGINT"}, []string{"event_type", "bids"}, "event_type"},
		{[]string{"price BIGINT"}, []string{"events_per_second", "0"}, "events_per_second"},
		{[]string{"price BIGINT"}, []string{"color", "red"}, "unknown option"},
	} {
		o := map[string]string{"connector": "nexmark", "event_type": "bid"}
		for i := 0; i+1 < len(c.opts); i += 2 {
			o[c.opts[i]] = c.opts[i+1]
		}
		_, err := OpenStream(StreamConfig{Name: "b", Schema: schemaOf(t, c.cols...), Options: o})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %v: error %v, want %q", c.cols, c.opts, err, c.want)
		}
	}
}

// BenchmarkNexmarkBids generates bids (all columns, and auction/bidder/price/date_time only).
//
//	go test ./sources -run '^$' -bench NexmarkBids -cpu 1 -count 5
func BenchmarkNexmarkBids(b *testing.B) {
	for _, c := range []struct {
		name string
		cols []string
	}{{"all", nexBidCols}, {"narrow", []string{"auction BIGINT", "bidder BIGINT", "price BIGINT", "date_time TIMESTAMP"}}} {
		b.Run(c.name, func(b *testing.B) {
			s, err := NewNexmarkStream(StreamConfig{Name: "bid", Schema: schemaOf(b, c.cols...), Options: map[string]string{"connector": "nexmark", "event_type": "bid"}})
			if err != nil {
				b.Fatal(err)
			}
			const events = 1_000_000
			cpu0 := processCPUTime()
			for i := 0; i < b.N; i++ {
				err := s.Read(context.Background(), nil, countOffset("events", events), func(arrow.RecordBatch) error { return nil })
				if err != nil {
					b.Fatal(err)
				}
			}
			if cpu := processCPUTime() - cpu0; cpu > 0 {
				b.ReportMetric(float64(events*b.N)/cpu.Seconds(), "events/cpu-s")
			}
		})
	}
}
