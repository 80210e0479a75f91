package main

import "testing"

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"": 0, "512MiB": 512 << 20, "2GiB": 2 << 30, "64MB": 64e6, "1048576": 1 << 20, "1.5 GiB": 3 << 29, "10K": 10 << 10} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"lots", "-5MiB", "0", "MiB"} {
		if _, err := parseBytes(bad); err == nil {
			t.Errorf("parseBytes(%q) accepted", bad)
		}
	}
}
