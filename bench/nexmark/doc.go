// Package nexmark holds the Nexmark benchmark queries in streamsql's SQL, one file per query
// (q0.sql … q22.sql), embedded so that the binary running them (`streamsql bench nexmark`) needs
// no files next to it.
//
// Each file starts with a header of `--` comment lines:
//
//	-- q5: hot items: ...            what the query computes (first line, "qN: " then the text)
//	--    ...                       an indented line continues the previous value
//	-- mode: append|update|complete  the output mode the continuous query runs in
//	-- unsupported: <feature>        optional: the feature the engine lacks to run it
//	-- needs: <feature>              optional, repeatable: a feature landing on another branch
//	-- setup: <statement>            optional, repeatable: run before the query (a side table)
//
// followed by one SELECT statement. The statement reads the streams person, auction and bid
// (the nexmark connector's event types); the runner declares them. A query marked unsupported
// is still attempted, so that it is noticed when the engine learns the feature.
package nexmark
