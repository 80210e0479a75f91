package exec

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// TestStoredTimeRange: the saturating bounds the interval join prunes with admit exactly the
// stored times whose exact (unbounded) difference with the pushed time lies in [Lo, Hi], at the
// ends of BIGINT included.
func TestStoredTimeRange(t *testing.T) {
	edges := []int64{math.MinInt64, math.MinInt64 + 1, -1 << 62, -10, -1, 0, 1, 10, 1 << 62, math.MaxInt64 - 1, math.MaxInt64}
	r := rand.New(rand.NewPCG(3, 4))
	pick := func() int64 {
		if r.IntN(2) == 0 {
			return edges[r.IntN(len(edges))]
		}
		return r.Int64N(40) - 20
	}
	for i := 0; i < 200_000; i++ {
		lo, hi := pick(), pick()
		if lo > hi {
			lo, hi = hi, lo
		}
		rg := &JoinTimeRange{Lo: lo, Hi: hi}
		input := r.IntN(2)
		tv, et := pick(), pick()
		elo, ehi, ok := storedTimeRange(rg, input, tv)
		got := ok && et >= elo && et <= ehi
		right, left := big.NewInt(et), big.NewInt(tv)
		if input == 1 {
			right, left = left, right
		}
		d := new(big.Int).Sub(right, left)
		want := d.Cmp(big.NewInt(lo)) >= 0 && d.Cmp(big.NewInt(hi)) <= 0
		if got != want {
			t.Fatalf("input %d, t %d, stored %d, range [%d, %d]: bounds [%d, %d] admit %v, exact difference %s", input, tv, et, lo, hi, elo, ehi, got, d)
		}
	}
}
