// Package sinks holds where query results go: the result-set writers shared by every front end
// (aligned tables like psql, CSV, JSON lines) and the streaming sinks behind the Sink contract
// (sink.go): console, in-memory result tables (materialized views, dead-letter tables),
// PostgreSQL, MySQL/MariaDB, Kafka and files. Every sink but the console is idempotent per epoch,
// so the driver's replay of an epoch after a crash writes nothing twice: the databases record
// (query, epoch) in the same transaction as the rows, Kafka commits a marker in the same
// transaction, files publish a manifest per epoch. Sinks receive weighted deltas (exec.Delta);
// changes.go turns them into inserted rows (append, complete) or, in update mode, into one upsert
// or delete per key (ConsolidateByKey), which every sink applies, deletes included. Rows a SQL
// database refuses (bad encoding, too long, constraint violations) are isolated inside the epoch's
// transaction and dead-lettered or fail the query naming the row (reject.go).
//
// sinks imports exec.
package sinks
