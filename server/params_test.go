package server

import (
	"fmt"
	"strings"
	"testing"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/sql"

	"github.com/jackc/pgx/v5/pgtype"
	wire "github.com/jeroenrinzema/psql-wire"
)

func TestPlaceholdersIgnoreStringsAndComments(t *testing.T) {
	text := `SELECT '$1', "$2", $3 -- $4
	/* $5 */ FROM t WHERE a = $10 AND b=$1`
	var got []int
	for _, p := range placeholders(text) {
		got = append(got, p.n)
		if text[p.pos] != '$' {
			t.Fatalf("position %d is %q", p.pos, text[p.pos])
		}
	}
	if len(got) != 3 || got[0] != 3 || got[1] != 10 || got[2] != 1 {
		t.Fatalf("placeholders %v", got)
	}
	if _, err := substitute(text, placeholders(text), []string{"1"}); err == nil || !strings.Contains(err.Error(), "requires 10") {
		t.Fatalf("count mismatch: %v", err)
	}
}

func TestLiteralQuotingByType(t *testing.T) {
	m := pgtype.NewMap()
	text := func(s string) wire.Parameter { return wire.NewParameter(m, wire.TextFormat, []byte(s)) }
	cases := []struct {
		oid  uint32
		in   wire.Parameter
		want string
	}{
		{oidText, text(`it's`), `'it''s'`},
		{oidText, text(`a\'); DROP TABLE t; --`), `'a\''); DROP TABLE t; --'`},
		{0, text(`x`), `'x'`},
		{oidInt8, text(`42`), `42`},
		{oidInt8, text(`-5`), `(-5)`},
		{oidInt4, text(` 7 `), `7`},
		{oidFloat8, text(`2.5`), `CAST('2.5' AS DOUBLE)`},
		{oidFloat8, text(`NaN`), `CAST('NaN' AS DOUBLE)`},
		{oidNumeric, text(`12.50`), `CAST('12.50' AS DECIMAL(38,2))`},
		{oidBool, text(`t`), `TRUE`},
		{oidTimestamp, text(`2024-05-01 09:30:00`), `TIMESTAMP '2024-05-01 09:30:00'`},
		{oidTimestamp, text(`2024-05-01 09:30:00.5+02`), `TIMESTAMP '2024-05-01 09:30:00.5'`},
		{0, text(`2024-05-01 09:30:00+00`), `'2024-05-01 09:30:00+00'`},
		{oidDate, text(`2024-05-01`), `DATE '2024-05-01'`},
		{oidInterval, text(`1 hour`), `CAST('3600000000 microseconds' AS INTERVAL)`},
		{oidInt8, wire.NewParameter(m, wire.TextFormat, nil), `CAST(NULL AS BIGINT)`},
		{oidInt8, wire.NewParameter(m, wire.BinaryFormat, []byte{0, 0, 0, 0, 0, 0, 1, 0}), `256`},
		{oidFloat8, wire.NewParameter(m, wire.BinaryFormat, []byte{0x40, 0x04, 0, 0, 0, 0, 0, 0}), `CAST('2.5' AS DOUBLE)`},
	}
	for _, tc := range cases {
		got, err := literal(m, tc.oid, tc.in)
		if err != nil || got != tc.want {
			t.Errorf("literal(%d, %q) = %q, %v; want %q", tc.oid, tc.in.Value(), got, err, tc.want)
		}
	}
	for _, bad := range []struct {
		oid uint32
		v   string
	}{{oidInt8, "1; DROP TABLE t"}, {oidInt8, "1e3"}, {oidFloat8, "1 OR 1=1"}, {oidNumeric, "1/2"}, {oidNumeric, "0x10"},
		{oidBool, "maybe"}, {oidTimestamp, "yesterday'"}, {oidDate, "2024-13-01"}, {oidText, "nul\x00byte"}} {
		if got, err := literal(m, bad.oid, text(bad.v)); err == nil {
			t.Errorf("literal(%d, %q) = %q, want an error", bad.oid, bad.v, got)
		}
	}
}

// TestSQLStateFromType: the code comes from the error's type (sql.Error, exec.Error, anything
// with SQLState(), through %w wrapping), never from its text.
func TestSQLStateFromType(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{&sql.Error{Msg: `table "x" does not exist`, Pos: -1, Code: sql.CodeUndefinedTable}, "42P01"},
		{&sql.Error{Msg: "anything", Pos: -1, Kind: "syntax error"}, "42601"},
		{fmt.Errorf("query q: %w", exec.Errorf(exec.CodeDivisionByZero, "division by zero")), "22012"},
		{&exec.MemoryLimitError{}, "53200"},
		{errString(`table "t" already exists`), "XX000"}, // text alone carries no code
	}
	for _, c := range cases {
		if got := string(sqlState(c.err)); got != c.want {
			t.Errorf("%v: %s, want %s", c.err, got, c.want)
		}
	}
	if got := sqlState(errTimeout); got != "57014" {
		t.Errorf("timeout: %s", got)
	}
}

type errString string

func (e errString) Error() string { return string(e) }
