// Package sinks will hold the connectors results are written to (console, memory tables,
// PostgreSQL, MySQL/MariaDB, Kafka, files), each idempotent per epoch. It imports exec.
package sinks
