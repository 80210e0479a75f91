// Package sql is the front end: it turns SQL text into bound logical plans in three steps.
//
// # Parse
//
// parse.go is our own small recursive-descent parser for the statements PostgreSQL has no
// grammar for, or that mean something else here: CREATE TABLE/SOURCE ... WITH (options) and
// WATERMARK FOR, CREATE SINK / MATERIALIZED VIEW ... AS query, SHOW, DESCRIBE, EXPLAIN, STOP,
// SUBSCRIBE, DROP. It works on the tokens of lexer.go (also used to split scripts at top-level
// semicolons, split.go). Wherever one of those statements embeds a query, and for SELECT, VALUES,
// WITH and INSERT statements themselves, the query text goes to PostgreSQL's own grammar.
//
// # Convert
//
// convert.go is the only file that imports the parser library (github.com/pganalyze/pg_query_go,
// PostgreSQL 17's grammar through libpg_query). Before the library sees the text, prestep.go
// rewrites, token by token, the few forms where what we accept differs from PostgreSQL
// (window(...), which PostgreSQL reserves; backquoted identifiers; INTERVAL 10 MINUTE; the
// lecture's double-quoted durations; Flink's window TVF syntax, prestep_tvf.go) and bounds nesting depth and operator chains, keeping a
// byte map back to the original text. convert.go then turns the library's tree into our AST
// (ast.go), where every node carries the byte offset of the token an error about it should point
// at, mapped back through the pre-step. Constructs the engine has no meaning for are refused here
// with SQLSTATE 0A000 and a caret at the construct.
//
// # Bind
//
// bind*.go read only our AST. One pass per query level resolves names against the catalog and
// the scopes (FROM, then WHERE, GROUP BY and aggregates, HAVING, the select list, DISTINCT,
// ORDER BY, LIMIT), types every expression through the exec function registry, casts arguments,
// folds constants and builds a planner.Node; set operations and VALUES combine bound queries.
// Functions whose names start with "__" are internal to the binder and cannot be called.
// bind_tvf.go rewrites the window table functions (TUMBLE, HOP, CUMULATE onto a window
// assignment; SESSION onto session_window); computed.go parses and binds CREATE SOURCE's
// computed columns (name AS expression) against the source's physical columns.
//
// # Errors
//
// Every error is an *Error: a message, the statement text, the byte offset of the offending
// name or operator, and a SQLSTATE (Code) chosen where the error is raised. Error() renders the
// line, the column and a caret under the offending token; the server sends Code to clients.
package sql
