package server

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestServerVersionIsConsistent: the startup ParameterStatus, SHOW and current_setting agree on
// PostgreSQL 17, in both protocols.
func TestServerVersionIsConsistent(t *testing.T) {
	ts := startServer(t, Config{ProductVersion: "1.2.3"})
	ctx := context.Background()
	c := connect(t, ts.url(""))
	if got := c.PgConn().ParameterStatus("server_version"); got != "17.0 (streamsql 1.2.3)" {
		t.Fatalf("ParameterStatus server_version = %q", got)
	}
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
		for q, want := range map[string]string{
			"SHOW server_version":                          "17.0 (streamsql 1.2.3)",
			"SHOW server_version_num":                      "170000",
			"SELECT current_setting('server_version_num')": "170000",
			"SELECT version()":                             "PostgreSQL 17.0 (streamsql 1.2.3)",
		} {
			var got string
			if err := c.QueryRow(ctx, q, mode).Scan(&got); err != nil || got != want {
				t.Errorf("%s (%v) = %q, %v; want %q", q, mode, got, err, want)
			}
		}
	}
}
