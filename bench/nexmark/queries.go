package nexmark

import (
	"embed"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed q*.sql
var files embed.FS

// Query is one benchmark query as its file states it.
type Query struct {
	Name        string   // "q5"
	About       string   // what it computes (the header's first line)
	Mode        string   // append, update or complete
	Unsupported string   // the missing feature, "" when the engine runs it
	Needs       []string // features other branches add that it waits for
	Setup       []string // statements run before it (tables it joins with), in both runs
	SQL         string   // the statement, comments removed from the header only
}

// Queries returns every query file, in query-number order (q0, q1, …, q22). A file with a
// malformed header is an error naming the file: the suite never drops a query silently.
func Queries() ([]Query, error) {
	entries, err := files.ReadDir(".")
	if err != nil {
		return nil, err
	}
	var qs []Query
	for _, e := range entries {
		b, err := files.ReadFile(e.Name())
		if err != nil {
			return nil, err
		}
		q, err := parse(strings.TrimSuffix(e.Name(), path.Ext(e.Name())), string(b))
		if err != nil {
			return nil, fmt.Errorf("bench/nexmark/%s: %w", e.Name(), err)
		}
		qs = append(qs, q)
	}
	sort.Slice(qs, func(i, j int) bool { return number(qs[i].Name) < number(qs[j].Name) })
	return qs, nil
}

func number(name string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(name, "q"))
	return n
}

// parse reads the header lines (each `-- key: value`, the first `-- qN: about`; a line
// starting `--` and three or more spaces continues the previous value) and the statement after
// them.
func parse(name, text string) (Query, error) {
	q := Query{Name: name}
	lines := strings.Split(text, "\n")
	i := 0
	var last *string // the value an indented continuation line extends
	for ; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(line, "--") {
			break
		}
		body := strings.TrimPrefix(line, "--")
		if strings.HasPrefix(body, "   ") && last != nil {
			// A continuation line (indented) of the previous value.
			*last += " " + strings.TrimSpace(body)
			continue
		}
		key, val, ok := strings.Cut(strings.TrimSpace(body), ":")
		val = strings.TrimSpace(val)
		switch {
		case i == 0:
			if !ok || key != name || val == "" {
				return q, fmt.Errorf("the first line must be %q", "-- "+name+": <what it computes>")
			}
			q.About, last = val, &q.About
		case !ok:
			return q, fmt.Errorf("header line %d: want `-- key: value` (or an indented continuation)", i+1)
		case key == "mode":
			q.Mode, last = val, nil
		case key == "unsupported":
			q.Unsupported, last = val, &q.Unsupported
		case key == "setup":
			q.Setup = append(q.Setup, val)
			last = &q.Setup[len(q.Setup)-1]
		case key == "needs":
			q.Needs = append(q.Needs, val)
			last = &q.Needs[len(q.Needs)-1]
		default:
			return q, fmt.Errorf("unknown header key %q", key)
		}
	}
	switch q.Mode {
	case "append", "update", "complete":
	default:
		return q, fmt.Errorf("header needs `-- mode: append|update|complete`, got %q", q.Mode)
	}
	q.SQL = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(strings.Join(lines[i:], "\n")), ";"))
	if q.SQL == "" {
		return q, fmt.Errorf("no statement after the header")
	}
	return q, nil
}
