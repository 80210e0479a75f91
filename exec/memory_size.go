package exec

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseMemorySize reads a memory size as the engine's options and flags write it: a number
// (decimals allowed) with an optional unit, KiB/MiB/GiB or K/M/G (powers of 1024), KB/MB/GB
// (powers of 1000) or B: "512MiB", "2GiB", "1.5G", "1048576". The size must be positive.
func ParseMemorySize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || !(n > 0) || n*float64(mult) > math.MaxInt64/2 || n*float64(mult) < 1 {
		return 0, fmt.Errorf("invalid size %q (expected e.g. 512MiB or 2GiB)", s)
	}
	return int64(n * float64(mult)), nil
}
