package sinks

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/go-sql-driver/mysql"

	"github.com/streamsql/streamsql/exec"
)

// NewMySQL returns the MySQL/MariaDB sink (connector = 'mysql'). Options: url (a go-sql-driver
// DSN user:pass@tcp(host:port)/db?params, or a URL mysql://user:pass@host[:port]/db?params),
// table (name or db.name), primary_key, create_table, batch_size (rows per INSERT statement,
// default 2000; a statement is also cut at about 4 MiB of values). See sqlsink_common.go for the
// exactly-once protocol; the table must be transactional (InnoDB, which create_table uses).
//
// Rows go in with multi-row INSERT (append, complete, keyless update) or INSERT ... ON DUPLICATE
// KEY UPDATE (update with keys; ConsolidateByKey leaves one row per key). Update-mode deletes run
// first, in the same transaction: with keys DELETE ... WHERE (key) IN ((...), ...) in batches of
// batch_size keys; without keys, for each deleted row DELETE ... WHERE every column <=> its value
// LIMIT <copies>, strings compared byte by byte. Column types of create_table:
// BOOLEAN, BIGINT, DOUBLE, DECIMAL(p,s) (scale at most 30), TEXT, DATETIME(6) holding UTC, DATE,
// BIGINT microseconds for INTERVAL. VARCHAR key columns become VARCHAR(255) (a TEXT column cannot
// be a primary key; longer key values are rejected by the server in strict mode) with a binary,
// no-pad collation, so that keys compare byte by byte as in the engine ('a', 'A' and 'a ' are three
// keys). Tables are created with CHARACTER SET utf8mb4.
func NewMySQL(cfg Config) (Sink, error) {
	opts, err := parseSQLOptions("mysql", cfg.Options)
	if err != nil {
		return nil, err
	}
	mcfg, err := parseMySQLURL(opts.url)
	if err != nil {
		return nil, fmt.Errorf("mysql sink: option url %s: %v", RedactURL(opts.url), RedactURL(err.Error()))
	}
	mcfg.InterpolateParams = true // one round trip per statement, no 65535-placeholder limit
	mcfg.Logger = driverLogger{log: cfg.Logger, secret: mcfg.Passwd}
	if check := cfg.CheckAddr; check != nil {
		// Every new connection (a reconnect after an outage too) asks the access policy.
		mcfg.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
			if network != "unix" {
				if err := check(addr); err != nil {
					return nil, accessDeniedError{err}
				}
			}
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}
	}
	conn, err := mysql.NewConnector(mcfg)
	if err != nil {
		return nil, fmt.Errorf("mysql sink: option url %s: %v", RedactURL(opts.url), RedactURL(err.Error()))
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(2)
	db.SetMaxIdleConns(2)
	db.SetConnMaxIdleTime(5 * time.Minute)
	b := &myBackend{db: db, batchSize: opts.batchSize}
	if b.batchSize == 0 {
		b.batchSize = 2000
	}
	s, err := newSQLSink(b, cfg, opts, mcfg.Passwd)
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// driverLogger sends go-sql-driver's own messages (lost connections, noticed before a retry) to the
// sink's logger at debug level instead of stderr, redacted.
type driverLogger struct {
	log    *slog.Logger
	secret string
}

func (d driverLogger) Print(v ...any) {
	if d.log == nil {
		return
	}
	msg := RedactURL(fmt.Sprint(v...))
	if d.secret != "" {
		msg = strings.ReplaceAll(msg, d.secret, "***")
	}
	d.log.Debug("mysql driver: " + msg)
}

// parseMySQLURL accepts a go-sql-driver DSN or a mysql:// (or mariadb://) URL.
func parseMySQLURL(s string) (*mysql.Config, error) {
	lower := strings.ToLower(s)
	if !strings.HasPrefix(lower, "mysql://") && !strings.HasPrefix(lower, "mariadb://") {
		return mysql.ParseDSN(s)
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	cfg := mysql.NewConfig()
	if u.User != nil {
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
	}
	cfg.Net = "tcp"
	cfg.Addr = u.Host
	if u.Port() == "" {
		cfg.Addr = u.Hostname() + ":3306"
	}
	if cfg.Addr == ":3306" {
		cfg.Addr = "127.0.0.1:3306"
	}
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	dsn := cfg.FormatDSN()
	if u.RawQuery != "" {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		dsn += sep + u.RawQuery
	}
	return mysql.ParseDSN(dsn)
}

type myBackend struct {
	db           *sql.DB
	batchSize    int
	keyCollation string // set by detect
}

func (*myBackend) name() string { return "mysql" }

func (*myBackend) quoteIdent(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

func (*myBackend) placeholder(int) string { return "?" }

func (b *myBackend) columnType(f arrow.Field, key bool) (string, error) {
	id, err := typeClass(f)
	if err != nil {
		return "", err
	}
	switch id {
	case arrow.BOOL:
		return "BOOLEAN", nil
	case arrow.INT64, arrow.DURATION:
		return "BIGINT", nil
	case arrow.FLOAT64:
		return "DOUBLE", nil
	case arrow.DECIMAL128:
		d := f.Type.(*arrow.Decimal128Type)
		if d.Scale > 30 {
			return "", fmt.Errorf("DECIMAL(%d,%d): MySQL allows a scale of at most 30", d.Precision, d.Scale)
		}
		return fmt.Sprintf("DECIMAL(%d,%d)", d.Precision, d.Scale), nil
	case arrow.TIMESTAMP:
		return "DATETIME(6)", nil
	case arrow.DATE32:
		return "DATE", nil
	}
	if key {
		return "VARCHAR(255) CHARACTER SET utf8mb4 COLLATE " + b.keyCollation, nil
	}
	return "TEXT", nil
}

func (b *myBackend) commitsDDL(table string) string {
	return "CREATE TABLE IF NOT EXISTS " + table + " (query_id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE " + b.keyCollation + " NOT NULL PRIMARY KEY, epoch BIGINT NOT NULL, committed_at DATETIME(6) NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
}

func (b *myBackend) rejectsDDL(table string) string {
	return "CREATE TABLE IF NOT EXISTS " + table + " (query_id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE " + b.keyCollation + " NOT NULL, epoch BIGINT NOT NULL, seq BIGINT NOT NULL, row_key LONGTEXT, row_text LONGTEXT, column_name TEXT, sql_state VARCHAR(16), message LONGTEXT, is_delete BOOLEAN, PRIMARY KEY (query_id, epoch, seq)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
}

func (*myBackend) nowUTC() string { return "UTC_TIMESTAMP(6)" }

func (*myBackend) insertMarkerSQL(table string) string {
	return "INSERT INTO " + table + " (query_id, epoch, committed_at) VALUES (?, -1, UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE query_id = query_id"
}

func (*myBackend) tableSuffix(OutputMode) string { return " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4" }

// binaryCollations are the utf8mb4 collations that compare bytes without padding, best first:
// MariaDB's and MySQL 8's; utf8mb4_bin (which ignores trailing spaces) is the last resort.
var binaryCollations = []string{"utf8mb4_nopad_bin", "utf8mb4_0900_bin", "utf8mb4_bin"}

// detect picks the key collation. Key columns (and query_id) must compare like the engine, byte by
// byte: under the default case-insensitive collation the keys 'a' and 'A' would be one row.
func (b *myBackend) detect(ctx context.Context) error {
	rows, err := b.queryStrings(ctx, "SELECT collation_name FROM information_schema.collations WHERE collation_name IN ('"+strings.Join(binaryCollations, "', '")+"')")
	if err != nil {
		return err
	}
	for _, c := range binaryCollations {
		for _, r := range rows {
			if r[0] == c {
				b.keyCollation = c
				return nil
			}
		}
	}
	return fmt.Errorf("the server has none of the collations %s", strings.Join(binaryCollations, ", "))
}

func (*myBackend) foldsColumnCase() bool { return true }

type myTx struct{ tx *sql.Tx }

func (t myTx) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := t.tx.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t myTx) commit(context.Context) error   { return t.tx.Commit() }
func (t myTx) rollback(context.Context) error { return t.tx.Rollback() }

func (b *myBackend) begin(ctx context.Context) (sqlTx, error) {
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return myTx{tx}, nil
}

func (b *myBackend) exec(ctx context.Context, q string, args ...any) error {
	_, err := b.db.ExecContext(ctx, q, args...)
	return err
}

func (b *myBackend) queryStrings(ctx context.Context, q string, args ...any) ([][]string, error) {
	rows, err := b.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = v.String
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// schemaArg is the database of a possibly qualified table name: nil (the connection's) or the name.
func schemaArg(t []string) (any, string) {
	if len(t) == 2 {
		return t[0], t[1]
	}
	return nil, t[0]
}

func (b *myBackend) tableColumns(ctx context.Context, t []string) ([]string, bool, error) {
	db, name := schemaArg(t)
	rows, err := b.queryStrings(ctx, "SELECT column_name FROM information_schema.columns WHERE table_schema = COALESCE(?, DATABASE()) AND table_name = ? ORDER BY ordinal_position", db, name)
	if err != nil {
		return nil, false, err
	}
	cols := make([]string, len(rows))
	for i, r := range rows {
		cols[i] = r[0]
	}
	return cols, len(cols) > 0, nil
}

func (b *myBackend) uniqueKeys(ctx context.Context, t []string) ([][]string, error) {
	db, name := schemaArg(t)
	rows, err := b.queryStrings(ctx, "SELECT index_name, column_name FROM information_schema.statistics WHERE table_schema = COALESCE(?, DATABASE()) AND table_name = ? AND non_unique = 0 ORDER BY index_name, seq_in_index", db, name)
	if err != nil {
		return nil, err
	}
	return groupPairs(rows), nil
}

// maxStatementBytes cuts a multi-row INSERT well below MariaDB's default max_allowed_packet (16 MiB).
const maxStatementBytes = 4 << 20

func (b *myBackend) writeRows(ctx context.Context, tx sqlTx, s *sqlSink, recs []arrow.RecordBatch) error {
	mtx := tx.(myTx).tx
	ncol := s.schema.NumFields()
	head := "INSERT INTO " + s.tableSQL + " " + s.columnsSQL + " VALUES "
	tail := ""
	if s.mode == Update && len(s.keys) > 0 {
		set := upsertSetList(b, s.schema, s.keys, func(q string) string { return "VALUES(" + q + ")" })
		if set == "" { // every column is a key: a duplicate changes nothing
			k := b.quoteIdent(s.keyNames[0])
			set = k + " = " + k
		}
		tail = " ON DUPLICATE KEY UPDATE " + set
	}
	tuple := "(" + strings.Repeat("?, ", ncol-1) + "?)"
	var full string // the statement of a full batch, built once
	args := make([]any, 0, b.batchSize*ncol)
	rows, size := 0, 0
	flush := func() error {
		if rows == 0 {
			return nil
		}
		var q string
		if rows == b.batchSize && full != "" {
			q = full
		} else {
			q = head + strings.Repeat(tuple+", ", rows-1) + tuple + tail
			if rows == b.batchSize {
				full = q
			}
		}
		if _, err := mtx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("insert %d rows: %w", rows, err)
		}
		args, rows, size = args[:0], 0, 0
		return nil
	}
	for _, r := range recs {
		conv := make([]func(int) any, ncol)
		for j, c := range r.Columns() {
			f, err := myValue(c)
			if err != nil {
				return permanent(fmt.Errorf("column %q: %w", s.schema.Field(j).Name, err))
			}
			conv[j] = f
		}
		strs := stringColumns(r)
		for i := 0; i < int(r.NumRows()); i++ {
			for _, f := range conv {
				args = append(args, f(i))
			}
			size += 8*ncol + 4
			for _, sc := range strs {
				size += 2 * len(sc.Value(i))
			}
			rows++
			if rows >= b.batchSize || size >= maxStatementBytes {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

func (b *myBackend) deleteRows(ctx context.Context, tx sqlTx, s *sqlSink, dels arrow.RecordBatch) (int64, error) {
	mtx := tx.(myTx).tx
	cols := s.keys
	if len(cols) == 0 {
		cols = make([]int, s.schema.NumFields())
		for j := range cols {
			cols[j] = j
		}
	}
	conv := make([]func(int) any, len(cols))
	names := make([]string, len(cols))
	for n, j := range cols {
		f, err := myValue(dels.Column(j))
		if err != nil {
			return 0, permanent(fmt.Errorf("column %q: %w", s.schema.Field(j).Name, err))
		}
		conv[n] = f
		names[n] = b.quoteIdent(s.schema.Field(j).Name)
	}
	if len(s.keys) > 0 {
		tuple := "(" + strings.Repeat("?, ", len(cols)-1) + "?)"
		head := "DELETE FROM " + s.tableSQL + " WHERE (" + strings.Join(names, ", ") + ") IN ("
		var deleted int64
		for start := 0; start < int(dels.NumRows()); start += b.batchSize {
			end := min(start+b.batchSize, int(dels.NumRows()))
			args := make([]any, 0, (end-start)*len(cols))
			for i := start; i < end; i++ {
				for _, f := range conv {
					args = append(args, f(i))
				}
			}
			res, err := mtx.ExecContext(ctx, head+strings.Repeat(tuple+", ", end-start-1)+tuple+")", args...)
			if err != nil {
				return 0, fmt.Errorf("delete %d keys: %w", end-start, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return 0, err
			}
			deleted += n
		}
		return max(0, dels.NumRows()-deleted), nil
	}
	// Keyless: one row per deleted copy, equal in every column; <=> makes NULL match NULL and
	// BINARY keeps case- and pad-insensitive collations from matching another string.
	conds := make([]string, len(cols))
	for n, j := range cols {
		if s.schema.Field(j).Type.ID() == arrow.STRING {
			conds[n] = "BINARY " + names[n] + " <=> BINARY ?"
		} else {
			conds[n] = names[n] + " <=> ?"
		}
	}
	q := "DELETE FROM " + s.tableSQL + " WHERE " + strings.Join(conds, " AND ") + " LIMIT "
	var missing int64
	for _, g := range groupCopies(dels) {
		args := make([]any, len(conv))
		for n, f := range conv {
			args[n] = f(g.row)
		}
		res, err := mtx.ExecContext(ctx, q+strconv.FormatInt(g.n, 10), args...)
		if err != nil {
			return 0, fmt.Errorf("delete: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, err
		}
		missing += max(0, g.n-n)
	}
	return missing, nil
}

func stringColumns(r arrow.RecordBatch) []*array.String {
	var out []*array.String
	for _, c := range r.Columns() {
		if s, ok := c.(*array.String); ok {
			out = append(out, s)
		}
	}
	return out
}

// myValue returns the reader of arr's cells as driver arguments for the column types of
// columnType (NULL as nil). Timestamps and dates are passed as UTC text so that the DSN's loc
// setting cannot shift them; decimals as exact text.
func myValue(arr arrow.Array) (func(i int) any, error) {
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
		for i, v := range a.Float64Values() {
			if a.IsValid(i) && (math.IsNaN(v) || math.IsInf(v, 0)) {
				return nil, fmt.Errorf("value %s: MySQL cannot store NaN or Infinity in a DOUBLE", exec.FormatFloat(v))
			}
		}
		return null(func(i int) any { return a.Value(i) }), nil
	case *array.String:
		return null(func(i int) any { return a.Value(i) }), nil
	case *array.Timestamp:
		return null(func(i int) any {
			return time.UnixMicro(int64(a.Value(i))).UTC().Format("2006-01-02 15:04:05.000000")
		}), nil
	case *array.Date32:
		return null(func(i int) any { return time.Unix(int64(a.Value(i))*86400, 0).UTC().Format("2006-01-02") }), nil
	case *array.Duration:
		return null(func(i int) any { return int64(a.Value(i)) }), nil
	case *array.Decimal128:
		scale := a.DataType().(*arrow.Decimal128Type).Scale
		return null(func(i int) any { return a.Value(i).ToString(scale) }), nil
	case *array.Null:
		return func(int) any { return nil }, nil
	}
	return nil, fmt.Errorf("type %s has no MySQL encoding in this sink", exec.TypeName(arr.DataType()))
}

// MySQL/MariaDB server errors worth a new attempt: deadlock, lock wait timeout, connection killed,
// server shutdown, too many connections, network read/write errors.
var myRetryableErrors = map[uint16]bool{1213: true, 1205: true, 1927: true, 1053: true, 1040: true,
	1158: true, 1159: true, 1160: true, 1161: true, 2006: true, 2013: true}

func (b *myBackend) retryable(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return myRetryableErrors[me.Number]
	}
	return errors.Is(err, mysql.ErrInvalidConn) || errors.Is(err, driver.ErrBadConn) || isNetworkError(err)
}

// reset closes the idle connections (killed ones among them) so the next attempt dials afresh.
func (b *myBackend) reset() {
	b.db.SetMaxIdleConns(0)
	b.db.SetMaxIdleConns(2)
}

func (b *myBackend) close() error { return b.db.Close() }

// myRowErrors are MySQL/MariaDB error numbers that refuse a row's data although their SQLSTATE is
// the generic HY000 or a warning class: 1366 incorrect string value, 1265 data truncated, 1292
// incorrect datetime value, 3819 check constraint violated (MySQL), 4025 constraint failed
// (MariaDB), 1048 column cannot be null, 1364 field has no default, 1411 incorrect value for a
// function.
var myRowErrors = map[uint16]bool{1366: true, 1265: true, 1292: true, 3819: true, 4025: true, 1048: true, 1364: true, 1411: true}

// rowError: SQLSTATE class 22 (1406 data too long, 1264 out of range, ...) and 23 (duplicate key,
// foreign key, not null), and the numbers of myRowErrors.
func (b *myBackend) rowError(err error) (state, msg, column string, ok bool) {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return "", "", "", false
	}
	state = string(me.SQLState[:])
	if !strings.HasPrefix(state, "22") && !strings.HasPrefix(state, "23") && !myRowErrors[me.Number] {
		return "", "", "", false
	}
	if strings.Trim(state, "\x00 ") == "" {
		state = "HY000"
	}
	return state, fmt.Sprintf("%s (error %d)", me.Message, me.Number), "", true
}
