package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// parseFlags parses a subcommand's arguments. When it returns done, the subcommand must exit
// with code: 0 after -h/--help (the usage was printed), 2 on a bad flag (the flag package printed
// the error and the usage).
func parseFlags(fs *flag.FlagSet, args []string) (code int, done bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return 0, false
	case errors.Is(err, flag.ErrHelp):
		return 0, true
	}
	return 2, true
}

// parseBytes reads a size such as 512MiB, 2GiB, 64MB or 1048576 ("" is 0: no limit).
func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n <= 0 || n*float64(mult) > math.MaxInt64/2 {
		return 0, fmt.Errorf("invalid size %q (expected e.g. 512MiB or 2GiB)", s)
	}
	return int64(n * float64(mult)), nil
}
