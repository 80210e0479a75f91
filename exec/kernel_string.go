package exec

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// String functions and pattern matching. Lengths and positions count characters (UTF-8 code
// points), not bytes. All are strict (NULL in, NULL out) except concat and concat_ws, which skip
// NULL arguments like PostgreSQL.

func init() {
	strFn := func(name string, f func(string) string) {
		registerOverloads(name, name+"(str VARCHAR)", overload{args: types(String), ret: String, k: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			x := a[0].(*array.String)
			return stringsTo(ctx, a, n, func(i int) (string, bool, error) { return f(x.Value(i)), false, nil })
		}})
	}
	strFn("lower", strings.ToLower)
	strFn("upper", strings.ToUpper)
	strFn("reverse", func(s string) string {
		r := []rune(s)
		for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
			r[i], r[j] = r[j], r[i]
		}
		return string(r)
	})
	trimFn := func(name string, left, right bool) {
		one := func(s string) string {
			if left {
				s = strings.TrimLeftFunc(s, unicode.IsSpace)
			}
			if right {
				s = strings.TrimRightFunc(s, unicode.IsSpace)
			}
			return s
		}
		two := func(s, chars string) string {
			if left {
				s = strings.TrimLeft(s, chars)
			}
			if right {
				s = strings.TrimRight(s, chars)
			}
			return s
		}
		registerOverloads(name, name+"(str VARCHAR[, characters VARCHAR])",
			overload{args: types(String), ret: String, k: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
				x := a[0].(*array.String)
				return stringsTo(ctx, a, n, func(i int) (string, bool, error) { return one(x.Value(i)), false, nil })
			}},
			overload{args: types(String, String), ret: String, k: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
				x, y := a[0].(*array.String), a[1].(*array.String)
				return stringsTo(ctx, a, n, func(i int) (string, bool, error) { return two(x.Value(i), y.Value(i)), false, nil })
			}})
	}
	trimFn("trim", true, true)
	trimFn("btrim", true, true)
	trimFn("ltrim", true, false)
	trimFn("rtrim", false, true)

	registerOverloads("length", "length(str VARCHAR)", overload{args: types(String), ret: Int64, k: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
		x := a[0].(*array.String)
		return int64sTo(ctx, Int64, a, n, func(i int) (int64, error) { return int64(utf8.RuneCountInString(x.Value(i))), nil })
	}})
	register(&Function{Name: "char_length", Bind: func(args []arrow.DataType) (*Bound, error) { return BindCall("length", args) }})

	registerOverloads("substring", "substring(str VARCHAR, start BIGINT[, len BIGINT])",
		overload{args: types(String, Int64), ret: String, k: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			x, s := a[0].(*array.String), a[1].(*array.Int64)
			return stringsTo(ctx, a, n, func(i int) (string, bool, error) {
				r, err := substring(x.Value(i), s.Value(i), -1)
				return r, false, err
			})
		}},
		overload{args: types(String, Int64, Int64), ret: String, k: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			x, s, l := a[0].(*array.String), a[1].(*array.Int64), a[2].(*array.Int64)
			return stringsTo(ctx, a, n, func(i int) (string, bool, error) {
				if l.Value(i) < 0 {
					return "", false, fmt.Errorf("negative substring length not allowed: %d", l.Value(i))
				}
				r, err := substring(x.Value(i), s.Value(i), l.Value(i))
				return r, false, err
			})
		}})
	register(&Function{Name: "substr", Bind: func(args []arrow.DataType) (*Bound, error) { return BindCall("substring", args) }})

	str2 := func(name, usage string, ret arrow.DataType, f func(x, y string) (Datum, error)) {
		registerOverloads(name, usage, overload{args: types(String, String), ret: ret, k: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			x, y := a[0].(*array.String), a[1].(*array.String)
			return rowsTo(ctx, ret, a, n, func(b array.Builder, i int) error {
				v, err := f(x.Value(i), y.Value(i))
				if err != nil {
					return err
				}
				return AppendDatum(b, v)
			})
		}})
	}
	str2("starts_with", "starts_with(str VARCHAR, prefix VARCHAR)", Bool, func(x, y string) (Datum, error) { return strings.HasPrefix(x, y), nil })
	str2("ends_with", "ends_with(str VARCHAR, suffix VARCHAR)", Bool, func(x, y string) (Datum, error) { return strings.HasSuffix(x, y), nil })
	str2("strpos", "strpos(str VARCHAR, substr VARCHAR)", Int64, func(x, y string) (Datum, error) { return runePos(x, y), nil })
	str2("position", "position(substr VARCHAR, str VARCHAR)", Int64, func(y, x string) (Datum, error) { return runePos(x, y), nil })

	registerOverloads("replace", "replace(str VARCHAR, from VARCHAR, to VARCHAR)", overload{args: types(String, String, String), ret: String, k: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
		x, f, t := a[0].(*array.String), a[1].(*array.String), a[2].(*array.String)
		return stringsTo(ctx, a, n, func(i int) (string, bool, error) {
			if f.Value(i) == "" {
				return x.Value(i), false, nil
			}
			return strings.ReplaceAll(x.Value(i), f.Value(i), t.Value(i)), false, nil
		})
	}})

	leftRight := func(name string, left bool) {
		registerOverloads(name, name+"(str VARCHAR, n BIGINT)", overload{args: types(String, Int64), ret: String, k: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			x, k := a[0].(*array.String), a[1].(*array.Int64)
			return stringsTo(ctx, a, n, func(i int) (string, bool, error) {
				r := []rune(x.Value(i))
				c := int64(len(r))
				m := k.Value(i)
				if m < 0 {
					m = max(0, c+m)
				}
				m = min(m, c)
				if left {
					return string(r[:m]), false, nil
				}
				return string(r[c-m:]), false, nil
			})
		}})
	}
	leftRight("left", true)
	leftRight("right", false)

	pad := func(name string, left bool) {
		k := func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			x, l := a[0].(*array.String), a[1].(*array.Int64)
			var fill *array.String
			if len(a) > 2 {
				fill = a[2].(*array.String)
			}
			return stringsTo(ctx, a, n, func(i int) (string, bool, error) {
				f := " "
				if fill != nil {
					f = fill.Value(i)
				}
				return padString(x.Value(i), l.Value(i), f, left)
			})
		}
		registerOverloads(name, name+"(str VARCHAR, length BIGINT[, fill VARCHAR])",
			overload{args: types(String, Int64), ret: String, k: k},
			overload{args: types(String, Int64, String), ret: String, k: k})
	}
	pad("lpad", true)
	pad("rpad", false)

	registerOverloads("split", "split(str VARCHAR, delimiter VARCHAR) -> VARCHAR[] (the delimiter is literal text)",
		overload{args: types(String, String), ret: arrow.ListOf(String), k: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			x, d := a[0].(*array.String), a[1].(*array.String)
			return rowsTo(ctx, arrow.ListOf(String), a, n, func(b *array.ListBuilder, i int) error {
				b.Append(true)
				vb := b.ValueBuilder().(*array.StringBuilder)
				for _, part := range strings.Split(x.Value(i), d.Value(i)) {
					vb.Append(part)
				}
				return nil
			})
		}})

	register(&Function{Name: "concat", Usage: "concat(value, ...): NULL arguments are skipped", Bind: func(args []arrow.DataType) (*Bound, error) {
		return bindConcat(args, false)
	}})
	register(&Function{Name: "concat_ws", Usage: "concat_ws(separator VARCHAR, value, ...): NULL values are skipped", Bind: func(args []arrow.DataType) (*Bound, error) {
		if len(args) < 1 {
			return nil, ArgTypeError("concat_ws", "concat_ws(separator VARCHAR, value, ...)", args)
		}
		return bindConcat(args, true)
	}})

	registerLike("like", false)
	registerLike("ilike", true)
	registerOverloads("regexp_like", "regexp_like(str VARCHAR, pattern VARCHAR) (RE2 syntax)", overload{args: types(String, String), ret: Bool, k: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
		return regexKernel(ctx, a, n, Bool, func(re *regexp.Regexp, s string, _ int) (Datum, error) { return re.MatchString(s), nil })
	}})
	extract := func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
		return regexKernel(ctx, a, n, String, func(re *regexp.Regexp, s string, i int) (Datum, error) {
			// Without an explicit group, take group 1 as Spark does, or the whole match when the
			// pattern has no groups.
			g := int64(min(1, re.NumSubexp()))
			if len(a) > 2 {
				g = a[2].(*array.Int64).Value(i)
			}
			if g < 0 || g > int64(re.NumSubexp()) {
				return nil, Errorf(CodeInvalidParameter, "regexp_extract: group %d does not exist in pattern %q (it has %d)", g, re.String(), re.NumSubexp())
			}
			m := re.FindStringSubmatch(s)
			if m == nil {
				return "", nil
			}
			return m[g], nil
		})
	}
	registerOverloads("regexp_extract", "regexp_extract(str VARCHAR, pattern VARCHAR[, group BIGINT]): '' when there is no match; group defaults to 1",
		overload{args: types(String, String), ret: String, k: extract},
		overload{args: types(String, String, Int64), ret: String, k: extract})
}

// substring implements PostgreSQL's substring(s FROM start FOR count): characters start ..
// start+count-1 (1-based), clipped to the string; count < 0 means "to the end".
func substring(s string, start, count int64) (string, error) {
	r := []rune(s)
	n := int64(len(r))
	end := n + 1 // exclusive, 1-based
	if count >= 0 && start <= n+1-count {
		end = start + count
	}
	from := max(start, 1)
	if from >= end || from > n {
		return "", nil
	}
	return string(r[from-1 : end-1]), nil
}

func runePos(s, sub string) int64 {
	i := strings.Index(s, sub)
	if i < 0 {
		return 0
	}
	return int64(utf8.RuneCountInString(s[:i])) + 1
}

// padString pads s to l characters with fill (repeated), truncating s when it is longer.
func padString(s string, l int64, fill string, left bool) (string, bool, error) {
	if l > 10_000_000 {
		return "", false, fmt.Errorf("requested length %d too large", l)
	}
	r := []rune(s)
	if l <= 0 {
		return "", false, nil
	}
	if int64(len(r)) >= l {
		return string(r[:l]), false, nil
	}
	f := []rune(fill)
	if len(f) == 0 {
		return s, false, nil
	}
	padding := make([]rune, 0, l-int64(len(r)))
	for k := 0; int64(len(padding)) < l-int64(len(r)); k++ {
		padding = append(padding, f[k%len(f)])
	}
	if left {
		return string(padding) + s, false, nil
	}
	return s + string(padding), false, nil
}

// bindConcat casts every argument to VARCHAR (the planner formats non-strings with FormatDatum)
// and joins the non-NULL ones; with ws the first argument is the separator (NULL separator gives
// NULL).
func bindConcat(args []arrow.DataType, ws bool) (*Bound, error) {
	want := make([]arrow.DataType, len(args))
	for i := range want {
		want[i] = String
	}
	return &Bound{Args: want, Ret: String, Kernel: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
		strs := make([]*array.String, len(a))
		for i := range a {
			strs[i] = a[i].(*array.String)
		}
		b := array.NewStringBuilder(ctx.Mem)
		defer b.Release()
		b.Reserve(n)
		var sb strings.Builder
		for i := 0; i < n; i++ {
			sb.Reset()
			vals := strs
			sep := ""
			if ws {
				if strs[0].IsNull(i) {
					b.AppendNull()
					continue
				}
				sep = strs[0].Value(i)
				vals = strs[1:]
			}
			first := true
			for _, s := range vals {
				if s.IsNull(i) {
					continue
				}
				if !first {
					sb.WriteString(sep)
				}
				first = false
				sb.WriteString(s.Value(i))
			}
			b.Append(sb.String())
		}
		return b.NewArray(), nil
	}}, nil
}

// patternCache compiles patterns once per bound call. Patterns are usually literals, which reach
// the kernel as constant columns, so the cache holds few entries; it is bounded and reset when
// full. Safe for concurrent use.
type patternCache[T any] struct {
	mu      sync.Mutex
	entries map[string]T
	compile func(string) (T, error)
}

func newPatternCache[T any](compile func(string) (T, error)) *patternCache[T] {
	return &patternCache[T]{entries: map[string]T{}, compile: compile}
}

func (c *patternCache[T]) get(p string) (T, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.entries[p]; ok {
		return v, nil
	}
	v, err := c.compile(p)
	if err != nil {
		return v, err
	}
	if len(c.entries) >= 256 {
		c.entries = map[string]T{}
	}
	c.entries[p] = v
	return v, nil
}

// likeMatcher is a compiled LIKE pattern: literal prefix/suffix/contains/equality fast paths, a
// regular expression otherwise.
type likeMatcher struct {
	kind int // 0 equal, 1 prefix, 2 suffix, 3 contains, 4 regexp
	lit  string
	re   *regexp.Regexp
}

func (m *likeMatcher) match(s string) bool {
	switch m.kind {
	case 0:
		return s == m.lit
	case 1:
		return strings.HasPrefix(s, m.lit)
	case 2:
		return strings.HasSuffix(s, m.lit)
	case 3:
		return strings.Contains(s, m.lit)
	}
	return m.re.MatchString(s)
}

// compileLike translates a LIKE pattern (% any sequence, _ one character, backslash escapes the
// next character) into a matcher; fold makes it case-insensitive (ILIKE).
func compileLike(p string, fold bool) (*likeMatcher, error) {
	if !fold && !strings.ContainsAny(p, "\\_") {
		core := strings.TrimLeft(p, "%")
		lead := len(core) < len(p)
		trimmed := strings.TrimRight(core, "%")
		trail := len(trimmed) < len(core)
		if !strings.Contains(trimmed, "%") {
			switch {
			case lead && trail:
				return &likeMatcher{kind: 3, lit: trimmed}, nil
			case lead:
				return &likeMatcher{kind: 2, lit: trimmed}, nil
			case trail:
				return &likeMatcher{kind: 1, lit: trimmed}, nil
			default:
				return &likeMatcher{kind: 0, lit: trimmed}, nil
			}
		}
	}
	var re strings.Builder
	re.WriteString("(?s)")
	if fold {
		re.WriteString("(?i)")
	}
	re.WriteString("^")
	rs := []rune(p)
	for i := 0; i < len(rs); i++ {
		switch c := rs[i]; c {
		case '\\':
			if i+1 >= len(rs) {
				return nil, fmt.Errorf("LIKE pattern must not end with escape character: %q", p)
			}
			i++
			re.WriteString(regexp.QuoteMeta(string(rs[i])))
		case '%':
			re.WriteString(".*")
		case '_':
			re.WriteString(".")
		default:
			re.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	re.WriteString("$")
	r, err := regexp.Compile(re.String())
	if err != nil {
		return nil, Errorf(CodeInvalidRegex, "invalid LIKE pattern %q: %v", p, err)
	}
	return &likeMatcher{kind: 4, re: r}, nil
}

func registerLike(name string, fold bool) {
	usage := fmt.Sprintf("str %s pattern (VARCHAR; %% any sequence, _ one character, \\ escape)", strings.ToUpper(name))
	register(&Function{Name: name, Usage: usage, Bind: func(args []arrow.DataType) (*Bound, error) {
		if len(args) != 2 || !implicitlyConverts(args[0], String) || !implicitlyConverts(args[1], String) {
			return nil, ArgTypeError(name, usage, args)
		}
		cache := newPatternCache(func(p string) (*likeMatcher, error) { return compileLike(p, fold) })
		return &Bound{Args: types(String, String), Ret: Bool, Infix: true, Kernel: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			x, p := a[0].(*array.String), a[1].(*array.String)
			var m *likeMatcher
			if c, ok := constString(p); ok {
				var err error
				if m, err = cache.get(c); err != nil {
					return nil, err
				}
			}
			return boolsTo(ctx, a, n, func(i int) (bool, bool, error) {
				mm := m
				if mm == nil {
					var err error
					if mm, err = cache.get(p.Value(i)); err != nil {
						return false, false, err
					}
				}
				return mm.match(x.Value(i)), false, nil
			})
		}}, nil
	}})
}

// regexKernel evaluates f for every row with the row's compiled pattern (a[1]); the pattern
// cache lives for the duration of the call.
func regexKernel(ctx *Ctx, a []arrow.Array, n int, ret arrow.DataType, f func(re *regexp.Regexp, s string, i int) (Datum, error)) (arrow.Array, error) {
	x, p := a[0].(*array.String), a[1].(*array.String)
	var last *regexp.Regexp
	lastPat := ""
	return rowsTo(ctx, ret, a, n, func(b array.Builder, i int) error {
		if last == nil || p.Value(i) != lastPat {
			re, err := regexp.Compile(p.Value(i))
			if err != nil {
				return Errorf(CodeInvalidRegex, "invalid regular expression %q: %v", p.Value(i), err)
			}
			last, lastPat = re, p.Value(i)
		}
		v, err := f(last, x.Value(i), i)
		if err != nil {
			return err
		}
		return AppendDatum(b, v)
	})
}
