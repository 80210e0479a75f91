package incremental

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Reading a query's state (SELECT * FROM state('query', 'operator')): the state an operator
// had at the query's last committed epoch, read from the checkpoint (a full snapshot, or a base
// merged with changelogs), so it never races the running epoch. Files of committed epochs only
// change by compaction (a new, equal base) and retention, which deletes what no retained epoch
// needs; a read that lost that race is retried once.

// StateOperators names the query's stateful operators, in checkpoint order (state/<index>), as
// DESCRIBE QUERY's operatorName shows them.
func (q *Query) StateOperators() []string {
	out := make([]string, len(q.physical.stateful))
	for i, s := range q.physical.stateful {
		out[i] = s.Name
	}
	return out
}

// ReadOperatorState returns the state of operator (its index, or its name: exact, or a prefix
// naming one operator, case-insensitive) at the last committed epoch, and that epoch. The
// caller owns the records.
func (q *Query) ReadOperatorState(operator string, mem memory.Allocator) (*arrow.Schema, []arrow.RecordBatch, int64, error) {
	i, err := q.resolveOperator(operator)
	if err != nil {
		return nil, nil, 0, err
	}
	if q.ckpt == nil {
		return nil, nil, 0, fmt.Errorf("query %s keeps no checkpoint, so it has no committed state to read (give it WITH (checkpoint = '...') or start the engine with a data directory)", q.cfg.Name)
	}
	var lastErr error
	for attempt := 0; attempt < 2; attempt++ {
		epoch, err := q.ckpt.Last("commits")
		if err != nil {
			return nil, nil, 0, err
		}
		if epoch < 0 {
			return nil, nil, 0, fmt.Errorf("query %s has not committed an epoch yet, so it has no state to read", q.cfg.Name)
		}
		schema, recs, err := q.ckpt.ReadState(i, epoch, mem)
		if err == nil {
			return schema, recs, epoch, nil
		}
		lastErr = err
	}
	return nil, nil, 0, lastErr
}

func (q *Query) resolveOperator(operator string) (int, error) {
	names := q.StateOperators()
	list := func() string {
		if len(names) == 0 {
			return "it keeps no state"
		}
		parts := make([]string, len(names))
		for i, n := range names {
			parts[i] = fmt.Sprintf("%d: %q", i, n)
		}
		return "its stateful operators are " + strings.Join(parts, ", ")
	}
	op := strings.TrimSpace(operator)
	if n, err := strconv.Atoi(op); err == nil {
		if n < 0 || n >= len(names) {
			return 0, fmt.Errorf("query %s has no stateful operator %d; %s", q.cfg.Name, n, list())
		}
		return n, nil
	}
	match := -1
	for i, n := range names {
		if strings.EqualFold(n, op) {
			return i, nil
		}
		if len(op) > 0 && len(n) >= len(op) && strings.EqualFold(n[:len(op)], op) {
			if match >= 0 {
				return 0, fmt.Errorf("operator %q names more than one of query %s's stateful operators; give its index or whole name: %s", operator, q.cfg.Name, list())
			}
			match = i
		}
	}
	if match < 0 {
		return 0, fmt.Errorf("query %s has no stateful operator %q; %s", q.cfg.Name, operator, list())
	}
	return match, nil
}
