package sinks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/exec"
)

// This file is the part of the PostgreSQL and MySQL/MariaDB sinks that does not depend on the
// driver: options, the table and commit-marker protocol, type names, statement text, the retry
// loop and URL redaction. A backend (postgres.go, mysql.go) supplies the connection pool, the
// transaction, the bulk row transfer and the classification of its driver's errors.
//
// Exactly-once protocol, per Write(epoch): in ONE transaction
//
//  1. insert the marker row (query_id, -1) into streamsql_commits if it is missing;
//  2. UPDATE streamsql_commits SET epoch = <epoch> WHERE query_id = <query> AND epoch < <epoch>:
//     zero rows updated means the epoch is already committed, the transaction is rolled back and
//     Write returns nil (a replay). The UPDATE locks the marker row, so a concurrent writer of the
//     same query waits for this transaction and then sees the new epoch;
//  3. write the rows (append: insert; complete: DELETE + insert; update: the consolidated changes
//     of ConsolidateByKey: DELETE of the deleted keys, then upsert by the key; without a key,
//     DELETE of one matching row per deleted copy, NULL matching NULL, then insert);
//  4. commit.
//
// A connection error anywhere (the commit included) makes Write retry the whole transaction after
// a backoff; if the lost commit did happen, step 2 of the retry finds the epoch recorded.

// Options every SQL sink accepts. "connector", "output_mode" and "trigger" belong to the engine
// and are accepted (and ignored) so that Config.Options can be passed as given.
var sqlSinkOptionNames = []string{"batch_size", "connector", "create_table", "on_error", "output_mode", "primary_key", "table", "trigger", "url"}

// CommitsTable is the name of the table that records, per query, the highest committed epoch.
const CommitsTable = "streamsql_commits"

// RejectsTable is the name of the table that records the rows the database refused in each
// query's last committed epoch (reject.go).
const RejectsTable = "streamsql_rejects"

// Retry backoff of a Write that failed with a connection error.
const (
	retryInitialDelay = 100 * time.Millisecond
	retryMaxDelay     = 5 * time.Second
	// defaultOpenTimeout bounds Open (which has no context): connecting, retries included, and
	// creating or checking the tables.
	defaultOpenTimeout = 30 * time.Second
)

// sqlOptions are the parsed WITH (...) options of a SQL sink.
type sqlOptions struct {
	url         string
	table       []string // table name, optionally qualified: [schema, name]
	primaryKey  []string // nil: the key columns given to Open
	createTable bool
	batchSize   int // rows per statement (MySQL INSERT) or per COPY (PostgreSQL); 0: backend default
	// failOnReject (on_error = 'fail') makes a row the database rejects fail the query, naming
	// the row; otherwise (on_error = 'dead_letter', the default) it goes to Config.Reject.
	failOnReject bool
}

func parseSQLOptions(connector string, opts map[string]string) (sqlOptions, error) {
	var o sqlOptions
	var unknown []string
	for k := range opts {
		if !slices.Contains(sqlSinkOptionNames, strings.ToLower(k)) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return o, fmt.Errorf("%s sink: unknown option(s) %s (valid: %s)", connector, strings.Join(unknown, ", "), strings.Join(sqlSinkOptionNames, ", "))
	}
	get := func(k string) (string, bool) {
		for kk, v := range opts {
			if strings.EqualFold(kk, k) {
				return strings.TrimSpace(v), true
			}
		}
		return "", false
	}
	var ok bool
	if o.url, ok = get("url"); !ok || o.url == "" {
		return o, fmt.Errorf("%s sink: option url is required", connector)
	}
	t, ok := get("table")
	if !ok || t == "" {
		return o, fmt.Errorf("%s sink: option table is required", connector)
	}
	parts := strings.Split(t, ".")
	if len(parts) > 2 || slices.Contains(parts, "") {
		return o, fmt.Errorf("%s sink: option table: invalid name %q (expected name or schema.name)", connector, t)
	}
	o.table = parts
	if pk, ok := get("primary_key"); ok {
		for _, c := range strings.Split(pk, ",") {
			c = strings.TrimSpace(c)
			if c == "" {
				return o, fmt.Errorf("%s sink: option primary_key: empty column name in %q", connector, pk)
			}
			if slices.Contains(o.primaryKey, c) {
				return o, fmt.Errorf("%s sink: option primary_key: column %q listed twice", connector, c)
			}
			o.primaryKey = append(o.primaryKey, c)
		}
	}
	if v, ok := get("create_table"); ok {
		switch strings.ToLower(v) {
		case "true":
			o.createTable = true
		case "false":
		default:
			return o, fmt.Errorf("%s sink: option create_table: invalid value %q (expected 'true' or 'false')", connector, v)
		}
	}
	if v, ok := get("batch_size"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1<<20 {
			return o, fmt.Errorf("%s sink: option batch_size: invalid value %q (expected an integer 1..%d)", connector, v, 1<<20)
		}
		o.batchSize = n
	}
	if v, ok := get("on_error"); ok {
		switch strings.ToLower(v) {
		case "fail":
			o.failOnReject = true
		case "dead_letter":
		default:
			return o, fmt.Errorf("%s sink: option on_error: invalid value %q (expected 'dead_letter' or 'fail')", connector, v)
		}
	}
	return o, nil
}

// sqlDialect is what differs between the SQL spoken to PostgreSQL and to MySQL/MariaDB.
type sqlDialect interface {
	// quoteIdent quotes one identifier.
	quoteIdent(name string) string
	// placeholder is the text of the n-th (1-based) statement parameter.
	placeholder(n int) string
	// columnType is the column type create_table uses for a field; key says it is part of the
	// primary key.
	columnType(f arrow.Field, key bool) (string, error)
	// commitsDDL creates the commits table (named by its quoted, possibly qualified, name).
	commitsDDL(table string) string
	// rejectsDDL creates the rejects table (reject.go).
	rejectsDDL(table string) string
	// nowUTC is the SQL expression of the current time stored in committed_at.
	nowUTC() string
	// insertMarkerSQL inserts (placeholder 1, -1, now) into the commits table unless the query
	// already has a row there.
	insertMarkerSQL(table string) string
	// tableSuffix follows the column list of CREATE TABLE for a table written in mode.
	tableSuffix(mode OutputMode) string
	// foldsColumnCase says column names match case-insensitively.
	foldsColumnCase() bool
}

// sqlTx is one open transaction of a backend.
type sqlTx interface {
	exec(ctx context.Context, sql string, args ...any) (rowsAffected int64, err error)
	commit(ctx context.Context) error
	rollback(ctx context.Context) error
}

// sqlBackend is the driver-specific half of a SQL sink.
type sqlBackend interface {
	sqlDialect
	// name is the connector name used in messages ("postgres", "mysql").
	name() string
	// detect learns what the statement text depends on from the server (run first in Open).
	detect(ctx context.Context) error
	begin(ctx context.Context) (sqlTx, error)
	// exec runs one statement outside a transaction.
	exec(ctx context.Context, sql string, args ...any) error
	// queryStrings runs a query outside a transaction and returns its rows as text ("" for NULL).
	queryStrings(ctx context.Context, sql string, args ...any) ([][]string, error)
	// tableColumns lists the columns of the table, or returns found=false when it does not exist.
	tableColumns(ctx context.Context, t []string) (cols []string, found bool, err error)
	// uniqueKeys lists the column sets of the table's primary key and unique indexes.
	uniqueKeys(ctx context.Context, t []string) ([][]string, error)
	// writeRows writes one epoch's rows inside tx according to s.mode (the DELETE of complete mode
	// and the deletes of update mode have already run): insert, or in update mode with keys
	// upsert by the key (recs then hold at most one row per key). recs are borrowed.
	writeRows(ctx context.Context, tx sqlTx, s *sqlSink, recs []arrow.RecordBatch) error
	// deleteRows runs the deletes of an update-mode epoch inside tx: with keys, of the rows whose
	// key equals one in dels; without keys, of one row equal in every column (NULL equal to NULL)
	// per row of dels. It returns how many deletes found no row. dels is borrowed.
	deleteRows(ctx context.Context, tx sqlTx, s *sqlSink, dels arrow.RecordBatch) (missing int64, err error)
	// retryable says err is a lost or refused connection (or a deadlock) worth a new attempt.
	retryable(err error) bool
	// rowError says err is the database refusing the data of a row (bad encoding, a value too
	// long or out of range, an invalid date, a constraint violation), and returns its SQLSTATE,
	// message and the column it names (if any). Such an error is the row's fault: writing the
	// other rows without it succeeds (see reject.go).
	rowError(err error) (state, msg, column string, ok bool)
	// reset drops the pool's idle connections after a connection error.
	reset()
	close() error
}

// sqlSink is a Sink writing to a SQL table through a backend; see the protocol above.
type sqlSink struct {
	b      sqlBackend
	opts   sqlOptions
	query  string
	log    *slog.Logger
	secret string // the password, scrubbed from every error and log line
	status func(string)
	reject func([]RejectedRow)
	clock  func() time.Time
	mem    memory.Allocator

	// isolating is set while a write isolates rejected rows (reject.go): the backend's writeRows
	// is then called several times in one transaction and must not rely on a fresh staging table.
	isolating bool

	openTimeout time.Duration

	schema   *arrow.Schema
	mode     OutputMode
	keys     []int    // key column indexes (update mode; else only for create_table)
	keyNames []string // names of keys
	// Statement text fixed at Open.
	tableSQL   string // quoted target table
	commitsSQL string // quoted commits table
	rejectsSQL string // quoted rejects table (reject.go)
	columnsSQL string // quoted column list "(a, b, c)"
}

func newSQLSink(b sqlBackend, cfg Config, opts sqlOptions, password string) (*sqlSink, error) {
	if cfg.Query == "" {
		return nil, fmt.Errorf("%s sink: the query name is empty (it identifies the query's rows in %s)", b.name(), CommitsTable)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &sqlSink{b: b, opts: opts, query: cfg.Query, secret: password, openTimeout: defaultOpenTimeout, status: cfg.Status, reject: cfg.Reject, clock: cfg.Clock}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.mem = cfg.Mem; s.mem == nil {
		s.mem = memory.DefaultAllocator
	}
	s.log = log.With("sink", b.name(), "query", cfg.Query, "table", strings.Join(opts.table, "."), "url", RedactURL(opts.url))
	return s, nil
}

// qualified quotes a possibly qualified name.
func qualified(d sqlDialect, parts []string) string {
	q := make([]string, len(parts))
	for i, p := range parts {
		q[i] = d.quoteIdent(p)
	}
	return strings.Join(q, ".")
}

// commitsTableName puts streamsql_commits next to the target table (same schema/database).
func commitsTableName(table []string) []string { return siblingTable(table, CommitsTable) }

// siblingTable names table name in the schema/database of table.
func siblingTable(table []string, name string) []string {
	if len(table) == 2 {
		return []string{table[0], name}
	}
	return []string{name}
}

// Open checks the options against the schema and mode, creates the commits table (and the target
// table with create_table) and checks that the table has the columns and, in update mode with
// key columns, a unique key on them (keyless update mode needs none: rows are copies).
func (s *sqlSink) Open(schema *arrow.Schema, mode OutputMode, keys []int) error {
	s.schema, s.mode = schema, mode
	if err := s.resolveKeys(keys); err != nil {
		return err
	}
	d := s.b
	s.tableSQL = qualified(d, s.opts.table)
	s.commitsSQL = qualified(d, commitsTableName(s.opts.table))
	s.rejectsSQL = qualified(d, siblingTable(s.opts.table, RejectsTable))
	cols := make([]string, schema.NumFields())
	for i, f := range schema.Fields() {
		cols[i] = d.quoteIdent(f.Name)
	}
	s.columnsSQL = "(" + strings.Join(cols, ", ") + ")"

	ctx, cancel := context.WithTimeout(context.Background(), s.openTimeout)
	defer cancel()
	return s.withRetry(ctx, "open", -1, s.prepareTables)
}

// resolveKeys sets keys/keyNames from the primary_key option or the driver's key columns.
func (s *sqlSink) resolveKeys(keys []int) error {
	s.keys, s.keyNames = nil, nil
	if s.opts.primaryKey != nil {
		for _, name := range s.opts.primaryKey {
			idx := -1
			for i, f := range s.schema.Fields() {
				if f.Name == name || (s.b.foldsColumnCase() && strings.EqualFold(f.Name, name)) {
					idx = i
					break
				}
			}
			if idx < 0 {
				return fmt.Errorf("%s sink: option primary_key: column %q is not in the query's output (columns: %s)", s.b.name(), name, strings.Join(fieldNames(s.schema), ", "))
			}
			s.keys = append(s.keys, idx)
		}
	} else {
		for _, k := range keys {
			if k < 0 || k >= s.schema.NumFields() {
				return fmt.Errorf("%s sink: key column index %d out of range for %d columns", s.b.name(), k, s.schema.NumFields())
			}
			s.keys = append(s.keys, k)
		}
	}
	for _, k := range s.keys {
		s.keyNames = append(s.keyNames, s.schema.Field(k).Name)
	}
	return nil
}

func fieldNames(schema *arrow.Schema) []string {
	out := make([]string, schema.NumFields())
	for i, f := range schema.Fields() {
		out[i] = f.Name
	}
	return out
}

func (s *sqlSink) prepareTables(ctx context.Context) error {
	if err := s.b.detect(ctx); err != nil {
		return fmt.Errorf("inspect the server: %w", err)
	}
	if err := s.b.exec(ctx, s.b.commitsDDL(s.commitsSQL)); err != nil {
		return fmt.Errorf("create %s: %w", s.commitsSQL, err)
	}
	if err := s.b.exec(ctx, s.b.rejectsDDL(s.rejectsSQL)); err != nil {
		// Two sinks creating the table at the same instant: one of the IF NOT EXISTS loses
		// the race with a duplicate-name error; the table then exists.
		if err2 := s.b.exec(ctx, s.b.rejectsDDL(s.rejectsSQL)); err2 != nil {
			return fmt.Errorf("create %s: %w", s.rejectsSQL, err)
		}
	}
	cols, found, err := s.b.tableColumns(ctx, s.opts.table)
	if err != nil {
		return fmt.Errorf("look up table %s: %w", s.tableSQL, err)
	}
	if !found {
		if !s.opts.createTable {
			return permanent(fmt.Errorf("table %s does not exist (create it, or set create_table = 'true')", s.tableSQL))
		}
		ddl, err := createTableSQL(s.b, s.tableSQL, s.schema, s.pkForCreate(), s.mode)
		if err != nil {
			return permanent(err)
		}
		if err := s.b.exec(ctx, ddl); err != nil {
			return fmt.Errorf("create table %s: %w", s.tableSQL, err)
		}
		s.log.Info("created sink table", "ddl", ddl)
		if cols, found, err = s.b.tableColumns(ctx, s.opts.table); err != nil || !found {
			return fmt.Errorf("look up table %s after creating it: found=%v: %v", s.tableSQL, found, err)
		}
	}
	if missing := missingColumns(fieldNames(s.schema), cols, s.b.foldsColumnCase()); len(missing) > 0 {
		return permanent(fmt.Errorf("table %s has no column(s) %s for the query's output (table columns: %s)", s.tableSQL, strings.Join(missing, ", "), strings.Join(cols, ", ")))
	}
	if s.mode == Update && len(s.keys) > 0 {
		sets, err := s.b.uniqueKeys(ctx, s.opts.table)
		if err != nil {
			return fmt.Errorf("look up the keys of %s: %w", s.tableSQL, err)
		}
		if !hasUniqueKey(sets, s.keyNames, s.b.foldsColumnCase()) {
			return permanent(fmt.Errorf("update mode: table %s has no primary key or unique index on exactly (%s), which the upsert needs (set option primary_key to the table's key, or add the key)", s.tableSQL, strings.Join(s.keyNames, ", ")))
		}
	}
	return nil
}

// pkForCreate is the primary key create_table declares: the key in update mode, and in other
// modes only a primary_key given explicitly (an append-mode query may emit equal keys).
func (s *sqlSink) pkForCreate() []int {
	if s.mode == Update || s.opts.primaryKey != nil {
		return s.keys
	}
	return nil
}

// createTableSQL is the CREATE TABLE IF NOT EXISTS statement for schema with primary key pk.
func createTableSQL(d sqlDialect, table string, schema *arrow.Schema, pk []int, mode OutputMode) (string, error) {
	var sb strings.Builder
	sb.WriteString("CREATE TABLE IF NOT EXISTS ")
	sb.WriteString(table)
	sb.WriteString(" (")
	for i, f := range schema.Fields() {
		typ, err := d.columnType(f, slices.Contains(pk, i))
		if err != nil {
			return "", fmt.Errorf("create_table: column %q: %w", f.Name, err)
		}
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(d.quoteIdent(f.Name))
		sb.WriteByte(' ')
		sb.WriteString(typ)
	}
	if len(pk) > 0 {
		sb.WriteString(", PRIMARY KEY (")
		for i, k := range pk {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(d.quoteIdent(schema.Field(k).Name))
		}
		sb.WriteByte(')')
	}
	sb.WriteByte(')')
	sb.WriteString(d.tableSuffix(mode))
	return sb.String(), nil
}

func missingColumns(want, have []string, fold bool) []string {
	var missing []string
	for _, w := range want {
		if !slices.ContainsFunc(have, func(h string) bool { return h == w || (fold && strings.EqualFold(h, w)) }) {
			missing = append(missing, w)
		}
	}
	return missing
}

// hasUniqueKey reports whether one of sets is exactly the set keys.
func hasUniqueKey(sets [][]string, keys []string, fold bool) bool {
	norm := func(xs []string) []string {
		out := make([]string, len(xs))
		for i, x := range xs {
			if fold {
				x = strings.ToLower(x)
			}
			out[i] = x
		}
		sort.Strings(out)
		return out
	}
	k := norm(keys)
	for _, s := range sets {
		if slices.Equal(norm(s), k) {
			return true
		}
	}
	return false
}

// typeClass checks that f has an engine type a SQL sink can store.
func typeClass(f arrow.Field) (arrow.Type, error) {
	switch id := f.Type.ID(); id {
	case arrow.BOOL, arrow.INT64, arrow.FLOAT64, arrow.STRING, arrow.TIMESTAMP, arrow.DATE32,
		arrow.DURATION, arrow.DECIMAL128, arrow.NULL:
		return id, nil
	}
	return 0, fmt.Errorf("type %s has no SQL column type in this sink", exec.TypeName(f.Type))
}

// upsertSetList is "c = <f(c)>, ..." over the non-key columns; empty when every column is a key.
func upsertSetList(d sqlDialect, schema *arrow.Schema, keys []int, value func(quoted string) string) string {
	var parts []string
	for i, f := range schema.Fields() {
		if slices.Contains(keys, i) {
			continue
		}
		q := d.quoteIdent(f.Name)
		parts = append(parts, q+" = "+value(q))
	}
	return strings.Join(parts, ", ")
}

// checkKeysNotNull fails when a key column holds NULL: a primary key cannot store it.
func (s *sqlSink) checkKeysNotNull(recs []arrow.RecordBatch) error {
	for _, r := range recs {
		for _, k := range s.keys {
			c := r.Column(k)
			if c.NullN() == 0 {
				continue
			}
			for i := 0; i < c.Len(); i++ {
				if c.IsNull(i) {
					return fmt.Errorf("key column %q is NULL in a row (%s); a primary key column cannot hold NULL", s.schema.Field(k).Name, rowString(s.schema, r, i))
				}
			}
		}
	}
	return nil
}

func rowString(schema *arrow.Schema, r arrow.RecordBatch, i int) string {
	parts := make([]string, r.NumCols())
	for j := range parts {
		parts[j] = schema.Field(j).Name + "=" + exec.FormatValue(r.Column(j), i)
	}
	return strings.Join(parts, ", ")
}

// Write commits the epoch's changes and its marker in one transaction, retrying on connection
// errors until ctx ends; an epoch at or below the recorded one is skipped. deltas are borrowed.
func (s *sqlSink) Write(ctx context.Context, epoch int64, deltas []exec.Delta) error {
	if s.schema == nil {
		return fmt.Errorf("%s sink: Write before Open", s.b.name())
	}
	fail := func(err error) error {
		return s.scrub(fmt.Errorf("%s sink: table %s: epoch %d: %w", s.b.name(), s.tableSQL, epoch, err))
	}
	var rows []arrow.RecordBatch
	var dels arrow.RecordBatch
	var pre []RejectedRow // refused before anything is sent
	if s.mode == Update {
		c, err := ConsolidateByKey(nil, s.schema, deltas, s.keys)
		if err != nil {
			return fail(err)
		}
		defer c.Release()
		if s.opts.failOnReject {
			if err := s.checkKeysNotNull([]arrow.RecordBatch{c.Upserts, c.Deletes}); err != nil {
				return fail(err)
			}
			rows, dels = []arrow.RecordBatch{c.Upserts}, c.Deletes
		} else {
			// A row whose key is NULL cannot be stored under a primary key: its upsert is
			// refused (23502) like a row the database refuses, and its delete has nothing to
			// delete.
			var keep []arrow.RecordBatch
			keep, pre = s.dropNullKeys(epoch, c.Upserts, false)
			defer releaseRecords(keep)
			rows = keep
			keepDels, _ := s.dropNullKeys(epoch, c.Deletes, true)
			defer releaseRecords(keepDels)
			d, err := exec.ConcatRecords(&exec.Ctx{Context: ctx, Mem: s.mem}, c.Deletes.Schema(), keepDels)
			if err != nil {
				return fail(err)
			}
			defer d.Release()
			dels = d
		}
	} else {
		recs, err := InsertedRows(nil, s.schema, s.mode, deltas)
		if err != nil {
			return fail(err)
		}
		defer releaseRecords(recs)
		rows = recs
	}
	var rejected []RejectedRow
	attempt := func(isolate bool) func(context.Context) error {
		return func(ctx context.Context) error {
			rejected = append(rejected[:0], pre...)
			return s.writeOnce(ctx, epoch, rows, dels, isolate, &rejected)
		}
	}
	err := s.withRetry(ctx, "write", epoch, attempt(false))
	if rr := (rowRejectedError{}); errors.As(err, &rr) {
		// A row of the epoch was refused: write the epoch again, isolating the refused rows.
		s.log.Info("the database refused a row; isolating the refused rows of the epoch", "epoch", epoch, "err", s.scrub(rr.err).Error())
		err = s.withRetry(ctx, "write", epoch, attempt(true))
	}
	if err != nil {
		return err
	}
	s.deliverRejected(epoch, rejected)
	return nil
}

// writeOnce runs the protocol's transaction once. Without isolate, a row the database refuses
// fails it with a rowRejectedError; with isolate, rows are written by isolateRows, which collects
// the refused ones into *rejected, and the transaction commits the others, the marker and the
// refused rows' record in the rejects table (reject.go). A replayed epoch reads its refused rows
// back from there into *rejected.
func (s *sqlSink) writeOnce(ctx context.Context, epoch int64, recs []arrow.RecordBatch, dels arrow.RecordBatch, isolate bool, rejected *[]RejectedRow) (err error) {
	tx, err := s.b.begin(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.rollback(context.WithoutCancel(ctx))
		}
	}()
	d := s.b
	if _, err = tx.exec(ctx, d.insertMarkerSQL(s.commitsSQL), s.query); err != nil {
		return fmt.Errorf("insert marker: %w", err)
	}
	n, err := tx.exec(ctx, "UPDATE "+s.commitsSQL+" SET epoch = "+d.placeholder(1)+", committed_at = "+d.nowUTC()+
		" WHERE query_id = "+d.placeholder(2)+" AND epoch < "+d.placeholder(3), epoch, s.query, epoch)
	if err != nil {
		return fmt.Errorf("update marker: %w", err)
	}
	if n == 0 {
		s.log.Debug("epoch already committed, skipped", "epoch", epoch)
		if err = tx.rollback(ctx); err != nil {
			return err
		}
		*rejected = (*rejected)[:0] // the committed epoch's record replaces what this run found
		return s.loadRejected(ctx, epoch, rejected)
	}
	if s.mode == Complete {
		if _, err = tx.exec(ctx, "DELETE FROM "+s.tableSQL); err != nil {
			return fmt.Errorf("delete the previous contents: %w", err)
		}
	}
	if isolate {
		s.isolating = true
		defer func() { s.isolating = false }()
	}
	if dels != nil && dels.NumRows() > 0 {
		var missing int64
		if isolate {
			missing, err = s.isolateDeletes(ctx, tx, epoch, dels, rejected)
		} else {
			missing, err = s.b.deleteRows(ctx, tx, s, dels)
			err = s.asRejected(err)
		}
		if err != nil {
			return err
		}
		if missing > 0 {
			// The table lacks rows the query retracts: someone else changed it. The deletes that
			// found their row are applied; the rest are reported, not retried forever.
			s.log.Warn("update mode: deletes found no matching row (was the table changed outside the query?)", "epoch", epoch, "missing", missing)
		}
	}
	if isolate {
		err = s.isolateRows(ctx, tx, epoch, recs, rejected)
	} else {
		err = s.asRejected(s.b.writeRows(ctx, tx, s, recs))
	}
	if err == nil {
		err = s.storeRejected(ctx, tx, epoch, *rejected)
	}
	if err != nil {
		return err
	}
	if err = tx.commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// copyGroup is a distinct row of a keyless delete record and how many copies to delete.
type copyGroup struct {
	row int
	n   int64
}

// groupCopies groups the equal rows of dels (NULL equal to NULL), in order of first appearance.
func groupCopies(dels arrow.RecordBatch) []copyGroup {
	idx := map[string]int{}
	var out []copyGroup
	var buf []byte
	cols := dels.Columns()
	for i := 0; i < int(dels.NumRows()); i++ {
		buf = exec.AppendRowKey(buf[:0], cols, i)
		if g, ok := idx[string(buf)]; ok {
			out[g].n++
			continue
		}
		idx[string(buf)] = len(out)
		out = append(out, copyGroup{row: i, n: 1})
	}
	return out
}

// keyRecord returns the key columns of rec as a record owned by the caller.
func (s *sqlSink) keyRecord(rec arrow.RecordBatch) arrow.RecordBatch {
	fields := make([]arrow.Field, len(s.keys))
	for i, k := range s.keys {
		fields[i] = s.schema.Field(k)
	}
	return exec.SelectColumns(rec, arrow.NewSchema(fields, nil), s.keys)
}

// permanentError marks an error no retry can fix.
type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

func permanent(err error) error { return permanentError{err} }

// accessDeniedError is a connection Config.CheckAddr refused; never retried.
type accessDeniedError struct{ err error }

func (e accessDeniedError) Error() string {
	return "connection refused by the access policy: " + e.err.Error()
}
func (e accessDeniedError) Unwrap() error { return e.err }

// withRetry runs f until it succeeds, fails with a non-retryable error or ctx ends. Between
// attempts it waits retryInitialDelay doubling to retryMaxDelay and drops the pool's connections.
// Every retry is logged (attempt, next delay, the redacted cause) and reported through
// Config.Status as "retrying <what> of epoch N since <time> (attempt A, next in D): <cause>";
// the status is cleared when the attempts end, in success or failure (a failure is the query's
// error).
func (s *sqlSink) withRetry(ctx context.Context, what string, epoch int64, f func(context.Context) error) error {
	delay := retryInitialDelay
	var since time.Time
	defer func() {
		if !since.IsZero() && s.status != nil {
			s.status("")
		}
	}()
	for attempt := 1; ; attempt++ {
		err := f(ctx)
		if err == nil {
			return nil
		}
		where := fmt.Sprintf("%s sink: table %s", s.b.name(), s.tableSQL)
		if what == "write" {
			where += fmt.Sprintf(": epoch %d", epoch)
		} else {
			where += ": " + what
		}
		var p permanentError
		var denied accessDeniedError
		if errors.As(err, &p) || errors.As(err, &denied) || !s.b.retryable(err) {
			return s.scrub(fmt.Errorf("%s: %w", where, err))
		}
		if ctx.Err() != nil {
			return s.scrub(fmt.Errorf("%s: gave up after %d attempt(s): %w (last error: %v)", where, attempt, ctx.Err(), err))
		}
		if since.IsZero() {
			since = s.clock()
		}
		cause := s.scrub(err).Error()
		s.log.Warn("sink "+what+" failed, retrying", "epoch", epoch, "attempt", attempt, "backoff", delay, "retrying_since", since.UTC().Format(time.RFC3339), "err", cause)
		if s.status != nil {
			of := ""
			if what == "write" {
				of = fmt.Sprintf(" of epoch %d", epoch)
			}
			s.status(fmt.Sprintf("retrying %s%s since %s (attempt %d, next in %s): %s", what, of, since.UTC().Format(time.RFC3339), attempt, delay, cause))
		}
		s.b.reset()
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return s.scrub(fmt.Errorf("%s: gave up after %d attempt(s): %w (last error: %v)", where, attempt, ctx.Err(), err))
		}
		delay = min(2*delay, retryMaxDelay)
	}
}

// scrubbedError is err with the password cut out of its message; errors.Is/As still see err.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// scrub removes the sink's password and any credentials in URLs from err's message.
func (s *sqlSink) scrub(err error) error {
	msg := RedactURL(err.Error())
	if s.secret != "" {
		msg = strings.ReplaceAll(msg, s.secret, "***")
	}
	if msg == err.Error() {
		return err
	}
	return &scrubbedError{msg: msg, err: err}
}

func (s *sqlSink) Close() error { return s.b.close() }

// isNetworkError recognizes lost, reset and refused connections in any driver's error chain.
func isNetworkError(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) {
		return true
	}
	msg := err.Error()
	for _, m := range []string{"conn closed", "connection reset", "broken pipe", "unexpected EOF", "connection refused", "bad connection", "invalid connection"} {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}

// redactParam matches password=... as a URL query parameter or a key=value connection-string word.
var redactParam = regexp.MustCompile(`(?i)((?:^|[?&;\s])(?:password|passwd|pass|pwd|sslpassword)\s*=\s*)('(?:[^'\\]|\\.)*'|[^&;\s]*)`)

// urlUserinfo matches scheme://user: and the password after it, up to the last '@' before the
// end of the authority (a '/', '?' or '#'); the password may hold spaces.
var urlUserinfo = regexp.MustCompile("([a-zA-Z][a-zA-Z0-9+.-]*://[^:/?#@\\s\"'`]*:)[^/?#]*@")

// RedactURL replaces the password of a connection string with "***": the user:password@ part of a
// URL (postgres://u:pw@h/db, mysql://u:pw@h/db) or of a go-sql-driver DSN (u:pw@tcp(h:3306)/db),
// and password=... parameters (URL query or key=value form). Strings without a password come back
// unchanged; in a longer message each space-separated word is redacted on its own.
func RedactURL(s string) string {
	// First the user:password@ of URLs whose password holds spaces (invalid, so parsers quote
	// the whole URL in their errors), which the word-by-word pass below would split apart.
	s = urlUserinfo.ReplaceAllString(s, "${1}***@")
	words := strings.Split(s, " ")
	for i, w := range words {
		words[i] = redactUserinfo(w)
	}
	return redactParam.ReplaceAllString(strings.Join(words, " "), "${1}***")
}

// redactUserinfo redacts the password of one URL or DSN word.
func redactUserinfo(w string) string {
	start, end := 0, len(w)
	if i := strings.Index(w, "://"); i >= 0 && !strings.ContainsAny(w[:i], "@/") {
		// URL: the user info is in the authority, which ends at the first '/', '?' or '#'.
		start = i + 3
		if j := strings.IndexAny(w[start:], "/?#"); j >= 0 {
			end = start + j
		}
	} else if j := strings.LastIndex(w, "/"); j >= 0 {
		// go-sql-driver DSN: [user[:password]@][net[(addr)]]/dbname[?params]; the password may
		// hold '@', so the user info ends at the last '@' before the last '/'.
		end = j
	}
	at := strings.LastIndex(w[start:end], "@")
	if at < 0 {
		return w
	}
	at += start
	c := strings.Index(w[start:at], ":")
	if c < 0 || start+c+1 == at {
		return w // no password or an empty one
	}
	return w[:start+c+1] + "***" + w[at:]
}
