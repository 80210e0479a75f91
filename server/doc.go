// Package server serves a streamsql engine over the PostgreSQL wire protocol (psql-wire), so
// psql, pgx, the PostgreSQL JDBC driver and other PostgreSQL clients can create tables, sources
// and continuous queries and read results. All connections share one engine: a continuous query
// keeps running after the connection that created it is gone.
//
// Protocols. A simple query may hold several statements; they run in order and stop at the first
// error, whose SQLSTATE and position (DETAIL) are reported after the results before it. The
// extended protocol prepares one statement: Parse asks Engine.Prepare for its result columns and
// parameter types without running it (describe.go), Execute substitutes each $n as a typed,
// quoted literal (params.go; arrays as ARRAY[...], arrays.go) and runs it. Results go out in text
// (exec.FormatValue) or binary format; types map to PostgreSQL OIDs in types.go. Engine errors
// map to SQLSTATE codes in one table (errors.go). Session statements and the catalog queries of
// psql and drivers are answered by the emulation table in catalog.go. COPY FROM STDIN / TO STDOUT
// (text, CSV; binary in) is the server's own (copy.go, copy_parse.go, copy_text.go), on
// Engine.CopyIn.
//
// Security decisions:
//   - The default listen address is loopback. CheckListen refuses a non-loopback address without
//     a password, since anyone reaching the port could otherwise run any statement.
//   - With a password, clients authenticate with SCRAM-SHA-256 (auth.go, on xdg-go/scram with
//     SASLprep; psql-wire only offers cleartext). The password never crosses the wire, with or
//     without TLS, so no cleartext password mode exists at all. One password serves every user
//     name.
//   - TLS (Config.TLS) is optional; without it statements and results travel in clear text, and
//     the serve command warns when a non-loopback address is served without TLS.
//   - MaxConnections bounds connections (the extra client gets SQLSTATE 53300 "too many
//     connections"), HandshakeTimeout bounds clients that connect and say nothing, and
//     StatementTimeout cancels long statements (57014). A panic in a handler becomes an error
//     for that statement (XX000); the server goes on.
//
// Cancellation: each connection gets a backend key; a CancelRequest with it (psql's Ctrl-C, pgx
// when a context ends) cancels the running statement's context. There are no transactions: every
// statement takes effect at once. The server keeps PostgreSQL's transaction-block state all the
// same (txn.go) and reports it in ReadyForQuery, so drivers that open blocks (JDBC with autocommit
// off, fetch-size cursors on named portals) work; ROLLBACK is accepted when nothing in the block
// took effect and refused (0A000) otherwise. The reported version is PostgreSQL 17 (version.go).
package server
