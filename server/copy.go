package server

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/jackc/pgx/v5/pgtype"
	wire "github.com/jeroenrinzema/psql-wire"
	"github.com/jeroenrinzema/psql-wire/codes"
	pgerror "github.com/jeroenrinzema/psql-wire/errors"

	"github.com/streamsql/streamsql/exec"
)

// COPY FROM STDIN and COPY TO STDOUT over the wire (the statement grammar is in copy_parse.go,
// the text and CSV codecs in copy_text.go).
//
// COPY FROM: the server sends CopyInResponse, reads CopyData until CopyDone (or CopyFail), parses
// every row (text, CSV or binary), converts each column with the engine's own CAST from text (so
// a value means what it means in INSERT ... VALUES ('...')), and hands all rows to
// Engine.CopyIn at once: a bad row fails the whole COPY with its line number and nothing is
// inserted. The messages psql-wire has no API for (CopyInResponse without a RowDescription
// first, CopyOutResponse, CopyData, CopyDone) are written raw on the connection (rawmsg.go) and
// CopyData is read from the frame guard, below psql-wire's reader, which holds nothing unread
// while a statement runs (it reads one message at a time and the guard hands it one message per
// read).
//
// COPY TO: the query (or SELECT cols FROM table) runs like any statement; its rows go out as
// CopyData lines in text or CSV format.

// maxCopyBytes bounds the data of one COPY FROM, which is held in memory until every row has
// been checked.
const maxCopyBytes = 512 << 20

// copyStatement is the wire statement for a COPY: it acts when executed.
func (s *Server) copyStatement(c *conn, text string) *wire.PreparedStatement {
	return wire.NewStatement(func(ctx context.Context, w wire.DataWriter, params []wire.Parameter) (err error) {
		defer recoverTo(&err, s.log)
		defer func() {
			if err != nil {
				c.tx.failed()
			}
		}()
		if len(params) != 0 {
			return pgerror.WithCode(fmt.Errorf("bind message supplies %d parameters, but COPY takes none", len(params)), codes.ProtocolViolation)
		}
		st, err := parseCopy(text)
		if err != nil {
			return err
		}
		if err := c.tx.admit("SELECT 1"); err != nil {
			return err // a failed block
		}
		if st.from {
			if c.tx.readOnlyBlock() {
				return pgerror.WithCode(errors.New("cannot execute COPY FROM in a read-only transaction"), codes.ReadOnlySQLTransaction)
			}
			n, err := s.copyFrom(ctx, c, st)
			if err != nil {
				return wireError(err)
			}
			if n > 0 {
				c.tx.wrote()
			}
			return w.Complete(fmt.Sprintf("COPY %d", n))
		}
		n, err := s.copyTo(c, st)
		if err != nil {
			return wireError(err)
		}
		return w.Complete(fmt.Sprintf("COPY %d", n))
	})
}

// copyError is a COPY FROM failure at a row: PostgreSQL's message with its CONTEXT line folded in.
func copyError(st *copyStmt, line int64, col string, err error) error {
	where := fmt.Sprintf("COPY %s, line %d", st.table, line)
	if col != "" {
		where += ", column " + col
	}
	code := codes.BadCopyFileFormat
	if c := exec.SQLState(err); c != "" {
		code = codes.Code(c)
	} else if c := pgerror.GetCode(err); c != codes.Uncategorized {
		code = c
	}
	return pgerror.WithCode(fmt.Errorf("%s: %v", where, err), code)
}

// copyFrom runs COPY ... FROM STDIN and returns the number of rows inserted.
func (s *Server) copyFrom(ctx context.Context, c *conn, st *copyStmt) (int64, error) {
	schema, err := s.cfg.Engine.CopyInSchema(st.table)
	if err != nil {
		return 0, err
	}
	targets, err := copyTargets(schema, st.columns)
	if err != nil {
		return 0, err
	}
	for _, j := range targets {
		if schema.Field(j).Type.ID() == arrow.LIST {
			return 0, pgerror.WithCode(fmt.Errorf("COPY into the array column %s is not supported", schema.Field(j).Name), codes.FeatureNotSupported)
		}
	}
	if c.guard == nil || len(c.guard.pending) > 0 {
		return 0, errors.New("internal: COPY needs the connection's reader to be idle")
	}
	format := byte(0)
	if st.format == "binary" {
		format = 1
	}
	resp := []byte{format}
	resp = binary.BigEndian.AppendUint16(resp, uint16(len(targets)))
	for range targets {
		resp = binary.BigEndian.AppendUint16(resp, uint16(format))
	}
	if err := c.writeRaw(message('G', resp)); err != nil {
		return 0, err
	}
	data, err := c.readCopyData()
	if err != nil {
		return 0, err
	}
	var rows []copyRow
	switch st.format {
	case "binary":
		rows, err = decodeBinaryCopy(wire.TypeMap(ctx), schema, targets, data)
	case "csv":
		rows, err = decodeCSV(st, schema, targets, data)
	default:
		rows, err = decodeText(st, schema, targets, data)
	}
	if err != nil {
		return 0, err
	}
	rec, err := copyRecord(ctx, st, schema, targets, rows)
	if err != nil {
		return 0, err
	}
	if rec == nil {
		return 0, nil
	}
	defer rec.Release()
	return s.cfg.Engine.CopyIn(st.table, []arrow.RecordBatch{rec})
}

// copyTargets maps the COPY column list to schema indices (all columns when empty).
func copyTargets(schema *arrow.Schema, cols []string) ([]int, error) {
	if len(cols) == 0 {
		out := make([]int, schema.NumFields())
		for i := range out {
			out[i] = i
		}
		return out, nil
	}
	seen := map[int]bool{}
	var out []int
	for _, c := range cols {
		idx := -1
		for i, f := range schema.Fields() {
			if f.Name == c || strings.EqualFold(f.Name, c) && idx < 0 {
				idx = i
			}
		}
		if idx < 0 {
			return nil, pgerror.WithCode(fmt.Errorf("column %q does not exist", c), codes.UndefinedColumn)
		}
		if seen[idx] {
			return nil, pgerror.WithCode(fmt.Errorf("column %q specified more than once", c), codes.DuplicateColumn)
		}
		seen[idx] = true
		out = append(out, idx)
	}
	return out, nil
}

// readCopyData reads CopyData messages up to CopyDone. CopyFail ends the COPY with the client's
// message (57014, as PostgreSQL); Flush and Sync are ignored (the protocol says so); anything else
// is a protocol violation. On an error the remaining copy messages are not read: the connection
// is then answered with the error, and a client still sending CopyData gets it closed.
func (c *conn) readCopyData() ([]byte, error) {
	var data []byte
	for {
		msg, err := c.guard.next()
		if err != nil {
			return nil, err
		}
		body := msg[5:]
		switch msg[0] {
		case 'd':
			if len(data)+len(body) > maxCopyBytes {
				c.drainCopy()
				return nil, pgerror.WithCode(fmt.Errorf("COPY data exceeds %d MiB; split it into several COPY statements", maxCopyBytes>>20), codes.ProgramLimitExceeded)
			}
			data = append(data, body...)
		case 'c':
			return data, nil
		case 'f':
			return nil, pgerror.WithCode(fmt.Errorf("COPY from stdin failed: %s", strings.TrimRight(string(body), "\x00")), codes.QueryCanceled)
		case 'H', 'S':
		default:
			return nil, pgerror.WithCode(fmt.Errorf("unexpected message type %q during COPY from stdin", msg[0]), codes.ProtocolViolation)
		}
	}
}

// drainCopy reads and drops copy messages until CopyDone or CopyFail, so the client gets its
// error in step.
func (c *conn) drainCopy() {
	for {
		msg, err := c.guard.next()
		if err != nil || msg[0] == 'c' || msg[0] == 'f' || (msg[0] != 'd' && msg[0] != 'H' && msg[0] != 'S') {
			return
		}
	}
}

// copyRow is one parsed row: a text value or nil (NULL) per target column, and where it started.
type copyRow struct {
	line   int64
	fields []*string
}

// copyRecord converts the rows to one record with the full schema: each target column is cast
// from text by the engine's CAST; the other columns are NULL. A value that does not convert is
// reported with its row's line and its column.
func copyRecord(ctx context.Context, st *copyStmt, schema *arrow.Schema, targets []int, rows []copyRow) (arrow.RecordBatch, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	mem := memory.DefaultAllocator
	xctx := exec.NewCtx(ctx, time.Now())
	cols := make([]arrow.Array, schema.NumFields())
	defer func() {
		for _, a := range cols {
			if a != nil {
				a.Release()
			}
		}
	}()
	for k, j := range targets {
		b := array.NewStringBuilder(mem)
		b.Reserve(len(rows))
		for _, r := range rows {
			if v := r.fields[k]; v == nil {
				b.AppendNull()
			} else {
				b.Append(*v)
			}
		}
		text := b.NewArray()
		b.Release()
		to := schema.Field(j).Type
		out, err := exec.CastArray(xctx, text, to)
		if err != nil {
			// Find the row: cast one value at a time (only on this error path).
			for i, r := range rows {
				one := array.NewSlice(text, int64(i), int64(i+1))
				o, e := exec.CastArray(xctx, one, to)
				one.Release()
				if e != nil {
					text.Release()
					return nil, copyError(st, r.line, schema.Field(j).Name, e)
				}
				o.Release()
			}
			text.Release()
			return nil, copyError(st, rows[0].line, schema.Field(j).Name, err)
		}
		text.Release()
		cols[j] = out
	}
	for j := range cols {
		if cols[j] == nil {
			cols[j] = array.MakeArrayOfNull(mem, schema.Field(j).Type, len(rows))
		}
	}
	rec := array.NewRecordBatch(schema, cols, int64(len(rows)))
	return rec, nil
}

// decodeBinaryCopy parses PostgreSQL's binary COPY format (what pgx's CopyFrom sends): the
// signature, flags and header extension, then tuples of length-prefixed fields in the binary
// encoding of each column's type, up to the -1 trailer. Values are decoded with pgx's codecs
// and rendered as text for the CAST.
func decodeBinaryCopy(m *pgtype.Map, schema *arrow.Schema, targets []int, data []byte) ([]copyRow, error) {
	const sig = "PGCOPY\n\xff\r\n\x00"
	bad := func(tuple int64, format string, args ...any) error {
		return pgerror.WithCode(fmt.Errorf("COPY binary data, tuple %d: %s", tuple, fmt.Sprintf(format, args...)), codes.BadCopyFileFormat)
	}
	if len(data) < len(sig)+8 || string(data[:len(sig)]) != sig {
		return nil, bad(0, "COPY file signature not recognized")
	}
	p := data[len(sig):]
	flags := binary.BigEndian.Uint32(p)
	if flags&(1<<16) != 0 {
		return nil, bad(0, "OIDs in COPY data are not supported")
	}
	ext := int(binary.BigEndian.Uint32(p[4:]))
	p = p[8:]
	if ext < 0 || ext > len(p) {
		return nil, bad(0, "invalid COPY file header (header extension length)")
	}
	p = p[ext:]
	oids := make([]uint32, len(targets))
	for k, j := range targets {
		oids[k] = oidOf(schema.Field(j).Type)
	}
	var rows []copyRow
	for tuple := int64(1); ; tuple++ {
		if len(p) == 0 {
			return rows, nil // the end of the data without the -1 trailer, as pgx sends it; PostgreSQL accepts it too
		}
		if len(p) < 2 {
			return nil, bad(tuple, "unexpected end of data")
		}
		n := int16(binary.BigEndian.Uint16(p))
		p = p[2:]
		if n == -1 {
			return rows, nil
		}
		if int(n) != len(targets) {
			return nil, bad(tuple, "row field count is %d, expected %d", n, len(targets))
		}
		row := copyRow{line: tuple, fields: make([]*string, len(targets))}
		for k := range targets {
			if len(p) < 4 {
				return nil, bad(tuple, "unexpected end of data")
			}
			size := int32(binary.BigEndian.Uint32(p))
			p = p[4:]
			if size == -1 {
				continue
			}
			if size < 0 || int(size) > len(p) {
				return nil, bad(tuple, "invalid field size %d", size)
			}
			v, err := binaryFieldText(m, oids[k], p[:size])
			if err != nil {
				return nil, pgerror.WithCode(fmt.Errorf("COPY binary data, tuple %d, column %s: %v", tuple, schema.Field(targets[k]).Name, err), codes.InvalidBinaryRepresentation)
			}
			row.fields[k] = &v
			p = p[size:]
		}
		rows = append(rows, row)
	}
}

// binaryFieldText decodes one binary field of type oid and renders it as CAST-able text.
func binaryFieldText(m *pgtype.Map, oid uint32, b []byte) (string, error) {
	t, ok := m.TypeForOID(oid)
	if !ok {
		return "", fmt.Errorf("no binary codec for type %d", oid)
	}
	v, err := t.Codec.DecodeValue(m, oid, pgtype.BinaryFormatCode, b)
	if err != nil {
		return "", err
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case time.Time:
		if oid == oidDate {
			return x.Format("2006-01-02"), nil
		}
		return exec.FormatTimestamp(x.UnixMicro()), nil
	case pgtype.InfinityModifier:
		return "", fmt.Errorf("infinite dates and timestamps are not supported")
	case pgtype.Interval:
		if x.Months != 0 {
			return "", fmt.Errorf("calendar intervals (months, years) are not supported")
		}
		return strconv.FormatInt(int64(x.Days)*86400e6+x.Microseconds, 10) + " microseconds", nil
	case pgtype.Numeric:
		if x.NaN || x.InfinityModifier != pgtype.Finite {
			return "", fmt.Errorf("NaN and infinite numerics are not supported")
		}
		j, err := x.MarshalJSON()
		return string(j), err
	}
	return "", fmt.Errorf("unsupported binary value %T", v)
}

// copyTo runs COPY ... TO STDOUT and returns the number of rows sent.
func (s *Server) copyTo(c *conn, st *copyStmt) (int64, error) {
	if st.format == "binary" {
		return 0, pgerror.WithCode(errors.New("COPY TO STDOUT in binary format is not supported: use text or csv"), codes.FeatureNotSupported)
	}
	query := st.query
	if query == "" {
		cols := "*"
		if len(st.columns) > 0 {
			q := make([]string, len(st.columns))
			for i, n := range st.columns {
				q[i] = quoteIdent(n)
			}
			cols = strings.Join(q, ", ")
		}
		query = "SELECT " + cols + " FROM " + quoteIdent(st.table)
	}
	res, err := s.run(c, query)
	if err != nil {
		return 0, err
	}
	if res.emulated != nil || !res.HasRows() {
		if res.Result != nil {
			res.Release()
		}
		return 0, pgerror.WithCode(errors.New("COPY (query) TO needs a query that returns rows"), codes.FeatureNotSupported)
	}
	defer res.Release()
	schema := res.Schema
	force, err := forceQuoted(st, schema)
	if err != nil {
		return 0, err
	}
	resp := []byte{0}
	resp = binary.BigEndian.AppendUint16(resp, uint16(schema.NumFields()))
	for range schema.Fields() {
		resp = binary.BigEndian.AppendUint16(resp, 0)
	}
	if err := c.writeRaw(message('H', resp)); err != nil {
		return 0, err
	}
	enc := copyEncoder{st: st, force: force}
	var out []byte
	flush := func() error {
		if len(out) == 0 {
			return nil
		}
		err := c.writeRaw(out)
		out = out[:0]
		return err
	}
	if st.header {
		names := make([]*string, schema.NumFields())
		for i, f := range schema.Fields() {
			name := f.Name
			names[i] = &name
		}
		out = append(out, message('d', enc.line(names, true))...)
	}
	var n int64
	vals := make([]*string, schema.NumFields())
	for _, rec := range res.Records {
		for i := 0; i < int(rec.NumRows()); i++ {
			for j := range vals {
				vals[j] = nil
				if cv, ok := cellValue(rec.Column(j), i).(cell); ok {
					t := cv.text
					vals[j] = &t
				}
			}
			out = append(out, message('d', enc.line(vals, false))...)
			n++
			if len(out) > 64<<10 {
				if err := flush(); err != nil {
					return n, err
				}
			}
		}
	}
	out = append(out, message('c', nil)...)
	return n, flush()
}

// forceQuoted resolves FORCE_QUOTE to a per-column flag.
func forceQuoted(st *copyStmt, schema *arrow.Schema) ([]bool, error) {
	force := make([]bool, schema.NumFields())
	for _, name := range st.forceQuote {
		if name == "*" {
			for i := range force {
				force[i] = true
			}
			continue
		}
		found := false
		for i, f := range schema.Fields() {
			if strings.EqualFold(f.Name, name) {
				force[i], found = true, true
			}
		}
		if !found {
			return nil, pgerror.WithCode(fmt.Errorf("FORCE_QUOTE column %q is not referenced by COPY", name), codes.InvalidColumnReference)
		}
	}
	return force, nil
}
