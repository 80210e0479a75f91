package streamsql

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
)

// TestPrepareInfersParameterTypes: Prepare binds without running and types each $n from where it
// stands.
func TestPrepareInfersParameterTypes(t *testing.T) {
	ctx := context.Background()
	e, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.Exec(ctx, `CREATE TABLE p (k BIGINT, s VARCHAR, x DOUBLE, d DATE, ts TIMESTAMP, n DECIMAL(10,2), iv INTERVAL);
		CREATE SOURCE ev (k VARCHAR, v BIGINT) WITH (connector = 'push')`); err != nil {
		t.Fatal(err)
	}
	name := func(ts []arrow.DataType) string {
		var parts []string
		for _, t := range ts {
			parts = append(parts, exec.TypeName(t))
		}
		return strings.Join(parts, ",")
	}
	for _, tc := range []struct {
		sql, params, cols string
	}{
		{"SELECT k, s FROM p WHERE k = $1 AND s = $2 AND x > $3", "BIGINT,VARCHAR,DOUBLE", "k BIGINT,s VARCHAR"},
		{"SELECT * FROM p WHERE ts >= $1 AND d < $2 AND n = $3 AND iv = $4", "TIMESTAMP,DATE,DECIMAL(10,2),INTERVAL", ""},
		{"SELECT k + $1 AS y FROM p LIMIT $2 OFFSET $3", "BIGINT,BIGINT,BIGINT", "y BIGINT"},
		{"SELECT $1 AS a, upper($2) AS b", "VARCHAR,VARCHAR", "a VARCHAR,b VARCHAR"},
		{"SELECT k FROM p WHERE k = ANY($1) AND s <> ALL($2)", "BIGINT[],VARCHAR[]", "k BIGINT"},
		{"SELECT CAST($1 AS DATE) AS d", "DATE", "d DATE"},
		{"INSERT INTO p (s, k, ts) VALUES ($2, $1, $3)", "BIGINT,VARCHAR,TIMESTAMP", ""},
		{"SELECT count(*) AS c FROM p WHERE k IN (SELECT k FROM p WHERE x = $1)", "DOUBLE", "c BIGINT"},
		{"SELECT k, v FROM ev WHERE v > $1", "BIGINT", "k VARCHAR,v BIGINT"},
		{"SELECT * FROM p WHERE k BETWEEN $1 AND $2 OR k IN ($3, $4)", "BIGINT,BIGINT,BIGINT,BIGINT", ""},
		{"SELECT coalesce(k, $1) AS c, x * $2 AS m, substring(s, $3, $4) AS sub FROM p", "BIGINT,DOUBLE,BIGINT,BIGINT", "c BIGINT,m DOUBLE,sub VARCHAR"},
		{"SELECT abs($1) AS a, $2 + $3 AS b", "DOUBLE,DOUBLE,DOUBLE", "a DOUBLE,b DOUBLE"},
		{"SELECT k FROM p WHERE ts < $1 AND $2", "TIMESTAMP,BOOLEAN", "k BIGINT"},
		{"SELECT k FROM p WHERE ts > $1 - INTERVAL '1 hour' AND iv = $2", "TIMESTAMP,INTERVAL", "k BIGINT"},
		{"SELECT k FROM p WHERE k = (SELECT max(k) FROM p WHERE x > $1) OR EXISTS (SELECT 1 FROM p q WHERE q.s = $2)", "DOUBLE,VARCHAR", "k BIGINT"},
	} {
		p, err := e.Prepare(ctx, tc.sql, nil)
		if err != nil {
			t.Errorf("%s: %v", tc.sql, err)
			continue
		}
		if got := name(p.Params); got != tc.params {
			t.Errorf("%s: params %s, want %s", tc.sql, got, tc.params)
		}
		var cols []string
		if p.Schema != nil {
			for _, f := range p.Schema.Fields() {
				cols = append(cols, f.Name+" "+exec.TypeName(f.Type))
			}
		}
		if tc.cols != "" && strings.Join(cols, ",") != tc.cols {
			t.Errorf("%s: columns %v, want %s", tc.sql, cols, tc.cols)
		}
	}
	// Nothing ran: the INSERT added no row.
	res, err := e.Query(ctx, "SELECT count(*) FROM p")
	if err != nil {
		t.Fatal(err)
	}
	if got := exec.FormatValue(res.Records[0].Column(0), 0); got != "0" {
		t.Fatalf("rows after Prepare of an INSERT: %s", got)
	}
	res.Release()
	// A declared type is kept.
	p, err := e.Prepare(ctx, "SELECT k FROM p WHERE x = $1", []arrow.DataType{exec.Int64})
	if err != nil || name(p.Params) != "BIGINT" {
		t.Fatalf("declared: %v %v", p, err)
	}
	// Errors are the binder's.
	if _, err := e.Prepare(ctx, "SELECT nope FROM p WHERE k = $1", nil); err == nil || exec.SQLState(err) != "42703" {
		t.Fatalf("unknown column: %v", err)
	}
}
