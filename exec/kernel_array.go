package exec

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Array functions PostgreSQL clients' catalog queries use (x[i], string_to_array, parse_ident)
// and Spark's sequence, on the engine's list type.

func init() {
	// element_at(array, i) is x[i]: the i-th element counting from 1, NULL when out of range
	// (Spark's element_at and PostgreSQL's subscript agree on that).
	register(&Function{Name: "element_at", Usage: "element_at(array ANY[], index BIGINT) or array[index]", Bind: func(args []arrow.DataType) (*Bound, error) {
		if len(args) != 2 || args[0].ID() != arrow.LIST || !implicitlyConverts(args[1], Int64) {
			return nil, ArgTypeError("element_at", "element_at(array ANY[], index BIGINT)", args)
		}
		elem := args[0].(*arrow.ListType).Elem()
		return &Bound{Args: []arrow.DataType{args[0], Int64}, Ret: elem, Kernel: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			l, idx := a[0].(*array.List), a[1].(*array.Int64)
			b := array.NewBuilder(ctx.Mem, elem)
			defer b.Release()
			for i := 0; i < n; i++ {
				if l.IsNull(i) || idx.IsNull(i) {
					b.AppendNull()
					continue
				}
				start, end := l.ValueOffsets(i)
				k := idx.Value(i)
				if k < 1 || k > end-start {
					b.AppendNull()
					continue
				}
				if err := AppendDatum(b, ValueAt(l.ListValues(), int(start+k-1))); err != nil {
					return nil, err
				}
			}
			return b.NewArray(), nil
		}}, nil
	}})
}

// maxSequence bounds sequence(): a longer one is refused rather than built in memory.
const maxSequence = 10_000_000

func init() {
	pgFuncV("string_to_array", "string_to_array(str VARCHAR, delimiter VARCHAR) -> VARCHAR[]", arrow.ListOf(String), true, false, []pgForm{{String, String}}, func(_ *Session, a []Datum) (Datum, error) {
		str, d := a[0].(string), a[1].(string)
		switch {
		case str == "":
			return []string{}, nil
		case d == "":
			return []string{str}, nil
		}
		return strings.Split(str, d), nil
	})
	// sequence(start, stop[, step]) is Spark's: the integers from start to stop inclusive (what
	// generate_series yields, as one array; FROM generate_series with computed bounds uses it).
	pgFuncV("sequence", "sequence(start BIGINT, stop BIGINT[, step BIGINT]) -> BIGINT[]", arrow.ListOf(Int64), true, false, []pgForm{{Int64, Int64}, {Int64, Int64, Int64}}, func(_ *Session, a []Datum) (Datum, error) {
		start, stop, step := a[0].(int64), a[1].(int64), int64(1)
		if len(a) == 3 {
			step = a[2].(int64)
		}
		if step == 0 {
			return nil, Errorf(CodeInvalidParameter, "step size cannot equal zero")
		}
		n := int64(0)
		if step > 0 && stop >= start {
			n = (stop-start)/step + 1
		} else if step < 0 && stop <= start {
			n = (start-stop)/(-step) + 1
		}
		if n > maxSequence || n < 0 {
			return nil, Errorf(CodeProgramLimit, "sequence of %d elements is longer than the limit of %d", n, maxSequence)
		}
		out := make([]int64, n)
		for i := range out {
			out[i] = start + int64(i)*step
		}
		return out, nil
	})
}

func init() {
	// parse_ident('a."B".c') is {a,B,c}: dotted identifiers, quoted parts kept as written,
	// unquoted ones folded to lower case.
	pgFuncV("parse_ident", "parse_ident(name VARCHAR[, strict BOOLEAN]) -> VARCHAR[]", arrow.ListOf(String), true, false, []pgForm{{String}, {String, Bool}}, func(_ *Session, a []Datum) (Datum, error) {
		parts, err := ParseIdent(a[0].(string))
		if err != nil {
			return nil, err
		}
		return parts, nil
	})
}

// ParseIdent splits a dotted, optionally double-quoted identifier as parse_ident does.
func ParseIdent(s string) ([]string, error) {
	var parts []string
	i := 0
	for {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		var part strings.Builder
		if i < len(s) && s[i] == '"' {
			i++
			closed := false
			for i < len(s) {
				if s[i] == '"' {
					if i+1 < len(s) && s[i+1] == '"' {
						part.WriteByte('"')
						i += 2
						continue
					}
					i++
					closed = true
					break
				}
				part.WriteByte(s[i])
				i++
			}
			if !closed || part.Len() == 0 {
				return nil, Errorf(CodeInvalidParameter, "string is not a valid identifier: %q", s)
			}
		} else {
			for i < len(s) && s[i] != '.' && s[i] != ' ' {
				part.WriteString(strings.ToLower(string(s[i])))
				i++
			}
			if part.Len() == 0 {
				return nil, Errorf(CodeInvalidParameter, "string is not a valid identifier: %q", s)
			}
		}
		parts = append(parts, part.String())
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i == len(s) {
			return parts, nil
		}
		if s[i] != '.' {
			return nil, Errorf(CodeInvalidParameter, "string is not a valid identifier: %q", s)
		}
		i++
	}
}
