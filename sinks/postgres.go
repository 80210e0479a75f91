package sinks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/streamsql/streamsql/exec"
)

// NewPostgres returns the PostgreSQL sink (connector = 'postgres'). Options: url (a pgx connection
// URL or key=value string), table (name or schema.name, used exactly as written: quoted),
// primary_key, create_table, batch_size (rows per COPY; default: one COPY per epoch). See
// sqlsink_common.go for the exactly-once protocol.
//
// Rows go in with COPY (append, complete, keyless update) or COPY into a temporary table followed
// by INSERT ... ON CONFLICT (key) DO UPDATE (update with keys; ConsolidateByKey leaves one row per
// key). Update-mode deletes run before the inserts, in the same transaction: with keys, the keys
// are copied into a temporary table and DELETE ... USING it removes them; without keys, each
// deleted copy removes one row whose columns are all IS NOT DISTINCT FROM its values. Column types of create_table: BOOLEAN, BIGINT, DOUBLE PRECISION, NUMERIC(p,s), TEXT,
// TIMESTAMPTZ (the engine's timestamps are UTC instants), DATE, INTERVAL. The connections carry
// application_name "streamsql sink <query>" unless the URL sets one.
func NewPostgres(cfg Config) (Sink, error) {
	opts, err := parseSQLOptions("postgres", cfg.Options)
	if err != nil {
		return nil, err
	}
	pcfg, err := pgxpool.ParseConfig(opts.url)
	if err != nil {
		return nil, fmt.Errorf("postgres sink: option url %s: %v", RedactURL(opts.url), RedactURL(err.Error()))
	}
	pcfg.MaxConns = 2 // Write is sequential; the second connection serves Open's lookups after a reset.
	if pcfg.ConnConfig.RuntimeParams == nil {
		pcfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	if pcfg.ConnConfig.RuntimeParams["application_name"] == "" {
		pcfg.ConnConfig.RuntimeParams["application_name"] = truncateUTF8("streamsql sink "+cfg.Query, 63)
	}
	if check := cfg.CheckAddr; check != nil {
		// Every new connection (a reconnect after an outage too) asks the access policy about
		// each address it may try; Unix socket directories were checked at CREATE.
		pcfg.BeforeConnect = func(_ context.Context, cc *pgx.ConnConfig) error {
			hosts := []string{net.JoinHostPort(cc.Host, strconv.Itoa(int(cc.Port)))}
			for _, f := range cc.Fallbacks {
				hosts = append(hosts, net.JoinHostPort(f.Host, strconv.Itoa(int(f.Port))))
			}
			for _, h := range hosts {
				if strings.HasPrefix(h, "/") || strings.HasPrefix(h, "[/") {
					continue
				}
				if err := check(h); err != nil {
					return accessDeniedError{err}
				}
			}
			return nil
		}
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), pcfg)
	if err != nil {
		return nil, fmt.Errorf("postgres sink: %v", RedactURL(err.Error()))
	}
	b := &pgBackend{pool: pool, batchSize: opts.batchSize}
	s, err := newSQLSink(b, cfg, opts, pcfg.ConnConfig.Password)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

func truncateUTF8(s string, n int) string {
	for len(s) > n {
		_, size := lastRune(s)
		s = s[:len(s)-size]
	}
	return s
}

func lastRune(s string) (rune, int) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i]&0xC0 != 0x80 {
			return rune(s[i]), len(s) - i
		}
	}
	return 0, len(s)
}

type pgBackend struct {
	pool      *pgxpool.Pool
	batchSize int
}

func (*pgBackend) name() string { return "postgres" }

func (*pgBackend) quoteIdent(name string) string { return pgx.Identifier{name}.Sanitize() }

func (*pgBackend) placeholder(n int) string { return "$" + strconv.Itoa(n) }

func (*pgBackend) columnType(f arrow.Field, _ bool) (string, error) {
	id, err := typeClass(f)
	if err != nil {
		return "", err
	}
	switch id {
	case arrow.BOOL:
		return "BOOLEAN", nil
	case arrow.INT64:
		return "BIGINT", nil
	case arrow.FLOAT64:
		return "DOUBLE PRECISION", nil
	case arrow.DECIMAL128:
		d := f.Type.(*arrow.Decimal128Type)
		return fmt.Sprintf("NUMERIC(%d,%d)", d.Precision, d.Scale), nil
	case arrow.TIMESTAMP:
		return "TIMESTAMPTZ", nil
	case arrow.DATE32:
		return "DATE", nil
	case arrow.DURATION:
		return "INTERVAL", nil
	}
	return "TEXT", nil // VARCHAR and the untyped NULL
}

func (*pgBackend) commitsDDL(table string) string {
	return "CREATE TABLE IF NOT EXISTS " + table + " (query_id TEXT PRIMARY KEY, epoch BIGINT NOT NULL, committed_at TIMESTAMPTZ NOT NULL)"
}

func (*pgBackend) rejectsDDL(table string) string {
	return "CREATE TABLE IF NOT EXISTS " + table + " (query_id TEXT NOT NULL, epoch BIGINT NOT NULL, seq BIGINT NOT NULL, row_key TEXT, row_text TEXT, column_name TEXT, sql_state TEXT, message TEXT, is_delete BOOLEAN, PRIMARY KEY (query_id, epoch, seq))"
}

func (*pgBackend) nowUTC() string { return "now()" }

func (*pgBackend) insertMarkerSQL(table string) string {
	return "INSERT INTO " + table + " (query_id, epoch, committed_at) VALUES ($1, -1, now()) ON CONFLICT (query_id) DO NOTHING"
}

// tableSuffix leaves 30% of each page free in update mode, so that most upserts are HOT updates
// that need no new index entry (measured: 2-3x faster repeated upserts of 100K keys).
func (*pgBackend) tableSuffix(mode OutputMode) string {
	if mode == Update {
		return " WITH (fillfactor = 70)"
	}
	return ""
}

func (*pgBackend) detect(context.Context) error { return nil }

func (*pgBackend) foldsColumnCase() bool { return false }

type pgTx struct{ tx pgx.Tx }

func (t pgTx) exec(ctx context.Context, sql string, args ...any) (int64, error) {
	tag, err := t.tx.Exec(ctx, sql, args...)
	return tag.RowsAffected(), err
}

func (t pgTx) commit(ctx context.Context) error   { return t.tx.Commit(ctx) }
func (t pgTx) rollback(ctx context.Context) error { return t.tx.Rollback(ctx) }

func (b *pgBackend) begin(ctx context.Context) (sqlTx, error) {
	tx, err := b.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return pgTx{tx}, nil
}

func (b *pgBackend) exec(ctx context.Context, sql string, args ...any) error {
	_, err := b.pool.Exec(ctx, sql, args...)
	return err
}

func (b *pgBackend) queryStrings(ctx context.Context, sql string, args ...any) ([][]string, error) {
	rows, err := b.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, err
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			if v != nil {
				row[i] = fmt.Sprint(v)
			}
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

func (b *pgBackend) tableColumns(ctx context.Context, t []string) ([]string, bool, error) {
	name := qualified(b, t)
	rows, err := b.queryStrings(ctx, "SELECT to_regclass($1) IS NOT NULL", name)
	if err != nil {
		return nil, false, err
	}
	if len(rows) != 1 || rows[0][0] != "true" {
		return nil, false, nil
	}
	rows, err = b.queryStrings(ctx, "SELECT attname::text FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped ORDER BY attnum", name)
	if err != nil {
		return nil, false, err
	}
	cols := make([]string, len(rows))
	for i, r := range rows {
		cols[i] = r[0]
	}
	return cols, true, nil
}

func (b *pgBackend) uniqueKeys(ctx context.Context, t []string) ([][]string, error) {
	rows, err := b.queryStrings(ctx, `SELECT i.indexrelid::text, a.attname::text FROM pg_index i
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
		WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indpred IS NULL ORDER BY 1`, qualified(b, t))
	if err != nil {
		return nil, err
	}
	return groupPairs(rows), nil
}

// groupPairs turns (group, value) rows sorted by group into the value lists per group.
func groupPairs(rows [][]string) [][]string {
	var out [][]string
	for i, r := range rows {
		if i == 0 || r[0] != rows[i-1][0] {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], r[1])
	}
	return out
}

// pgStage is the temporary table update mode copies an epoch into before the upsert. The sink's
// pool serves only this sink, so one name per session suffices.
const pgStage = "streamsql_stage"

func (b *pgBackend) writeRows(ctx context.Context, tx sqlTx, s *sqlSink, recs []arrow.RecordBatch) error {
	ptx := tx.(pgTx).tx
	cols := fieldNames(s.schema)
	if s.mode != Update || len(s.keys) == 0 {
		return b.copyRows(ctx, ptx, pgx.Identifier(s.opts.table), cols, recs)
	}
	if countRows(recs) == 0 {
		return nil
	}
	// Created once per session (each pooled connection has its own); emptied by every commit.
	if _, err := ptx.Exec(ctx, "CREATE TEMP TABLE IF NOT EXISTS "+pgStage+" ON COMMIT DELETE ROWS AS SELECT "+
		strings.Trim(s.columnsSQL, "()")+" FROM "+s.tableSQL+" WITH NO DATA"); err != nil {
		return fmt.Errorf("create the staging table: %w", err)
	}
	if s.isolating { // earlier groups of this transaction left their rows in the stage
		if _, err := ptx.Exec(ctx, "DELETE FROM "+pgStage); err != nil {
			return fmt.Errorf("empty the staging table: %w", err)
		}
	}
	if err := b.copyRows(ctx, ptx, pgx.Identifier{pgStage}, cols, recs); err != nil {
		return err
	}
	keys := make([]string, len(s.keys))
	for i, k := range s.keys {
		keys[i] = b.quoteIdent(s.schema.Field(k).Name)
	}
	action := "DO NOTHING"
	if set := upsertSetList(b, s.schema, s.keys, func(q string) string { return "EXCLUDED." + q }); set != "" {
		action = "DO UPDATE SET " + set
	}
	if _, err := ptx.Exec(ctx, "INSERT INTO "+s.tableSQL+" "+s.columnsSQL+" SELECT "+strings.Trim(s.columnsSQL, "()")+
		" FROM "+pgStage+" ON CONFLICT ("+strings.Join(keys, ", ")+") "+action); err != nil {
		return fmt.Errorf("upsert: %w", err)
	}
	return nil
}

// pgStageDelete is the temporary table the keys of an epoch's deletes are copied into.
const pgStageDelete = "streamsql_stage_delete"

func (b *pgBackend) deleteRows(ctx context.Context, tx sqlTx, s *sqlSink, dels arrow.RecordBatch) (int64, error) {
	ptx := tx.(pgTx).tx
	if len(s.keys) > 0 {
		keys := make([]string, len(s.keys))
		match := make([]string, len(s.keys))
		for i, k := range s.keys {
			keys[i] = b.quoteIdent(s.schema.Field(k).Name)
			match[i] = "t." + keys[i] + " = d." + keys[i]
		}
		if _, err := ptx.Exec(ctx, "CREATE TEMP TABLE IF NOT EXISTS "+pgStageDelete+" ON COMMIT DELETE ROWS AS SELECT "+
			strings.Join(keys, ", ")+" FROM "+s.tableSQL+" WITH NO DATA"); err != nil {
			return 0, fmt.Errorf("create the delete staging table: %w", err)
		}
		if s.isolating {
			if _, err := ptx.Exec(ctx, "DELETE FROM "+pgStageDelete); err != nil {
				return 0, fmt.Errorf("empty the delete staging table: %w", err)
			}
		}
		krec := s.keyRecord(dels)
		defer krec.Release()
		if err := b.copyRows(ctx, ptx, pgx.Identifier{pgStageDelete}, s.keyNames, []arrow.RecordBatch{krec}); err != nil {
			return 0, err
		}
		tag, err := ptx.Exec(ctx, "DELETE FROM "+s.tableSQL+" AS t USING "+pgStageDelete+" AS d WHERE "+strings.Join(match, " AND "))
		if err != nil {
			return 0, fmt.Errorf("delete: %w", err)
		}
		return max(0, dels.NumRows()-tag.RowsAffected()), nil
	}
	// Keyless: one statement per distinct row, all sent in one round trip.
	conv := make([]func(int) any, dels.NumCols())
	conds := make([]string, dels.NumCols())
	for j, c := range dels.Columns() {
		f, err := pgValue(c)
		if err != nil {
			return 0, permanent(fmt.Errorf("column %q: %w", s.schema.Field(j).Name, err))
		}
		conv[j] = f
		conds[j] = b.quoteIdent(s.schema.Field(j).Name) + " IS NOT DISTINCT FROM $" + strconv.Itoa(j+1)
	}
	q := "DELETE FROM " + s.tableSQL + " WHERE (tableoid, ctid) IN (SELECT tableoid, ctid FROM " + s.tableSQL +
		" WHERE " + strings.Join(conds, " AND ") + " LIMIT $" + strconv.Itoa(len(conds)+1) + ")"
	groups := groupCopies(dels)
	batch := &pgx.Batch{}
	for _, g := range groups {
		args := make([]any, 0, len(conv)+1)
		for _, f := range conv {
			args = append(args, f(g.row))
		}
		batch.Queue(q, append(args, g.n)...)
	}
	br := ptx.SendBatch(ctx, batch)
	var missing int64
	for _, g := range groups {
		tag, err := br.Exec()
		if err != nil {
			br.Close()
			return 0, fmt.Errorf("delete: %w", err)
		}
		missing += max(0, g.n-tag.RowsAffected())
	}
	if err := br.Close(); err != nil {
		return 0, fmt.Errorf("delete: %w", err)
	}
	return missing, nil
}

// copyRows COPYs the rows of recs into table, in chunks of batchSize rows when set.
func (b *pgBackend) copyRows(ctx context.Context, tx pgx.Tx, table pgx.Identifier, cols []string, recs []arrow.RecordBatch) error {
	src, err := newPGRows(recs)
	if err != nil {
		return permanent(err)
	}
	for !src.done() {
		src.limit = b.batchSize
		src.taken = 0
		if _, err := tx.CopyFrom(ctx, table, cols, src); err != nil {
			return fmt.Errorf("copy into %s: %w", table.Sanitize(), err)
		}
	}
	return nil
}

// rowRef addresses row row of record rec.
type rowRef struct{ rec, row int32 }

// pgRows is a pgx.CopyFromSource over Arrow records. It stops after limit rows (0: no limit) so
// that one source can feed several COPYs.
type pgRows struct {
	recs  []arrow.RecordBatch
	conv  [][]func(i int) any // per record, per column
	rec   int                 // current record
	row   int                 // next row in recs[rec]
	cur   rowRef
	vals  []any
	limit int
	taken int
}

func newPGRows(recs []arrow.RecordBatch) (*pgRows, error) {
	src := &pgRows{recs: recs, conv: make([][]func(int) any, len(recs))}
	for ri, r := range recs {
		src.conv[ri] = make([]func(int) any, r.NumCols())
		for j, c := range r.Columns() {
			f, err := pgValue(c)
			if err != nil {
				return nil, fmt.Errorf("column %q: %w", r.ColumnName(j), err)
			}
			src.conv[ri][j] = f
		}
	}
	if len(recs) > 0 {
		src.vals = make([]any, recs[0].NumCols())
	}
	return src, nil
}

func (p *pgRows) done() bool {
	for p.rec < len(p.recs) && p.row >= int(p.recs[p.rec].NumRows()) {
		p.rec, p.row = p.rec+1, 0
	}
	return p.rec >= len(p.recs)
}

func (p *pgRows) Next() bool {
	if (p.limit > 0 && p.taken >= p.limit) || p.done() {
		return false
	}
	p.cur = rowRef{int32(p.rec), int32(p.row)}
	p.row++
	p.taken++
	return true
}

func (p *pgRows) Values() ([]any, error) {
	conv := p.conv[p.cur.rec]
	for j, f := range conv {
		p.vals[j] = f(int(p.cur.row))
	}
	return p.vals, nil
}

func (p *pgRows) Err() error { return nil }

// pgValue returns the reader of arr's cells as values pgx encodes for the column types of
// columnType (NULL as nil).
func pgValue(arr arrow.Array) (func(i int) any, error) {
	null := func(f func(i int) any) func(i int) any {
		if arr.NullN() == 0 {
			return f
		}
		return func(i int) any {
			if arr.IsNull(i) {
				return nil
			}
			return f(i)
		}
	}
	switch a := arr.(type) {
	case *array.Boolean:
		return null(func(i int) any { return a.Value(i) }), nil
	case *array.Int64:
		return null(func(i int) any { return a.Value(i) }), nil
	case *array.Float64:
		return null(func(i int) any { return a.Value(i) }), nil
	case *array.String:
		return null(func(i int) any { return a.Value(i) }), nil
	case *array.Timestamp:
		return null(func(i int) any { return time.UnixMicro(int64(a.Value(i))).UTC() }), nil
	case *array.Date32:
		return null(func(i int) any {
			return pgtype.Date{Time: time.Unix(int64(a.Value(i))*86400, 0).UTC(), Valid: true}
		}), nil
	case *array.Duration:
		return null(func(i int) any { return pgtype.Interval{Microseconds: int64(a.Value(i)), Valid: true} }), nil
	case *array.Decimal128:
		scale := a.DataType().(*arrow.Decimal128Type).Scale
		return null(func(i int) any {
			return pgtype.Numeric{Int: a.Value(i).BigInt(), Exp: -scale, Valid: true}
		}), nil
	case *array.Null:
		return func(int) any { return nil }, nil
	}
	return nil, fmt.Errorf("type %s has no PostgreSQL encoding in this sink", exec.TypeName(arr.DataType()))
}

// retryable: lost/refused connections, the server shutting down or terminating the backend, and
// serialization failures or deadlocks. Everything else the server reports (type errors,
// constraint violations, missing objects, authentication) is final.
func (b *pgBackend) retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch c := pgErr.Code; {
		case strings.HasPrefix(c, "08"), c == "57P01", c == "57P02", c == "57P03", c == "40001", c == "40P01", c == "53300":
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	return errors.As(err, &ce) || pgconn.SafeToRetry(err) || isNetworkError(err)
}

func (b *pgBackend) reset() { b.pool.Reset() }

func (b *pgBackend) close() error {
	b.pool.Close()
	return nil
}

// rowError: SQLSTATE class 22 (data exception: 22021 bad encoding such as a NUL byte, 22001 value
// too long, 22003 out of range, 22007/22008 invalid datetime, ...) and class 23 (integrity
// constraint violation: not null, check, unique, foreign key) are the row's fault.
func (b *pgBackend) rowError(err error) (state, msg, column string, ok bool) {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || (!strings.HasPrefix(pgErr.Code, "22") && !strings.HasPrefix(pgErr.Code, "23")) {
		return "", "", "", false
	}
	msg = pgErr.Message
	if pgErr.Detail != "" {
		msg += " (" + pgErr.Detail + ")"
	}
	return pgErr.Code, msg, pgErr.ColumnName, true
}
