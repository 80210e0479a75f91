// Package sql is the front end: it turns SQL text into bound logical plans.
//
//   - lexer.go / split.go: our own tokenizer, used to split scripts into statements, to parse the
//     statements the MySQL grammar lacks, and to rewrite PostgreSQL/Spark syntax the library cannot
//     parse (CAST(x AS DOUBLE), x::type, TIMESTAMP '...', INTERVAL '1 hour', EXTRACT(unit FROM x),
//     "quoted identifiers", keyword-named columns) into forms it can, keeping a map back to the
//     original positions so errors point at what the user typed.
//   - parse*.go: statements (CREATE TABLE ... WITH (...), SHOW, DESCRIBE, EXPLAIN, DROP, WITH ...
//     CTEs); SELECT/INSERT bodies go to github.com/xwb1989/sqlparser and are converted at once into
//     our AST (ast.go). Nothing outside this package sees the library's types.
//   - bind*.go: the binder resolves names against the catalog, types every expression through the
//     exec function registry, folds constants and builds a planner.Node.
//
// Errors carry line and column and render a caret under the offending token.
package sql
