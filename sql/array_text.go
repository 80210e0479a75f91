package sql

import (
	"fmt"
	"strings"
)

// Array literals in PostgreSQL's text form: x = ANY('{1,2,3}') and x <> ALL(CAST('{a,b}' AS
// VARCHAR[])), as clients write them and as pgx renders a list in the simple protocol. The
// binder turns such a literal into the ARRAY[...] it stands for, so ANY/ALL binds as with an
// explicit list: each element is a string literal (taking the type of the other operand, as a
// quoted literal does) or, under a cast to T[], a cast to T; unquoted NULL is NULL. A NULL array
// (NULL, CAST(NULL AS T[])) is ARRAY[NULL], which gives NULL as PostgreSQL does.

// textArray recognises a string literal, optionally cast to an array type, used as the array of
// ANY/ALL, and returns the ARRAY[...] it spells. ok is false for any other expression.
func textArray(e Expr) (arr *Array, ok bool, err error) {
	var elemType *TypeRef
	lit, isLit := e.(*Literal)
	if c, isCast := e.(*Cast); isCast && c.Type.Array {
		if l, isL := c.X.(*Literal); isL {
			lit, isLit = l, true
			t := c.Type
			t.Array = false
			elemType = &t
		}
	}
	if isLit && lit.Kind == LitNull {
		// A NULL array: x op ANY/ALL(NULL) is NULL whatever x is, as x op NULL is.
		var el Expr = &Literal{Kind: LitNull, Pos: lit.Pos}
		if elemType != nil {
			el = &Cast{X: el, Type: *elemType, Pos: lit.Pos}
		}
		return &Array{Elems: []Expr{el}, Pos: lit.Pos}, true, nil
	}
	if !isLit || lit.Kind != LitString {
		return nil, false, nil
	}
	items, err := splitArrayText(lit.Val)
	if err != nil {
		return nil, true, &Error{Msg: fmt.Sprintf("malformed array literal: %q: %v", lit.Val, err), Pos: lit.Pos, Kind: "error", Code: CodeInvalidText}
	}
	arr = &Array{Pos: lit.Pos}
	for _, it := range items {
		var el Expr = &Literal{Kind: LitString, Val: it.text, Pos: lit.Pos}
		if it.null {
			el = &Literal{Kind: LitNull, Pos: lit.Pos}
		}
		if elemType != nil {
			el = &Cast{X: el, Type: *elemType, Pos: lit.Pos}
		}
		arr.Elems = append(arr.Elems, el)
	}
	return arr, true, nil
}

type arrayItem struct {
	text string
	null bool
}

// splitArrayText parses a one-dimensional array literal: {}, {a,b}, {"a b","c\"d",NULL}. Items
// are separated by commas; white space around an unquoted item is dropped; a backslash escapes
// the next character, quoted or not.
func splitArrayText(s string) ([]arrayItem, error) {
	s = strings.TrimSpace(s)
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return nil, fmt.Errorf(`array value must start with "{" and end with "}"`)
	}
	body := s[1 : len(s)-1]
	if strings.TrimSpace(body) == "" {
		return nil, nil
	}
	var out []arrayItem
	i := 0
	for {
		for i < len(body) && body[i] == ' ' {
			i++
		}
		var sb strings.Builder
		quoted := false
		if i < len(body) && body[i] == '"' {
			quoted = true
			i++
			closed := false
			for i < len(body) {
				c := body[i]
				if c == '\\' && i+1 < len(body) {
					sb.WriteByte(body[i+1])
					i += 2
					continue
				}
				if c == '"' {
					closed = true
					i++
					break
				}
				sb.WriteByte(c)
				i++
			}
			if !closed {
				return nil, fmt.Errorf("unterminated quoted element")
			}
			for i < len(body) && body[i] == ' ' {
				i++
			}
		} else {
			for i < len(body) && body[i] != ',' {
				c := body[i]
				switch {
				case c == '{' || c == '}':
					return nil, fmt.Errorf("multidimensional arrays are not supported")
				case c == '"':
					return nil, fmt.Errorf("unexpected quote inside an element")
				case c == '\\' && i+1 < len(body):
					sb.WriteByte(body[i+1])
					i += 2
					continue
				}
				sb.WriteByte(c)
				i++
			}
		}
		text := sb.String()
		if !quoted {
			text = strings.TrimRight(text, " ")
			if text == "" {
				return nil, fmt.Errorf("empty element")
			}
		}
		out = append(out, arrayItem{text: text, null: !quoted && strings.EqualFold(text, "NULL")})
		if i == len(body) {
			return out, nil
		}
		if body[i] != ',' {
			return nil, fmt.Errorf("junk after a quoted element")
		}
		i++
	}
}
