package sql

import (
	"sort"
	"strconv"
	"strings"

	"github.com/streamsql/streamsql/exec"
)

// The token pre-step: the few places where the SQL we accept differs from PostgreSQL's grammar
// are rewritten token by token before PostgreSQL's parser sees the text:
//
//	window(ts, '1 hour')       -> "window"(ts, '1 hour')   (WINDOW is reserved in PostgreSQL)
//	WINDOW(time, "1 hour")     -> "window"(time, '1 hour') (the lecture's double-quoted duration)
//	`Quoted`                   -> "Quoted"                 (Spark/MySQL backquotes)
//	INTERVAL 10 MINUTE         -> INTERVAL '10 MINUTE'     (also INTERVAL '10' MINUTE, INTERVAL -2 HOURS)
//	TABLE(TUMBLE(TABLE s, DESCRIPTOR(ts), ...)) -> TUMBLE(s, ts, ...) (window TVFs; also HOP,
//	                           SESSION, CUMULATE; see windowTVFRewrite)
//
// Everything else is copied byte for byte. The result keeps a map from each byte of the
// rewritten text back to the text the user typed, so every position PostgreSQL's parser reports
// (and every node location) points at what the user wrote.
//
// The pre-step also bounds the statement before the C parser sees it: nesting depth and the
// length of operator chains, whose parse trees are as deep as they are long.

// Limits on a statement's shape; beyond them the statement is refused with SQLSTATE 54001
// instead of exhausting a stack.
const (
	maxNesting     = 500  // parentheses and brackets open at once
	maxOperatorRun = 5000 // operators in one list item (a + b + ... has a tree this deep)
)

// segment maps out[outStart:outStart+outLen] to src[origStart:origStart+origLen].
type segment struct {
	outStart, outLen   int
	origStart, origLen int
}

type rewritten struct {
	text string
	segs []segment
}

// orig maps a byte offset of the rewritten text to one of the original text: inside a copied
// span byte for byte, inside a replaced token to that token's first byte, past the end to the
// end of the original.
func (r *rewritten) orig(p int) int {
	if len(r.segs) == 0 {
		return p
	}
	i := max(sort.Search(len(r.segs), func(i int) bool { return r.segs[i].outStart > p })-1, 0)
	s := r.segs[i]
	off := p - s.outStart
	switch {
	case off >= s.outLen:
		return s.origStart + s.origLen + (off - s.outLen)
	case s.outLen == s.origLen:
		return s.origStart + off
	}
	return s.origStart
}

var intervalUnitWords = map[string]bool{
	"microsecond": true, "millisecond": true, "second": true, "minute": true, "hour": true, "day": true, "week": true,
	"microseconds": true, "milliseconds": true, "seconds": true, "minutes": true, "hours": true, "days": true, "weeks": true,
	"month": true, "months": true, "year": true, "years": true, "quarter": true, "quarters": true,
}

// preStep rewrites src[from:to]; positions in errors and in the map are offsets into src.
func preStep(src string, from, to int) (*rewritten, error) {
	part := src[from:to]
	toks := Lex(part)
	var sb strings.Builder
	r := &rewritten{}
	last := 0 // end of what has been copied or replaced, in part
	verbatim := func(upto int) {
		if upto > last {
			r.segs = append(r.segs, segment{outStart: sb.Len(), outLen: upto - last, origStart: from + last, origLen: upto - last})
			sb.WriteString(part[last:upto])
			last = upto
		}
	}
	replace := func(start, end int, text string) {
		verbatim(start)
		r.segs = append(r.segs, segment{outStart: sb.Len(), outLen: len(text), origStart: from + start, origLen: end - start})
		sb.WriteString(text)
		last = end
	}
	match := pairParens(toks)
	depth, run := 0, 0
	// durationArgs marks double-quoted tokens that are the duration arguments of window calls.
	durationArgs := map[int]bool{}
	drop := map[int]string{} // later tokens a window TVF rewrite replaces (windowTVFRewrite)
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		next := toks[min(i+1, len(toks)-1)]
		if text, ok := drop[i]; ok {
			replace(t.Pos, t.End, text)
			if t.IsOp(")") {
				depth--
			}
			continue
		}
		if rw, ok := windowTVFRewrite(toks, match, i); ok {
			replace(t.Pos, toks[rw.last].End, rw.text)
			if rw.close >= 0 {
				drop[rw.close] = rw.closeText
			}
			depth += rw.opened
			i = rw.last
			continue
		}
		switch {
		case t.Kind == TokError:
			return nil, syntaxErrorf(src, from+t.Pos, "%s", t.Val)
		case t.IsOp("(") || t.IsOp("["):
			depth++
			if depth > maxNesting {
				return nil, &Error{Msg: "statement is nested too deeply (more than " + strconv.Itoa(maxNesting) + " levels of parentheses)", Source: src, Pos: from + t.Pos, Code: CodeTooComplex}
			}
		case t.IsOp(")") || t.IsOp("]"):
			depth--
		case t.IsOp(",") || t.IsOp(";"):
			run = 0
		case t.Kind == TokOp && !t.IsOp("."):
			run++
			if run > maxOperatorRun {
				return nil, &Error{Msg: "expression is too large (more than " + strconv.Itoa(maxOperatorRun) + " operators in one expression)", Source: src, Pos: from + t.Pos, Code: CodeTooComplex}
			}
		}
		switch {
		case t.Kind == TokQIdent && strings.HasPrefix(t.Text, "`"):
			replace(t.Pos, t.End, `"`+strings.ReplaceAll(t.Val, `"`, `""`)+`"`)
		case t.Kind == TokQIdent && durationArgs[i]:
			replace(t.Pos, t.End, "'"+strings.ReplaceAll(t.Val, "'", "''")+"'")
		case (t.Is("window") || t.Is("session_window")) && next.IsOp("("):
			if t.Is("window") {
				replace(t.Pos, t.End, `"window"`)
			}
			// Arguments after the first that are double-quoted durations ("1 hour") are strings.
			if end := match[i+1]; end > 0 {
				d := 0
				arg := 0
				for j := i + 2; j < end; j++ {
					switch tj := toks[j]; {
					case tj.IsOp("(") || tj.IsOp("["):
						d++
					case tj.IsOp(")") || tj.IsOp("]"):
						d--
					case d == 0 && tj.IsOp(","):
						arg++
					case d == 0 && arg > 0 && tj.Kind == TokQIdent && strings.HasPrefix(tj.Text, `"`):
						if _, err := exec.ParseInterval(tj.Val); err == nil {
							durationArgs[j] = true
						}
					}
				}
			}
		case t.Is("window") && next.IsOp("."):
			replace(t.Pos, t.End, `"window"`)
		case t.Is("interval") && (next.Kind == TokNumber || next.Kind == TokString || (next.IsOp("-") && toks[i+2].Kind == TokNumber)):
			j := i + 1
			text := ""
			if next.IsOp("-") {
				text = "-"
				j++
			}
			if toks[j].Kind == TokString {
				text += toks[j].Val
			} else {
				text += toks[j].Text
			}
			unit := toks[j+1]
			if unit.Kind == TokIdent && intervalUnitWords[strings.ToLower(unit.Text)] && !toks[j+2].Is("to") {
				replace(t.Pos, unit.End, "INTERVAL '"+strings.ReplaceAll(text+" "+strings.ToLower(unit.Text), "'", "''")+"'")
				i = j + 1
			} else if toks[j].Kind == TokNumber {
				return nil, syntaxErrorf(src, from+unit.Pos, "INTERVAL %s needs a unit, e.g. INTERVAL %s MINUTE", toks[j].Text, toks[j].Text)
			}
		}
	}
	verbatim(len(part))
	r.text = sb.String()
	return r, nil
}

// pairParens pairs every '(' with its ')' in one pass: match[i] is the index of the ')' closing
// the '(' at i, or -1.
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
