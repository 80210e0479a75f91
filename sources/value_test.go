package sources

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestParseInt64Oracle compares parseInt64 with strconv.ParseInt on edge and random inputs.
func TestParseInt64Oracle(t *testing.T) {
	inputs := []string{"0", "-0", "+0", "7", "-7", "+7", "9223372036854775807", "9223372036854775808",
		"-9223372036854775808", "-9223372036854775809", "00000000000000000000000042", "99999999999999999999",
		"", "-", "+", "1a", " 1", "1.0", "0x10", "1_000", "18446744073709551616"}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 2000; i++ {
		inputs = append(inputs, strconv.FormatInt(int64(rng.Uint64()), 10), strconv.FormatUint(rng.Uint64(), 10))
	}
	for _, in := range inputs {
		want, err := strconv.ParseInt(in, 10, 64)
		got, ok := parseInt64([]byte(in))
		if strings.Contains(in, "_") {
			err = fmt.Errorf("underscores are not digits")
		}
		if ok != (err == nil) || (ok && got != want) {
			t.Errorf("parseInt64(%q) = %d, %v; strconv: %d, %v", in, got, ok, want, err)
		}
	}
}

// decimalOracle computes round-half-away-from-zero(x * 10^scale) with math/big and checks the
// precision; "" means the input is not a number, "overflow" that it does not fit.
func decimalOracle(in string, precision, scale int) string {
	r, ok := new(big.Rat).SetString(in)
	if !ok || strings.ContainsAny(in, "/xXpP_ ") || strings.HasPrefix(strings.TrimLeft(in, "+-"), "e") {
		return ""
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	neg := r.Sign() < 0
	r.Abs(r)
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	if new(big.Int).Mul(m, big.NewInt(2)).Cmp(r.Denom()) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if len(q.String()) > precision && q.Sign() != 0 {
		return "overflow"
	}
	if neg {
		q.Neg(q)
	}
	return q.String()
}

// TestParseDecimalOracle compares parseDecimal with an exact math/big computation.
func TestParseDecimalOracle(t *testing.T) {
	inputs := []string{"0", "-0", "0.005", "0.0049", "-0.005", "1.005", "999.995", "999.994", "12.345e1",
		"1e-3", "5e-3", "-5e-3", "1E+2", ".5", "5.", "+.5", "1e40", "1e-40", "0e100000000",
		"123456789012345678901234567890123456.78", "99999999999999999999999999999999999999",
		"1.2.3", "1e", "e5", "-", ".", "1e+", "abc", "1,5", "00000.00100", "0.0000000000000000000000000000000000000000005"}
	rng := rand.New(rand.NewPCG(5, 6))
	digits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + rng.IntN(10))
		}
		return string(b)
	}
	for i := 0; i < 3000; i++ {
		s := []string{"", "-", "+"}[rng.IntN(3)] + digits(rng.IntN(25))
		if rng.IntN(2) == 0 {
			s += "." + digits(rng.IntN(25))
		}
		if rng.IntN(4) == 0 {
			s += fmt.Sprintf("e%d", rng.IntN(60)-30)
		}
		inputs = append(inputs, s)
	}
	for _, in := range inputs {
		for _, ps := range [][2]int{{38, 0}, {5, 2}, {38, 6}, {10, 10}, {18, 3}} {
			want := decimalOracle(in, ps[0], ps[1])
			n, st := parseDecimal([]byte(in), int32(ps[0]), int32(ps[1]))
			var got string
			switch st {
			case decSyntax:
				got = ""
			case decOverflow:
				got = "overflow"
			default:
				got = n.BigInt().String()
			}
			if got != want {
				t.Errorf("parseDecimal(%q, %d, %d) = %q (status %d), want %q", in, ps[0], ps[1], got, st, want)
			}
		}
	}
}

// TestParseDecimalHugeExponent covers exponents beyond what math/big parses.
func TestParseDecimalHugeExponent(t *testing.T) {
	if _, st := parseDecimal([]byte("1e100000000"), 38, 0); st != decOverflow {
		t.Errorf("1e100000000: status %d, want overflow", st)
	}
	if n, st := parseDecimal([]byte("-7e-100000000"), 38, 2); st != decRounded || n.BigInt().Sign() != 0 {
		t.Errorf("-7e-100000000: %v status %d, want 0 rounded", n.BigInt(), st)
	}
}

func TestParseBool(t *testing.T) {
	for in, want := range map[string]int{"true": 1, "TRUE": 1, "True": 1, "t": 1, "T": 1, "1": 1,
		"false": 0, "FALSE": 0, "f": 0, "F": 0, "0": 0, "yes": -1, "": -1, "\x11": -1, "tru": -1, "2": -1, "truee": -1} {
		v, ok := parseBool([]byte(in))
		got := -1
		if ok {
			got = 0
			if v {
				got = 1
			}
		}
		if got != want {
			t.Errorf("parseBool(%q) = %d, want %d", in, got, want)
		}
	}
}
