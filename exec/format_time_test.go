package exec

import (
	"math/rand/v2"
	"testing"
)

func TestAppendTimestampMatchesFormatTimestamp(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []int64{0, 1, -1, 999_999, 86_400_000_000, -86_400_000_000, 951_782_400_000_000, 253_402_300_799_999_999}
	for i := 0; i < 100_000; i++ {
		cases = append(cases, rng.Int64N(500_000_000_000_000_0)-200_000_000_000_000_0)
	}
	for _, us := range cases {
		if got, want := string(AppendTimestamp(nil, us)), formatTimestampSlow(us); got != want {
			t.Fatalf("%d: got %q want %q", us, got, want)
		}
	}
}
