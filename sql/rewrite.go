package sql

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/xwb1989/sqlparser"
)

// The MySQL grammar of xwb1989/sqlparser lacks several forms users of PostgreSQL and Spark write.
// Before handing a SELECT or INSERT to it we rewrite, token by token:
//
//	CAST(x AS DOUBLE)      -> __cast(x, 'DOUBLE')      (every CAST, so all type names work)
//	x::BIGINT              -> __cast(x, 'BIGINT')
//	TIMESTAMP '2024-01-01' -> __timestamp('2024-01-01')  (the library misreads it as a column)
//	DATE '2024-01-01'      -> __date('2024-01-01')
//	INTERVAL '1 hour'      -> __interval('1 hour')      (also INTERVAL 10 MINUTE, INTERVAL '10' MINUTE)
//	EXTRACT(HOUR FROM ts)  -> extract('HOUR', ts)
//	"Quoted"               -> `Quoted`                  (SQL-standard identifiers, not MySQL strings)
//	a || b                 -> a | b                     (concatenation; the binder maps | to ||)
//	key, boolean, ...      -> `key`, ...               (columns named like MySQL reserved words)
//
// and refuse, with a message, what would otherwise be misparsed or reported as a bare syntax error:
// FULL OUTER JOIN, window functions (OVER), NULLS FIRST/LAST.
//
// The output keeps a map from each output token to its position in the original text so parser
// errors point at what the user typed.

type outTok struct {
	text string
	pos  int // position in the original text
}

type rewriter struct {
	src   string
	toks  []Token
	out   []outTok
	match []int // match[i]: index of the ')' closing the '(' at i, or -1; see pairParens
}

// reservedAsIdent are MySQL reserved words that have no meaning in our SELECT grammar but are
// common column names (Kafka's key, a boolean flag, ...).
var reservedAsIdent = map[string]bool{
	"key": true, "schema": true, "index": true, "database": true, "tables": true, "unique": true,
	"boolean": true, "status": false, "usage": true, "condition": true, "range": true, "read": true,
	"return": true, "row": true, "rows": true, "accessible": true, "change": true, "column": true,
	"fulltext": true, "keys": true, "kill": true, "leading": true, "option": true, "procedure": true,
	"release": true, "require": true, "spatial": true, "trigger": true, "undo": true, "write": true,
	"zerofill": true,
}

var intervalUnitWords = map[string]bool{
	"microsecond": true, "millisecond": true, "second": true, "minute": true, "hour": true, "day": true, "week": true,
	"microseconds": true, "milliseconds": true, "seconds": true, "minutes": true, "hours": true, "days": true, "weeks": true,
	"month": true, "months": true, "year": true, "years": true, "quarter": true, "quarters": true,
}

// rewriteForParser returns the rewritten text and a function mapping a byte offset in it back to
// the original text.
func rewriteForParser(src string) (string, func(int) int, error) {
	r := &rewriter{src: src, toks: Lex(src)}
	r.match = pairParens(r.toks)
	if err := r.run(0, len(r.toks)-1); err != nil {
		return "", nil, err
	}
	var sb strings.Builder
	starts := make([]int, len(r.out))
	for i, t := range r.out {
		if i > 0 {
			sb.WriteByte(' ')
		}
		starts[i] = sb.Len()
		sb.WriteString(t.text)
	}
	text := sb.String()
	mapPos := func(p int) int {
		best := len(src)
		for i, s := range starts {
			if s <= p {
				best = r.out[i].pos
			} else {
				break
			}
		}
		return best
	}
	return text, mapPos, nil
}

func (r *rewriter) emit(text string, pos int) { r.out = append(r.out, outTok{text, pos}) }

// matching returns the index of the ')' closing the '(' at i, or -1.
func (r *rewriter) matching(i int) int {
	if i < 0 || i >= len(r.match) {
		return -1
	}
	return r.match[i]
}

// pairParens pairs every '(' with its ')' in one pass. (fix: matching used to scan forward on
// every call, and run calls it for every '(', so deeply nested input took quadratic time.)
func pairParens(toks []Token) []int {
	match := make([]int, len(toks))
	var open []int
	for i, t := range toks {
		match[i] = -1
		switch {
		case t.IsOp("("):
			open = append(open, i)
		case t.IsOp(")") && len(open) > 0:
			match[open[len(open)-1]] = i
			open = open[:len(open)-1]
		}
	}
	return match
}

func quoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// run rewrites tokens [from, to) into r.out.
func (r *rewriter) run(from, to int) error {
	toks := r.toks
	for i := from; i < to; i++ {
		t := toks[i]
		next := toks[min(i+1, len(toks)-1)]
		switch {
		case t.Kind == TokError:
			return syntaxErrorf(r.src, t.Pos, "%s", t.Val)
		case (t.Kind == TokNumber || t.Kind == TokString || t.Kind == TokQIdent) && i+1 < to && next.IsOp("::"):
			end, err := r.castSuffix(i, i, to)
			if err != nil {
				return err
			}
			i = end
		case (t.Is("substring") || t.Is("substr")) && next.IsOp("("):
			// The library only parses SUBSTRING(column, ...); a function call takes any argument.
			r.emit("__substring", t.Pos)
		case t.Is("offset") && !(i >= 2 && toks[i-2].Is("limit")):
			// OFFSET without LIMIT, which the library's grammar lacks.
			r.emit("limit 9223372036854775807 offset", t.Pos)
		case t.Kind == TokString:
			r.emit(quoteString(t.Val), t.Pos)
		case t.Kind == TokQIdent:
			r.emit("`"+strings.ReplaceAll(t.Val, "`", "``")+"`", t.Pos)
		case t.IsOp("||"):
			r.emit("|", t.Pos)
		case t.IsOp("::"):
			return syntaxErrorf(r.src, t.Pos, "'::' must follow a column, literal or parenthesized expression")
		case t.Kind == TokIdent && r.operandEnd(i, to)+1 < to && toks[r.operandEnd(i, to)+1].IsOp("::"):
			end, err := r.castSuffix(i, i, to)
			if err != nil {
				return err
			}
			i = end
		case t.IsOp("(") && r.matching(i) >= 0 && r.matching(i)+1 < to && toks[r.matching(i)+1].IsOp("::"):
			end, err := r.castSuffix(i, i, to)
			if err != nil {
				return err
			}
			i = end
		case (t.Kind == TokNumber || t.Kind == TokString) && i+1 < to && next.IsOp("::"):
			end, err := r.castSuffix(i, i, to)
			if err != nil {
				return err
			}
			i = end
		case t.Is("cast") && next.IsOp("("):
			end, err := r.cast(i)
			if err != nil {
				return err
			}
			i = end
		case (t.Is("timestamp") || t.Is("date")) && next.Kind == TokString:
			r.emit("__"+strings.ToLower(t.Text)+"(", t.Pos)
			r.emit(quoteString(next.Val)+")", next.Pos)
			i++
		case t.Is("interval") && (next.Kind == TokString || next.Kind == TokNumber || next.IsOp("-")):
			j := i + 1
			text := ""
			if next.IsOp("-") && toks[j+1].Kind == TokNumber {
				text = "-"
				j++
			}
			if toks[j].Kind == TokString {
				text += toks[j].Val
			} else {
				text += toks[j].Text
			}
			if toks[j+1].Kind == TokIdent && intervalUnitWords[strings.ToLower(toks[j+1].Text)] {
				text += " " + toks[j+1].Text
				j++
			} else if toks[j].Kind == TokNumber {
				return syntaxErrorf(r.src, toks[j+1].Pos, "INTERVAL %s needs a unit, e.g. INTERVAL %s MINUTE", toks[j].Text, toks[j].Text)
			}
			r.emit("__interval("+quoteString(text)+")", t.Pos)
			i = j
		case t.Is("extract") && next.IsOp("(") && toks[i+2].Kind == TokIdent && toks[i+3].Is("from"):
			r.emit("extract", t.Pos)
			r.emit("(", next.Pos)
			r.emit(quoteString(strings.ToLower(toks[i+2].Text)), toks[i+2].Pos)
			r.emit(",", toks[i+3].Pos)
			i += 3
		case t.Is("full") && (next.Is("join") || (next.Is("outer") && toks[i+2].Is("join"))):
			return errorf(r.src, t.Pos, "FULL OUTER JOIN is not supported; combine a LEFT JOIN with the unmatched rows of a RIGHT JOIN using UNION ALL")
		case t.Is("over") && next.IsOp("("):
			return errorf(r.src, t.Pos, "window functions (OVER ...) are not supported; use GROUP BY, or window(ts, size) for time windows")
		case t.Is("nulls") && (next.Is("first") || next.Is("last")):
			return errorf(r.src, t.Pos, "NULLS FIRST/LAST is not supported: NULLs sort last in ascending and first in descending order")
		case t.Is("ilike"):
			return errorf(r.src, t.Pos, "ILIKE is not supported as an operator; use ilike(a, pattern) or lower(a) LIKE lower(pattern)")
		case t.Kind == TokIdent && reservedAsIdent[strings.ToLower(t.Text)] && !next.IsOp("("):
			r.emit("`"+strings.ToLower(t.Text)+"`", t.Pos)
		case t.Kind == TokIdent:
			// Unquoted identifiers are case-insensitive: fold them here, so the binder can match
			// names exactly and "Quoted" names keep their case.
			r.emit(strings.ToLower(t.Text), t.Pos)
		default:
			r.emit(t.Text, t.Pos)
		}
	}
	return nil
}

// cast rewrites CAST(expr AS type) starting at the CAST token i; it returns the index of the
// closing parenthesis.
func (r *rewriter) cast(i int) (int, error) {
	open := i + 1
	closeIdx := r.matching(open)
	if closeIdx < 0 {
		return 0, syntaxErrorf(r.src, r.toks[open].Pos, "unclosed parenthesis in CAST")
	}
	as := -1
	depth := 0
	for j := open + 1; j < closeIdx; j++ {
		switch {
		case r.toks[j].IsOp("("):
			depth++
		case r.toks[j].IsOp(")"):
			depth--
		case depth == 0 && r.toks[j].Is("as"):
			as = j
		}
	}
	if as < 0 {
		return 0, syntaxErrorf(r.src, r.toks[closeIdx].Pos, "CAST needs AS and a type: CAST(x AS BIGINT)")
	}
	typ := r.typeText(as+1, closeIdx)
	if typ == "" {
		return 0, syntaxErrorf(r.src, r.toks[as].Pos, "CAST needs a type after AS")
	}
	r.emit("__cast", r.toks[i].Pos)
	r.emit("(", r.toks[open].Pos)
	if err := r.run(open+1, as); err != nil {
		return 0, err
	}
	r.emit(",", r.toks[as].Pos)
	r.emit(quoteString(typ)+")", r.toks[as+1].Pos)
	return closeIdx, nil
}

// castSuffix rewrites OPERAND::type where the operand starts at token start (a word, possibly
// qualified a.b, a function call f(...), a literal or a parenthesized expression).
func (r *rewriter) castSuffix(start, i, to int) (int, error) {
	end := r.operandEnd(start, to)
	if end < 0 || !r.toks[end+1].IsOp("::") {
		return start, syntaxErrorf(r.src, r.toks[start].Pos, "cannot apply '::' here; use CAST(x AS type)")
	}
	colon := end + 1
	typEnd := colon + 1
	for typEnd < to && r.toks[typEnd].Kind == TokIdent {
		typEnd++
		if (strings.EqualFold(r.toks[typEnd-1].Text, "double") && r.toks[typEnd].Is("precision")) ||
			(strings.EqualFold(r.toks[typEnd-1].Text, "character") && r.toks[typEnd].Is("varying")) {
			typEnd++
		}
		break
	}
	if typEnd < to && r.toks[typEnd].IsOp("(") {
		if m := r.matching(typEnd); m > 0 {
			typEnd = m + 1
		}
	}
	typ := r.typeText(colon+1, typEnd)
	if typ == "" {
		return start, syntaxErrorf(r.src, r.toks[colon].Pos, "'::' needs a type name")
	}
	// fix: validate the type here, so a missing type (a::  FROM t) is not taken to be a type
	// named FROM and the rest of the statement silently reinterpreted.
	if _, err := parseTypeText(typ); err != nil {
		if operandKeywords[strings.ToLower(typ)] {
			return start, syntaxErrorf(r.src, r.toks[colon+1].Pos, "'::' needs a type name, found %s", typ)
		}
		return start, syntaxErrorf(r.src, r.toks[colon+1].Pos, "%v", err)
	}
	r.emit("__cast(", r.toks[start].Pos)
	if err := r.run(start, colon); err != nil {
		return start, err
	}
	r.emit(",", r.toks[colon].Pos)
	r.emit(quoteString(typ)+")", r.toks[colon+1].Pos)
	// A chained cast (x::a::b) applies to the result.
	if r.toks[typEnd].IsOp("::") {
		return start, syntaxErrorf(r.src, r.toks[typEnd].Pos, "chained '::' casts are not supported; use CAST")
	}
	return typEnd - 1, nil
}

func (r *rewriter) typeText(from, to int) string {
	var parts []string
	for j := from; j < to; j++ {
		parts = append(parts, r.toks[j].Text)
	}
	s := strings.Join(parts, " ")
	s = strings.ReplaceAll(strings.ReplaceAll(s, "( ", "("), " )", ")")
	return strings.ReplaceAll(s, " ,", ",")
}

var parserErrRe = regexp.MustCompile(`^syntax error at position (\d+)(?: near '(.*)')?`)

// parseRewritten parses rewritten text with the library, translating its errors.
func parseRewritten(src string) (sqlparser.Statement, error) {
	text, mapPos, err := rewriteForParser(src)
	if err != nil {
		return nil, err
	}
	stmt, perr := sqlparser.Parse(text)
	if perr == nil {
		return stmt, nil
	}
	msg := perr.Error()
	if m := parserErrRe.FindStringSubmatch(msg); m != nil {
		p, _ := strconv.Atoi(m[1])
		near := m[2]
		pos := mapPos(max(p-1-len(near), 0))
		if near == "" && p-1 < len(text) {
			// fix: the library names no token when the offending one is an operator (a = = 1);
			// that is not the end of the statement. Its position ends just before p-1.
			pos = mapPos(max(p-2, 0))
			if toks := Lex(src[pos:]); toks[0].Kind != TokEOF {
				return nil, syntaxErrorf(src, pos, "unexpected %q", toks[0].Text)
			}
		}
		if near == "" {
			return nil, syntaxErrorf(src, len(strings.TrimRight(src, " \t\r\n;")), "unexpected end of statement")
		}
		// fix: name the token as the user wrote it, not as rewritten (OFFSET without LIMIT is
		// rewritten to "limit ... offset", CAST to __cast, ...).
		if toks := Lex(src[pos:]); toks[0].Kind != TokEOF {
			near = toks[0].Text
		}
		return nil, syntaxErrorf(src, pos, "unexpected %q", strings.Trim(near, "`"))
	}
	return nil, &Error{Msg: msg, Pos: -1, Kind: "syntax error"}
}

// operandKeywords are words that may be followed by '(' without being a function name.
var operandKeywords = map[string]bool{
	"select": true, "where": true, "and": true, "or": true, "not": true, "in": true, "exists": true,
	"on": true, "when": true, "then": true, "else": true, "from": true, "by": true, "having": true,
	"as": true, "case": true, "distinct": true, "all": true, "any": true, "union": true, "values": true,
	"join": true, "between": true, "like": true, "is": true, "limit": true, "offset": true,
	"using": true, "with": true, "into": true, "end": true, "asc": true, "desc": true, "regexp": true,
}

// operandEnd returns the last token of the operand starting at start: a parenthesized expression,
// a possibly qualified name, a function call, or a single token.
func (r *rewriter) operandEnd(start, to int) int {
	end := start
	switch t := r.toks[start]; {
	case t.IsOp("("):
		end = r.matching(start)
	case t.Kind == TokIdent && operandKeywords[strings.ToLower(t.Text)]:
		// fix: a keyword before '(' (SELECT (1+2)::text, WHERE (a)::bool) is not a function
		// call; it is no operand at all.
		return -1
	case t.Kind == TokIdent || t.Kind == TokQIdent:
		for end+2 < to && r.toks[end+1].IsOp(".") && (r.toks[end+2].Kind == TokIdent || r.toks[end+2].Kind == TokQIdent) {
			end += 2
		}
		if end+1 < to && r.toks[end+1].IsOp("(") {
			end = r.matching(end + 1)
		}
	}
	if end < 0 {
		return start
	}
	return end
}
