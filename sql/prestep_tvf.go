package sql

import "strings"

// windowTVFNames are the window table functions of Flink SQL and RisingWave.
var windowTVFNames = map[string]bool{"tumble": true, "hop": true, "session": true, "cumulate": true}

func isWindowTVFName(t Token) bool {
	return t.Kind == TokIdent && windowTVFNames[strings.ToLower(t.Text)]
}

// partitionByFunc carries SESSION's PARTITION BY keys through PostgreSQL's grammar as a call
// (a name users cannot call: names starting with "__" are internal).
const partitionByFunc = "__partition_by"

// tvfRewrite replaces tokens i..last with text and, when close >= 0, token close with closeText;
// opened is how many parentheses the deleted tokens opened (their closing ones are deleted too).
type tvfRewrite struct {
	last      int
	text      string
	close     int
	closeText string
	opened    int
}

// windowTVFRewrite recognises, at token i, the parts of Flink's window TVF syntax that
// PostgreSQL's grammar lacks:
//
//	TABLE ( TUMBLE (              -> TUMBLE (   (and the ')' closing "TABLE (")
//	TUMBLE ( TABLE s              -> TUMBLE ( s
//	DESCRIPTOR ( ts )             -> ts
//	SESSION ( s PARTITION BY k,   -> SESSION ( s, __partition_by(k),   (also BY (k1, k2))
//
// What remains, TUMBLE(s, ts, INTERVAL '10 minutes'), is RisingWave's form, which PostgreSQL
// parses as a function in FROM; the binder (bind_tvf.go) turns it into a window assignment.
func windowTVFRewrite(toks []Token, match []int, i int) (tvfRewrite, bool) {
	t := toks[i]
	at := func(k int) Token { return toks[max(0, min(k, len(toks)-1))] }
	ident := func(k int) bool { return at(k).Kind == TokIdent || at(k).Kind == TokQIdent }
	switch {
	case t.Is("table") && at(i+1).IsOp("(") && isWindowTVFName(at(i+2)) && at(i+3).IsOp("(") && match[i+1] > 0:
		return tvfRewrite{last: i + 1, close: match[i+1], opened: 1}, true
	case t.Is("table") && i >= 2 && toks[i-1].IsOp("(") && isWindowTVFName(toks[i-2]) && ident(i+1):
		return tvfRewrite{last: i, close: -1}, true
	case t.Is("descriptor") && at(i+1).IsOp("(") && match[i+1] > 0:
		return tvfRewrite{last: i + 1, close: match[i+1], opened: 1}, true
	case t.Is("partition") && at(i+1).Is("by") && i >= 3 && ident(i-1) &&
		((at(i-2).IsOp("(") && isWindowTVFName(at(i-3))) || (at(i-2).Is("table") && at(i-3).IsOp("(") && isWindowTVFName(at(i-4)))):
		if at(i+2).IsOp("(") && match[i+2] > 0 {
			return tvfRewrite{last: i + 2, text: ", " + partitionByFunc + "(", close: -1, opened: 1}, true
		}
		// The keys run to the next comma (or the call's end) at this level.
		depth := 0
		for k := i + 2; k < len(toks); k++ {
			switch tk := toks[k]; {
			case tk.IsOp("(") || tk.IsOp("["):
				depth++
			case (tk.IsOp(")") || tk.IsOp("]")) && depth > 0:
				depth--
			case depth == 0 && tk.IsOp(","):
				return tvfRewrite{last: i + 1, text: ", " + partitionByFunc + "(", close: k, closeText: "),"}, true
			case depth == 0 && tk.IsOp(")"):
				return tvfRewrite{last: i + 1, text: ", " + partitionByFunc + "(", close: k, closeText: "))"}, true
			}
		}
	}
	return tvfRewrite{}, false
}
