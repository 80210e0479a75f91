// Package sinks holds where query results go: the result-set writers shared by every front end
// (aligned tables like psql, CSV, JSON lines) and the streaming sinks (console, in-memory result
// tables; PostgreSQL, MySQL/MariaDB, Kafka and files later), each idempotent per epoch.
//
// sinks imports exec.
package sinks
