package conformance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// pgSetup adapts a fresh schema to the SQL the files are written in: the engine's DOUBLE type is
// PostgreSQL's DOUBLE PRECISION, made available under the engine's name as a domain.
var pgSetup = []string{
	"SET TIME ZONE 'UTC'",
	"SET DateStyle = 'ISO, YMD'",
	"SET IntervalStyle = 'postgres'",
	"SET extra_float_digits = 1",
	"CREATE DOMAIN double AS double precision",
}

// pgExecutor runs records on PostgreSQL, over one connection, inside a schema of its own that is
// dropped by close.
type pgExecutor struct {
	conn   *pgx.Conn
	schema string
}

func newPGExecutor(ctx context.Context, url string) (*pgExecutor, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	e := &pgExecutor{conn: conn, schema: "conf_" + hex.EncodeToString(rnd[:])}
	setup := append([]string{
		"CREATE SCHEMA " + e.schema,
		"SET search_path TO " + e.schema,
	}, pgSetup...)
	for _, s := range setup {
		if _, err := conn.Exec(ctx, s); err != nil {
			e.close()
			return nil, fmt.Errorf("PostgreSQL setup %q: %w", s, err)
		}
	}
	return e, nil
}

func (e *pgExecutor) name() string { return enginePostgres }

func (e *pgExecutor) statement(ctx context.Context, sql string) error {
	_, err := e.conn.Exec(ctx, sql, pgx.QueryExecModeSimpleProtocol)
	return err
}

// query runs sql with the simple protocol, so every cell arrives in PostgreSQL's text format, and
// maps it to the file conventions: NULL, (empty), true/false, timestamptz without its "+00".
func (e *pgExecutor) query(ctx context.Context, sql string) ([][]string, error) {
	rows, err := e.conn.Query(ctx, sql, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	fields := rows.FieldDescriptions()
	var out [][]string
	for rows.Next() {
		raw := rows.RawValues()
		row := make([]string, len(raw))
		for i, v := range raw {
			row[i] = pgCell(fields[i].DataTypeOID, v)
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

func pgCell(oid uint32, v []byte) string {
	if v == nil {
		return nullCell
	}
	s := string(v)
	switch oid {
	case pgtype.BoolOID:
		if s == "t" {
			return "true"
		}
		return "false"
	case pgtype.TimestamptzOID:
		s = strings.TrimSuffix(s, "+00")
	}
	if s == "" {
		return emptyCell
	}
	return s
}

func (e *pgExecutor) close() {
	ctx := context.Background()
	_, _ = e.conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+e.schema+" CASCADE")
	_ = e.conn.Close(ctx)
}
