package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/jeroenrinzema/psql-wire/codes"
	pgerror "github.com/jeroenrinzema/psql-wire/errors"
	"github.com/jeroenrinzema/psql-wire/pkg/types"

	"github.com/streamsql/streamsql/sql"
)

// Transaction blocks. The engine has no transactions: every statement takes effect when it runs.
// The server still keeps PostgreSQL's transaction-block state per connection and reports it in
// ReadyForQuery, because clients depend on it: the JDBC driver with autocommit off opens a block
// with BEGIN and reads a fetch-size cursor through a named portal across several Execute
// messages, and psql-wire (like PostgreSQL) drops every portal whenever the status is idle.
//
// The contract:
//   - BEGIN / START TRANSACTION [modes] → status 'T'; COMMIT / END → 'I'. Modes are accepted;
//     READ ONLY is enforced (25006 for a statement that changes anything).
//   - An error inside a block → 'E': every statement but COMMIT/ROLLBACK/ROLLBACK TO fails with
//     25P02 until the block ends; COMMIT of a failed block reports ROLLBACK, as PostgreSQL does.
//   - ROLLBACK of a block in which nothing took effect (only queries) is accepted. After a
//     statement that changed something (INSERT, CREATE, DROP, ...) nothing can be undone:
//     ROLLBACK ends the block and fails with 0A000, saying how many statements took effect.
//   - SAVEPOINT / RELEASE are accepted inside a block; ROLLBACK TO a savepoint is accepted when
//     nothing took effect since it was set (and clears the failed state, as in PostgreSQL).
//   - Outside a block SAVEPOINT, RELEASE and ROLLBACK TO fail with 25P01; COMMIT and ROLLBACK
//     warn "there is no transaction in progress"; BEGIN inside a block warns.
//   - COMMIT AND CHAIN / ROLLBACK AND CHAIN start a new block at once.

// txStatus is the connection's block state, reported in ReadyForQuery.
type txStatus byte

const (
	txIdle   = txStatus(types.ServerIdle)
	txInTx   = txStatus(types.ServerTransactionBlock)
	txFailed = txStatus(types.ServerTransactionFailed)
)

// txState is one connection's transaction block. Guarded by mu: psql-wire calls TxStatus and
// SyncConn from the session goroutine, but Close may read it from elsewhere.
type txState struct {
	mu         sync.Mutex
	status     txStatus
	readOnly   bool
	writes     int         // statements that took effect since BEGIN
	savepoints []savepoint // innermost last
}

type savepoint struct {
	name   string
	writes int // txState.writes when it was set
}

func (t *txState) current() txStatus {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.status == 0 {
		return txIdle
	}
	return t.status
}

// failed marks an error: inside a block the block fails; outside one nothing changes (the
// implicit transaction of the statement ends with it).
func (t *txState) failed() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.status == txInTx {
		t.status = txFailed
	}
}

// wrote records that a statement took effect.
func (t *txState) wrote() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.status == txInTx {
		t.writes++
	}
}

// readOnlyBlock reports an open READ ONLY block.
func (t *txState) readOnlyBlock() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.status == txInTx && t.readOnly
}

// errInFailedTx is PostgreSQL's 25P02.
var errInFailedTx = pgerror.WithCode(errors.New("current transaction is aborted, commands ignored until end of transaction block"), codes.InFailedSQLTransaction)

// admit refuses a statement other than transaction control in a failed block (25P02), and a
// statement that changes something in a READ ONLY block (25006).
func (t *txState) admit(text string) error {
	t.mu.Lock()
	status, ro := t.status, t.readOnly
	t.mu.Unlock()
	if status == txFailed {
		return errInFailedTx
	}
	if status == txInTx && ro && !readOnlyStatement(text) {
		return pgerror.WithCode(errors.New("cannot execute this statement in a read-only transaction"), codes.ReadOnlySQLTransaction)
	}
	return nil
}

// readOnlyStatement reports whether text only reads: a query, SHOW, DESCRIBE, EXPLAIN or
// SUBSCRIBE. Text that does not parse counts as read-only: it fails on its own.
func readOnlyStatement(text string) bool {
	st, err := sql.Parse(text)
	if err != nil {
		return true
	}
	switch st.(type) {
	case *sql.Query, *sql.Show, *sql.Describe, *sql.DescribeQuery, *sql.Explain, *sql.Subscribe:
		return true
	}
	return false
}

// txCommand is a parsed transaction-control statement.
type txCommand struct {
	verb      string // BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE, ROLLBACK TO
	savepoint string
	chain     bool
	readOnly  bool
	start     bool // START TRANSACTION, whose tag differs from BEGIN's
}

// parseTxCommand recognises transaction control; ok is false for any other statement, and err
// is set for transaction control PostgreSQL would not accept either.
func parseTxCommand(text string) (cmd txCommand, ok bool, err error) {
	switch leadingWord(text) {
	case "BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE":
	default:
		return cmd, false, nil // every other statement: without lexing all of it
	}
	toks := sql.Lex(text)
	for len(toks) > 0 && (toks[len(toks)-1].Kind == sql.TokEOF || toks[len(toks)-1].IsOp(";")) {
		toks = toks[:len(toks)-1]
	}
	if len(toks) == 0 || toks[0].Kind != sql.TokIdent {
		return cmd, false, nil
	}
	word := func(i int) string {
		if i < len(toks) && toks[i].Kind == sql.TokIdent {
			return strings.ToUpper(toks[i].Text)
		}
		return ""
	}
	name := func(i int) (string, bool) {
		if i != len(toks)-1 {
			return "", false
		}
		switch toks[i].Kind {
		case sql.TokIdent:
			return strings.ToLower(toks[i].Text), true
		case sql.TokQIdent:
			return toks[i].Val, true
		}
		return "", false
	}
	bad := func() (txCommand, bool, error) {
		return cmd, true, pgerror.WithCode(fmt.Errorf("syntax error in transaction statement %q", strings.TrimSpace(text)), codes.Syntax)
	}
	i := 1
	skipWork := func() {
		if w := word(i); w == "WORK" || w == "TRANSACTION" {
			i++
		}
	}
	switch word(0) {
	case "BEGIN", "START":
		if word(0) == "START" {
			if word(1) != "TRANSACTION" {
				return cmd, false, nil
			}
			i = 2
		} else {
			skipWork()
		}
		cmd.verb, cmd.start = "BEGIN", word(0) == "START"
		// Transaction modes: ISOLATION LEVEL ..., READ ONLY | READ WRITE, [NOT] DEFERRABLE,
		// separated by spaces or commas. Only READ ONLY changes anything here.
		for ; i < len(toks); i++ {
			switch w := word(i); {
			case toks[i].IsOp(","):
			case w == "ISOLATION" && word(i+1) == "LEVEL":
				i += 2
				switch word(i) {
				case "SERIALIZABLE":
				case "REPEATABLE":
					i++
					if word(i) != "READ" {
						return bad()
					}
				case "READ":
					i++
					if w := word(i); w != "COMMITTED" && w != "UNCOMMITTED" {
						return bad()
					}
				default:
					return bad()
				}
			case w == "READ" && word(i+1) == "ONLY":
				cmd.readOnly, i = true, i+1
			case w == "READ" && word(i+1) == "WRITE":
				cmd.readOnly, i = false, i+1
			case w == "DEFERRABLE":
			case w == "NOT" && word(i+1) == "DEFERRABLE":
				i++
			default:
				return bad()
			}
		}
		return cmd, true, nil
	case "COMMIT", "END", "ROLLBACK", "ABORT":
		cmd.verb = "COMMIT"
		if w := word(0); w == "ROLLBACK" || w == "ABORT" {
			cmd.verb = "ROLLBACK"
		}
		skipWork()
		if cmd.verb == "ROLLBACK" && word(0) == "ROLLBACK" && word(i) == "TO" {
			i++
			if word(i) == "SAVEPOINT" {
				i++
			}
			n, ok := name(i)
			if !ok {
				return bad()
			}
			cmd.verb, cmd.savepoint = "ROLLBACK TO", n
			return cmd, true, nil
		}
		if word(i) == "AND" {
			switch {
			case word(i+1) == "CHAIN" && i+2 == len(toks):
				cmd.chain = true
			case word(i+1) == "NO" && word(i+2) == "CHAIN" && i+3 == len(toks):
			default:
				return bad()
			}
			return cmd, true, nil
		}
		if i != len(toks) {
			return bad()
		}
		return cmd, true, nil
	case "SAVEPOINT":
		n, ok := name(1)
		if !ok {
			return bad()
		}
		return txCommand{verb: "SAVEPOINT", savepoint: n}, true, nil
	case "RELEASE":
		if word(1) == "SAVEPOINT" {
			i = 2
		}
		n, ok := name(i)
		if !ok {
			return bad()
		}
		return txCommand{verb: "RELEASE", savepoint: n}, true, nil
	}
	return cmd, false, nil
}

// notice is a NoticeResponse the statement sends before its command tag.
type notice struct{ severity, code, msg string }

// apply runs a transaction-control command against the block state: the command tag, a
// warning to send first (or none), or an error.
func (t *txState) apply(cmd txCommand) (tag string, warn *notice, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.status == 0 {
		t.status = txIdle
	}
	inBlock := t.status != txIdle
	begin := func(readOnly bool) {
		t.status, t.readOnly, t.writes, t.savepoints = txInTx, readOnly, 0, nil
	}
	end := func() { t.status, t.readOnly, t.writes, t.savepoints = txIdle, false, 0, nil }
	switch cmd.verb {
	case "BEGIN":
		tag := "BEGIN"
		if cmd.start {
			tag = "START TRANSACTION"
		}
		if inBlock {
			return tag, &notice{"WARNING", "25001", "there is already a transaction in progress"}, nil
		}
		begin(cmd.readOnly)
		return tag, nil, nil
	case "COMMIT", "ROLLBACK":
		if !inBlock {
			if cmd.chain {
				return "", nil, pgerror.WithCode(fmt.Errorf("%s AND CHAIN can only be used in transaction blocks", cmd.verb), codes.NoActiveSQLTransaction)
			}
			return cmd.verb, &notice{"WARNING", "25P01", "there is no transaction in progress"}, nil
		}
		failed, writes, ro := t.status == txFailed, t.writes, t.readOnly
		end()
		if cmd.chain {
			begin(ro)
		}
		if cmd.verb == "COMMIT" {
			if failed {
				return "ROLLBACK", nil, nil
			}
			return "COMMIT", nil, nil
		}
		if writes > 0 {
			return "", nil, pgerror.WithCode(fmt.Errorf("ROLLBACK cannot undo this transaction: %s already took effect (streamsql applies every statement at once); the transaction block has ended", statements(writes)), codes.FeatureNotSupported)
		}
		return "ROLLBACK", nil, nil
	}
	// Savepoints.
	if !inBlock {
		return "", nil, pgerror.WithCode(fmt.Errorf("%s can only be used in transaction blocks", savepointVerb(cmd.verb)), codes.NoActiveSQLTransaction)
	}
	at := -1
	for i := len(t.savepoints) - 1; i >= 0; i-- {
		if t.savepoints[i].name == cmd.savepoint {
			at = i
			break
		}
	}
	switch cmd.verb {
	case "SAVEPOINT":
		if t.status == txFailed {
			return "", nil, errInFailedTx
		}
		t.savepoints = append(t.savepoints, savepoint{name: cmd.savepoint, writes: t.writes})
		return "SAVEPOINT", nil, nil
	case "RELEASE":
		if t.status == txFailed {
			return "", nil, errInFailedTx
		}
		if at < 0 {
			t.status = txFailed
			return "", nil, pgerror.WithCode(fmt.Errorf("savepoint %q does not exist", cmd.savepoint), codes.InvalidSavepointSpecification)
		}
		t.savepoints = t.savepoints[:at]
		return "RELEASE", nil, nil
	default: // ROLLBACK TO
		if at < 0 {
			t.status = txFailed
			return "", nil, pgerror.WithCode(fmt.Errorf("savepoint %q does not exist", cmd.savepoint), codes.InvalidSavepointSpecification)
		}
		if n := t.writes - t.savepoints[at].writes; n > 0 {
			t.status = txFailed
			return "", nil, pgerror.WithCode(fmt.Errorf("ROLLBACK TO SAVEPOINT cannot undo %s that already took effect (streamsql applies every statement at once)", statements(n)), codes.FeatureNotSupported)
		}
		// The savepoint stays (PostgreSQL keeps it after ROLLBACK TO); newer ones go.
		t.savepoints = t.savepoints[:at+1]
		t.status = txInTx
		return "ROLLBACK", nil, nil
	}
}

func savepointVerb(verb string) string {
	switch verb {
	case "RELEASE":
		return "RELEASE SAVEPOINT"
	case "ROLLBACK TO":
		return "ROLLBACK TO SAVEPOINT"
	}
	return verb
}

func statements(n int) string {
	if n == 1 {
		return "1 statement"
	}
	return fmt.Sprintf("%d statements", n)
}

// txStatusOf is psql-wire's TxStatus callback.
func (s *Server) txStatusOf(ctx context.Context) types.ServerStatus {
	if c := s.connOf(ctx); c != nil {
		return types.ServerStatus(c.tx.current())
	}
	return types.ServerIdle
}

// syncConn is psql-wire's Sync callback: an error anywhere in the extended-protocol messages
// this Sync ends (Parse, Bind, Execute) fails an open block.
func (s *Server) syncConn(ctx context.Context, failed bool) error {
	if c := s.connOf(ctx); c != nil && failed {
		c.tx.failed()
	}
	return nil
}

// leadingWord is the first word of text in upper case, after white space and comments: a cheap
// test for statements recognised by their first keyword.
func leadingWord(text string) string {
	i := 0
	for i < len(text) {
		switch {
		case text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r' || text[i] == '\f':
			i++
		case strings.HasPrefix(text[i:], "--"):
			for i < len(text) && text[i] != '\n' {
				i++
			}
		case strings.HasPrefix(text[i:], "/*"):
			end := strings.Index(text[i+2:], "*/")
			if end < 0 {
				return ""
			}
			i += end + 4
		default:
			j := i
			for j < len(text) && (text[j] >= 'a' && text[j] <= 'z' || text[j] >= 'A' && text[j] <= 'Z' || text[j] == '_') {
				j++
			}
			return strings.ToUpper(text[i:j])
		}
	}
	return ""
}
