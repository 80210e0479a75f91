package server

import (
	"runtime/debug"
	"strings"
)

// The PostgreSQL version the server reports. The grammar is PostgreSQL 17's (pg_query_go v6
// parses with libpg_query 17), so clients are told 17: the ParameterStatus server_version at
// startup (which psql, JDBC and pgx parse into their server version), SHOW server_version,
// SHOW server_version_num, current_setting() and version() all come from these constants, so
// they agree. psql-wire on its own would announce "150000" as server_version, which clients read
// as major version 150000.
const (
	pgVersion    = "17.0"
	pgVersionNum = "170000"
)

// serverVersion is the server_version string: "17.0 (streamsql v1.2.3)". Clients parse the
// leading number; the parenthesised part names the engine, as distributions do ("17.0 (Debian
// 17.0-1)").
func (s *Server) serverVersion() string {
	return pgVersion + " (streamsql " + s.cfg.ProductVersion + ")"
}

// versionString is what SELECT version() returns.
func (s *Server) versionString() string {
	return "PostgreSQL " + s.serverVersion()
}

// buildVersion is the module version of the running binary ("devel" for a build from a work tree).
func buildVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return strings.TrimPrefix(info.Main.Version, "v")
	}
	return "devel"
}
