package server

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	wire "github.com/jeroenrinzema/psql-wire"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/sql"
)

// placeholder is one $n in a statement: its byte range and its 1-based number.
type placeholder struct {
	pos, end int
	n        int
}

// placeholders finds the $n parameters of text with the engine's lexer, so a "$1" inside a string
// literal, a quoted identifier or a comment is not one.
func placeholders(text string) []placeholder {
	toks := sql.Lex(text)
	var out []placeholder
	for i := 0; i+1 < len(toks); i++ {
		t, next := toks[i], toks[i+1]
		if !t.IsOp("$") || next.Kind != sql.TokNumber || next.Pos != t.End {
			continue
		}
		n, err := strconv.Atoi(next.Text)
		if err != nil || n < 1 {
			continue
		}
		out = append(out, placeholder{pos: t.Pos, end: next.End, n: n})
		i++
	}
	return out
}

// numParams is the highest $n of text (PostgreSQL's parameter count).
func numParams(ph []placeholder) int {
	n := 0
	for _, p := range ph {
		n = max(n, p.n)
	}
	return n
}

// substitute replaces every $n of text by lits[n-1]. Each literal is a complete, self-delimiting
// SQL expression (see literal), so the statement's structure cannot change whatever the values.
func substitute(text string, ph []placeholder, lits []string) (string, error) {
	if want := numParams(ph); want != len(lits) {
		return "", fmt.Errorf("bind message supplies %d parameters, but prepared statement requires %d", len(lits), want)
	}
	var sb strings.Builder
	last := 0
	for _, p := range ph {
		sb.WriteString(text[last:p.pos])
		sb.WriteString(lits[p.n-1])
		last = p.end
	}
	sb.WriteString(text[last:])
	return sb.String(), nil
}

// quoteString renders s as a SQL string literal. The engine's strings are standard-conforming
// (backslash is an ordinary character), so doubling quotes is the whole escaping; NUL bytes are
// refused because no PostgreSQL text value may hold one.
func quoteString(s string) (string, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return "", fmt.Errorf("invalid byte sequence: a text value cannot contain a NUL byte")
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'", nil
}

// literal renders one parameter value as a SQL expression of the engine type that PostgreSQL
// type oid maps to. Text-format values are validated by parsing them as that type, binary-format
// values are decoded with pgx's codecs; either way a value that does not fit is an error
// (SQLSTATE 22P02) rather than text pasted into the statement. A NULL value renders as a typed
// NULL so the statement binds the same way as with a value.
func literal(m *pgtype.Map, oid uint32, p wire.Parameter) (string, error) {
	if elem, ok := arrayElem[oid]; ok {
		return arrayLiteral(m, oid, elem, p)
	}
	t := engineTypeOf(oid)
	if p.Value() == nil {
		return "CAST(NULL AS " + sqlTypeOf(t) + ")", nil
	}
	var v any
	if p.Format() == wire.BinaryFormat {
		var err error
		if v, err = p.Scan(oid); err != nil {
			return "", fmt.Errorf("invalid binary value for parameter of type %s: %v", t, err)
		}
	} else {
		v = string(p.Value())
	}
	return literalOf(t, v)
}

// literalOf renders v (a Go value decoded by pgx, or the text form as a string) as type t.
func literalOf(t string, v any) (string, error) {
	text, isText := v.(string)
	bad := func() (string, error) {
		return "", fmt.Errorf("invalid input syntax for type %s: %q", strings.ToLower(t), fmt.Sprint(v))
	}
	switch t {
	case "BOOLEAN":
		if isText {
			b, err := exec.ParseBool(strings.TrimSpace(text))
			if err != nil {
				return bad()
			}
			return strings.ToUpper(strconv.FormatBool(b)), nil
		}
		if b, ok := v.(bool); ok {
			return strings.ToUpper(strconv.FormatBool(b)), nil
		}
	case "BIGINT":
		if isText {
			n, err := exec.ParseInt64(strings.TrimSpace(text))
			if err != nil {
				return bad()
			}
			return bigintLiteral(n), nil
		}
		switch x := v.(type) {
		case int64:
			return bigintLiteral(x), nil
		case int32:
			return bigintLiteral(int64(x)), nil
		case int16:
			return bigintLiteral(int64(x)), nil
		}
	case "DOUBLE":
		var f float64
		switch x := v.(type) {
		case string:
			var err error
			if f, err = exec.ParseFloat64(strings.TrimSpace(x)); err != nil {
				return bad()
			}
		case float64:
			f = x
		case float32:
			f = float64(x)
		default:
			return bad()
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return "CAST('" + exec.FormatFloat(f) + "' AS DOUBLE)", nil
		}
		return "CAST('" + strconv.FormatFloat(f, 'g', -1, 64) + "' AS DOUBLE)", nil
	case "DECIMAL":
		var s string
		switch x := v.(type) {
		case string:
			s = strings.TrimSpace(x)
		case pgtype.Numeric:
			if x.NaN || x.InfinityModifier != pgtype.Finite {
				return "", fmt.Errorf("invalid input syntax for type numeric: NaN and infinity are not supported")
			}
			b, err := x.MarshalJSON()
			if err != nil {
				return bad()
			}
			s = string(b)
		default:
			return bad()
		}
		if _, ok := new(big.Rat).SetString(s); !ok || strings.ContainsAny(s, "/_xXpP") {
			return bad()
		}
		return "CAST('" + s + "' AS DECIMAL(38," + strconv.Itoa(decimalScale(s)) + "))", nil
	case "TIMESTAMP", "TIMESTAMPTZ":
		switch x := v.(type) {
		case string:
			// PostgreSQL's input forms (exec.ParseDateTime). A timestamp without time zone
			// ignores a zone offset, as PostgreSQL does (the JDBC driver sends
			// "2024-05-01 10:00:00+02" for a local 10:00, node-postgres
			// "2024-03-04T10:00:00.000+02:00"); a timestamptz parameter is the instant, in UTC.
			dt, err := exec.ParseDateTime(x, strings.ToLower(t))
			if err != nil {
				return "", err
			}
			us := dt.Local()
			if t == "TIMESTAMPTZ" {
				us = dt.UTC()
			}
			return "TIMESTAMP '" + exec.FormatTimestamp(us) + "'", nil
		case time.Time:
			// pgx decodes a binary timestamp as UTC wall time, a timestamptz as the instant.
			return "TIMESTAMP '" + exec.FormatTimestamp(x.UnixMicro()) + "'", nil
		case pgtype.InfinityModifier:
			return "", fmt.Errorf("%s value %s is not supported: streamsql's timestamps are finite", strings.ToLower(t), x)
		}
	case "DATE":
		switch x := v.(type) {
		case string:
			d, err := exec.ParseDateTime(x, "date") // time and zone ignored, as PostgreSQL does
			if err != nil {
				return "", err
			}
			return "DATE '" + exec.FormatDatum(exec.Date, int32(d.Days)) + "'", nil
		case time.Time:
			return "DATE '" + x.Format("2006-01-02") + "'", nil
		case pgtype.InfinityModifier:
			return "", fmt.Errorf("date value %s is not supported: streamsql's dates are finite", x)
		}
	case "TIME":
		// The engine has no TIME type: a time of day becomes its canonical text, HH:MM:SS[.ffffff].
		var us int64
		switch x := v.(type) {
		case string:
			var err error
			if us, err = exec.ParseTimeOfDay(x); err != nil {
				return "", err
			}
		case pgtype.Time:
			us = x.Microseconds
		default:
			return bad()
		}
		return quoteString(formatTimeOfDay(us))
	case "INTERVAL":
		switch x := v.(type) {
		case string:
			us, err := exec.ParseInterval(strings.TrimSpace(x))
			if err != nil {
				return bad()
			}
			return intervalLiteral(us), nil
		case pgtype.Interval:
			if x.Months != 0 {
				return "", fmt.Errorf("calendar intervals (months, years) are not supported")
			}
			return intervalLiteral(int64(x.Days)*86400e6 + x.Microseconds), nil
		}
	default: // VARCHAR
		if isText {
			return quoteString(text)
		}
		return quoteString(fmt.Sprint(v))
	}
	return bad()
}

// formatTimeOfDay renders microseconds after midnight as PostgreSQL prints a time.
func formatTimeOfDay(us int64) string {
	out := fmt.Sprintf("%02d:%02d:%02d", us/3600e6, us/60e6%60, us/1e6%60)
	if frac := us % 1e6; frac != 0 {
		out += strings.TrimRight(fmt.Sprintf(".%06d", frac), "0")
	}
	return out
}

// sqlTypeOf is the engine's SQL spelling of a parameter type from engineTypeOf.
func sqlTypeOf(t string) string {
	switch t {
	case "TIMESTAMPTZ":
		return "TIMESTAMP"
	case "TIME":
		return "VARCHAR"
	}
	return t
}

// bigintLiteral keeps negative numbers parenthesised so "x-$1" cannot become a comment ("x--5").
func bigintLiteral(n int64) string {
	if n < 0 {
		return "(" + strconv.FormatInt(n, 10) + ")"
	}
	return strconv.FormatInt(n, 10)
}

func intervalLiteral(us int64) string {
	return "CAST('" + strconv.FormatInt(us, 10) + " microseconds' AS INTERVAL)"
}

func decimalScale(s string) int {
	s = strings.TrimLeft(s, "+-")
	if e := strings.IndexAny(s, "eE"); e >= 0 {
		s = s[:e]
	}
	if dot := strings.IndexByte(s, '.'); dot >= 0 {
		return min(len(s)-dot-1, 37)
	}
	return 0
}

// engineTypeOf maps a parameter's PostgreSQL type OID to the engine type its literal takes
// ("BIGINT[]" for an array). Unknown OIDs (0, unknown, text-like) are VARCHAR.
func engineTypeOf(oid uint32) string {
	if elem, ok := arrayElem[oid]; ok {
		return engineTypeOf(elem) + "[]"
	}
	switch oid {
	case oidBool:
		return "BOOLEAN"
	case oidInt8, oidInt4, oidInt2, oidOID:
		return "BIGINT"
	case oidFloat8, oidFloat4:
		return "DOUBLE"
	case oidNumeric:
		return "DECIMAL"
	case oidTimestamp:
		return "TIMESTAMP"
	case oidTimestTZ:
		return "TIMESTAMPTZ"
	case oidTime, oidTimeTZ:
		return "TIME"
	case oidDate:
		return "DATE"
	case oidInterval:
		return "INTERVAL"
	}
	return "VARCHAR"
}
