package sinks

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
)

// This file is how the SQL sinks deal with rows the database refuses (a poison pill otherwise:
// the epoch would fail the same way at every restart). A row error (sqlBackend.rowError: SQLSTATE
// class 22 data exceptions such as a NUL byte in text, 22021, a value too long, 22001, out of
// range, 22003, or an invalid datetime, and class 23 constraint violations) makes Write run the
// epoch's transaction again with the rows isolated: every group of rows is written under a
// savepoint; a group the database refuses is rolled back to the savepoint and split in halves,
// down to single rows, which are the rejected ones. The other rows, the deletes and the
// commit marker then commit in the same single transaction as always, so exactly-once holds
// across a crash. Finding k bad rows among n costs about 2·k·log2(n) statements.
//
// With on_error = 'dead_letter' (the default) the rejected rows are handed to Config.Reject after
// the commit (the engine puts them in the query's dead-letter table <query>_errors); with
// on_error = 'fail' the first rejected row fails the query, nothing of the epoch is committed,
// and the error names the row's key (or, without key columns, the whole row).
//
// The refused rows are also recorded, in the same transaction as the good rows and the marker, in
// the table streamsql_rejects next to streamsql_commits (query_id, epoch, seq, row_key, row_text,
// column_name, sql_state, message, is_delete), replacing the query's earlier records there (only the
// last committed epoch can be replayed). When a restart replays an epoch the sink already
// committed (a crash after the sink's commit, before the engine's), Write skips it as always and
// hands its refused rows, read back from that table, to Config.Reject again: the engine dropped
// the dead letters of the uncommitted epoch, so each refused row reaches <query>_errors exactly
// once.
//
// Text that names a row (RejectedRow.Key, Row and Message) shows a NUL byte as the four characters
// \x00 and invalid UTF-8 as U+FFFD, and is cut at maxRejectText bytes: a PostgreSQL client cannot
// receive a NUL in an error message, the rejects table must be able to store the text, and an
// invisible byte in a dead-letter row would hide why the row was refused.

// RejectedRow is a row the sink's database refused to store.
type RejectedRow struct {
	Epoch int64
	// Key is the row's key columns as "name=value, ...", or "" when the output has no key.
	Key string
	// Row is every column of the row as "name=value, ...".
	Row string
	// Column is the column the database named in its error, if it named one.
	Column string
	// SQLState and Message are the database's error code and message.
	SQLState string
	Message  string
	// Delete says the refused change was the delete of the row (update mode).
	Delete bool
}

// Location is where the rejected row was, as the dead-letter table shows it.
func (r RejectedRow) Location() string {
	what := "row"
	if r.Delete {
		what = "delete"
	}
	if r.Key != "" {
		return fmt.Sprintf("epoch %d %s %s", r.Epoch, what, r.Key)
	}
	return fmt.Sprintf("epoch %d %s", r.Epoch, what)
}

// Reason is the database's refusal: "SQLSTATE <code>: <message>".
func (r RejectedRow) Reason() string { return "SQLSTATE " + r.SQLState + ": " + r.Message }

// rowRejectedError is a write that failed because the database refused a row's data.
type rowRejectedError struct{ err error }

func (e rowRejectedError) Error() string { return e.err.Error() }
func (e rowRejectedError) Unwrap() error { return e.err }

// asRejected wraps err as a rowRejectedError (never retried) when it is a row error.
func (s *sqlSink) asRejected(err error) error {
	if err == nil {
		return nil
	}
	if _, _, _, ok := s.b.rowError(err); ok {
		return rowRejectedError{err}
	}
	return err
}

const isolateSavepoint = "streamsql_isolate"

// isolateRows writes recs inside tx (see the file comment), appending the refused rows to
// *rejected; with on_error = 'fail' the first refused row is returned as a permanent error.
func (s *sqlSink) isolateRows(ctx context.Context, tx sqlTx, epoch int64, recs []arrow.RecordBatch, rejected *[]RejectedRow) error {
	return s.isolate(ctx, tx, epoch, recs, false, rejected, func(ctx context.Context, part []arrow.RecordBatch) error {
		return s.b.writeRows(ctx, tx, s, part)
	})
}

// isolateDeletes runs the deletes of dels like isolateRows and returns how many found no row.
func (s *sqlSink) isolateDeletes(ctx context.Context, tx sqlTx, epoch int64, dels arrow.RecordBatch, rejected *[]RejectedRow) (int64, error) {
	var missing int64
	err := s.isolate(ctx, tx, epoch, []arrow.RecordBatch{dels}, true, rejected, func(ctx context.Context, part []arrow.RecordBatch) error {
		var total int64
		for _, p := range part {
			m, err := s.b.deleteRows(ctx, tx, s, p)
			if err != nil {
				return err
			}
			total += m
		}
		missing += total
		return nil
	})
	return missing, err
}

// isolate applies write to the rows of recs, refused groups split down to single rows.
func (s *sqlSink) isolate(ctx context.Context, tx sqlTx, epoch int64, recs []arrow.RecordBatch, del bool, rejected *[]RejectedRow,
	write func(context.Context, []arrow.RecordBatch) error) error {
	var run func(lo, hi int64) error
	run = func(lo, hi int64) error {
		if lo >= hi {
			return nil
		}
		part := sliceRows(recs, lo, hi)
		defer releaseRecords(part)
		if _, err := tx.exec(ctx, "SAVEPOINT "+isolateSavepoint); err != nil {
			return fmt.Errorf("savepoint: %w", err)
		}
		err := write(ctx, part)
		if err == nil {
			if _, err := tx.exec(ctx, "RELEASE SAVEPOINT "+isolateSavepoint); err != nil {
				return fmt.Errorf("release savepoint: %w", err)
			}
			return nil
		}
		state, msg, col, ok := s.b.rowError(err)
		if !ok {
			return err
		}
		if _, err := tx.exec(ctx, "ROLLBACK TO SAVEPOINT "+isolateSavepoint); err != nil {
			return fmt.Errorf("rollback to savepoint: %w", err)
		}
		if _, err := tx.exec(ctx, "RELEASE SAVEPOINT "+isolateSavepoint); err != nil {
			return fmt.Errorf("release savepoint: %w", err)
		}
		if hi-lo > 1 {
			mid := lo + (hi-lo)/2
			if err := run(lo, mid); err != nil {
				return err
			}
			return run(mid, hi)
		}
		rec, row, found := locateRow(recs, lo)
		if !found {
			return fmt.Errorf("isolating refused rows: row %d is past the epoch's %d rows", lo, countRows(recs))
		}
		rr := s.rejectedRow(epoch, rec, row, del, state, msg, col)
		if s.opts.failOnReject {
			return permanent(fmt.Errorf("the database refused the %s (on_error = 'fail'): SQLSTATE %s: %s", rr.describe(), state, rr.Message))
		}
		*rejected = append(*rejected, rr)
		return nil
	}
	return run(0, countRows(recs))
}

// rejectedRow describes row row of rec as refused with the given error.
func (s *sqlSink) rejectedRow(epoch int64, rec arrow.RecordBatch, row int, del bool, state, msg, col string) RejectedRow {
	rr := RejectedRow{Epoch: epoch, Column: col, SQLState: state, Message: escapeNUL(s.scrub(fmt.Errorf("%s", msg)).Error()), Delete: del}
	if del && len(s.keys) > 0 && int(rec.NumCols()) == len(s.keys) {
		// Keyed deletes may carry only the key columns.
		rr.Row = escapeNUL(rowString(rec.Schema(), rec, row))
		rr.Key = rr.Row
		return rr
	}
	rr.Row = escapeNUL(rowString(s.schema, rec, row))
	if len(s.keys) > 0 {
		parts := make([]string, len(s.keys))
		for i, k := range s.keys {
			parts[i] = s.schema.Field(k).Name + "=" + exec.FormatValue(rec.Column(k), row)
		}
		rr.Key = escapeNUL(strings.Join(parts, ", "))
	}
	return rr
}

// describe names the row in an error message.
func (r RejectedRow) describe() string {
	what := "row"
	if r.Delete {
		what = "delete of the row"
	}
	if r.Key != "" {
		return fmt.Sprintf("%s with key %s", what, r.Key)
	}
	return fmt.Sprintf("%s (%s)", what, r.Row)
}

// deliverRejected logs the epoch's rejected rows and hands them to Config.Reject.
func (s *sqlSink) deliverRejected(epoch int64, rows []RejectedRow) {
	if len(rows) == 0 {
		return
	}
	const logged = 10
	for i, r := range rows {
		if i == logged {
			s.log.Warn("more rows refused by the database", "epoch", epoch, "count", len(rows)-logged)
			break
		}
		s.log.Warn("row refused by the database", "epoch", epoch, "row", r.describe(), "sqlstate", r.SQLState, "err", r.Message)
	}
	if s.reject != nil {
		s.reject(rows)
	} else {
		s.log.Warn("rows refused by the database are dropped: this sink has no dead-letter table", "epoch", epoch, "count", len(rows))
	}
}

// sliceRows returns rows [lo, hi) of recs (numbered across the records) as slices the caller
// releases.
func sliceRows(recs []arrow.RecordBatch, lo, hi int64) []arrow.RecordBatch {
	var out []arrow.RecordBatch
	var base int64
	for _, r := range recs {
		n := r.NumRows()
		a, b := max(lo-base, 0), min(hi-base, n)
		if a < b {
			out = append(out, r.NewSlice(a, b))
		}
		base += n
		if base >= hi {
			break
		}
	}
	return out
}

// locateRow finds row i (numbered across recs).
func locateRow(recs []arrow.RecordBatch, i int64) (arrow.RecordBatch, int, bool) {
	for _, r := range recs {
		if i < r.NumRows() {
			return r, int(i), true
		}
		i -= r.NumRows()
	}
	return nil, 0, false
}

// maxRejectText bounds each text of a RejectedRow.
const maxRejectText = 64 << 10

// escapeNUL makes s storable and visible (see the file comment).
func escapeNUL(s string) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", `\x00`), "\uFFFD")
	if len(s) > maxRejectText {
		n := len(s)
		s = strings.ToValidUTF8(s[:maxRejectText], "") + fmt.Sprintf("... (%d bytes)", n)
	}
	return s
}

// rejectsColumns are the columns of the rejects table, in the order storeRejected writes them.
const rejectsColumns = "(query_id, epoch, seq, row_key, row_text, column_name, sql_state, message, is_delete)"

// storeRejected records the epoch's refused rows inside tx, replacing the query's older records.
func (s *sqlSink) storeRejected(ctx context.Context, tx sqlTx, epoch int64, rows []RejectedRow) error {
	if len(rows) == 0 {
		return nil
	}
	if _, err := tx.exec(ctx, "DELETE FROM "+s.rejectsSQL+" WHERE query_id = "+s.b.placeholder(1), s.query); err != nil {
		return fmt.Errorf("clear %s: %w", s.rejectsSQL, err)
	}
	const perStatement = 200
	for start := 0; start < len(rows); start += perStatement {
		end := min(start+perStatement, len(rows))
		var sb strings.Builder
		sb.WriteString("INSERT INTO " + s.rejectsSQL + " " + rejectsColumns + " VALUES ")
		args := make([]any, 0, 9*(end-start))
		for i := start; i < end; i++ {
			if i > start {
				sb.WriteString(", ")
			}
			sb.WriteByte('(')
			for j := 0; j < 9; j++ {
				if j > 0 {
					sb.WriteString(", ")
				}
				sb.WriteString(s.b.placeholder(len(args) + j + 1))
			}
			sb.WriteByte(')')
			r := rows[i]
			args = append(args, s.query, epoch, int64(i), r.Key, r.Row, r.Column, r.SQLState, r.Message, r.Delete)
		}
		if _, err := tx.exec(ctx, sb.String(), args...); err != nil {
			return fmt.Errorf("record the refused rows in %s: %w", s.rejectsSQL, err)
		}
	}
	return nil
}

// loadRejected reads back the refused rows recorded with a committed epoch into *out.
func (s *sqlSink) loadRejected(ctx context.Context, epoch int64, out *[]RejectedRow) error {
	rows, err := s.b.queryStrings(ctx, "SELECT row_key, row_text, column_name, sql_state, message, is_delete FROM "+s.rejectsSQL+
		" WHERE query_id = "+s.b.placeholder(1)+" AND epoch = "+s.b.placeholder(2)+" ORDER BY seq", s.query, epoch)
	if err != nil {
		return fmt.Errorf("read the refused rows of epoch %d from %s: %w", epoch, s.rejectsSQL, err)
	}
	for _, r := range rows {
		*out = append(*out, RejectedRow{Epoch: epoch, Key: r[0], Row: r[1], Column: r[2], SQLState: r[3], Message: r[4], Delete: r[5] == "true" || r[5] == "1"})
	}
	if len(rows) > 0 {
		s.log.Info("replayed epoch: its refused rows are delivered again", "epoch", epoch, "count", len(rows))
	}
	return nil
}

// dropNullKeys returns the rows of rec whose key columns are all non-NULL (as slices the caller
// releases) and, for upserts (del false), the others as rows refused with SQLSTATE 23502.
func (s *sqlSink) dropNullKeys(epoch int64, rec arrow.RecordBatch, del bool) ([]arrow.RecordBatch, []RejectedRow) {
	var keep []arrow.RecordBatch
	var refused []RejectedRow
	n := int(rec.NumRows())
	start := 0
	for i := 0; i <= n; i++ {
		null := false
		var col string
		if i < n {
			for _, k := range s.keys {
				if rec.Column(k).IsNull(i) {
					null, col = true, s.schema.Field(k).Name
					break
				}
			}
		}
		if i < n && !null {
			continue
		}
		if i > start {
			keep = append(keep, rec.NewSlice(int64(start), int64(i)))
		}
		start = i + 1
		if null && !del {
			refused = append(refused, s.rejectedRow(epoch, rec, i, false, "23502",
				fmt.Sprintf("key column %q is NULL; a primary key column cannot hold NULL", col), col))
		}
	}
	return keep, refused
}
