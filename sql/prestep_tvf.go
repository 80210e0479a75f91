package sql

import "strings"

// windowTVFNames are the window table functions of Flink SQL and RisingWave.
var windowTVFNames = map[string]bool{"tumble": true, "hop": true, "session": true, "cumulate": true}

func isWindowTVFName(t Token) bool {
	return t.Kind == TokIdent && windowTVFNames[strings.ToLower(t.Text)]
}

// windowTVFRewrite recognises, at token i, the parts of Flink's window TVF syntax that
// PostgreSQL's grammar lacks, and returns the last token of the part to delete:
//
//	TABLE ( TUMBLE (           -> TUMBLE (   (and the ')' closing "TABLE (")
//	TUMBLE ( TABLE s           -> TUMBLE ( s
//	DESCRIPTOR ( ts )          -> ts
//
// What remains, TUMBLE(s, ts, INTERVAL '10 minutes'), is RisingWave's form, which PostgreSQL
// parses as a function in FROM; the binder (bind_tvf.go) turns it into a window assignment.
func windowTVFRewrite(toks []Token, match []int, i int) (int, bool) {
	t := toks[i]
	at := func(k int) Token { return toks[min(k, len(toks)-1)] }
	switch {
	case t.Is("table") && at(i+1).IsOp("(") && isWindowTVFName(at(i+2)) && at(i+3).IsOp("(") && match[i+1] > 0:
		return i + 1, true
	case t.Is("table") && i >= 2 && toks[i-1].IsOp("(") && isWindowTVFName(toks[i-2]) && (at(i+1).Kind == TokIdent || at(i+1).Kind == TokQIdent):
		return i, true
	case t.Is("descriptor") && at(i+1).IsOp("(") && match[i+1] > 0:
		return i + 1, true
	}
	return 0, false
}
