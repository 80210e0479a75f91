// Package conformance holds the SQL conformance suite: sqllogictest-style files under testdata/
// run through the engine's public API and, where the SQL is portable, through PostgreSQL as an
// independent oracle. The package has no code besides its tests.
//
// # File format
//
// A file is a sequence of records separated by blank lines; lines starting with '#' between records
// are comments.
//
//	statement ok                      the statement (lines up to the next blank line) must succeed
//	statement error <substring>       it must fail; the engine's message must contain <substring>
//	query <types> [rowsort|nosort]    a row-returning statement, then "----", then the expected rows
//	halt                              stop reading the file
//
// <types> has one letter per column, used only to decide how cells compare: I integer and R
// real/decimal compare numerically (R with relative tolerance 1e-9, so PostgreSQL's 2.5000 equals
// 2.5), B boolean (PostgreSQL's t/f read as true/false), T text and D date/time/interval compare as
// text. Expected rows hold the cells separated by single spaces; NULL prints as NULL and the empty
// string as (empty). rowsort sorts both sides before comparing; nosort (the default) keeps order;
// contains requires each expected line, in order, to be a substring of some later actual row (for
// EXPLAIN, whose exact layout is not a contract).
//
// A line "skipif postgres" or "onlyif streamsql" before a record marks it as streamsql-only: it is
// not sent to PostgreSQL ("skipif streamsql" / "onlyif postgres" do the reverse). ${TESTDATA} in SQL
// is replaced by the absolute path of the testdata directory.
//
// # Running
//
// go test ./conformance runs every file in a fresh engine per file and mode, and, when a
// PostgreSQL server is found (internal/testdb; required under CI=true), every portable record on
// PostgreSQL too, in a fresh schema per file. Both must match the expected block. All failures of a
// file are reported together with file:line, the SQL, and the expected and actual rows.
//
// STREAMSQL_CONFORMANCE_PG_ONLY=1 checks the files against PostgreSQL alone (the engine is not run),
// which validates the expectations themselves. STREAMSQL_CONFORMANCE_FILE=<glob> limits the files.
//
// # Modes
//
// Each file runs once per engine mode. Today there is one, batch: every statement goes through
// Engine.Exec/Query. Streaming modes (every row its own epoch, random epoch splits from a seed, a
// restart from checkpoint after every epoch) are added to the mode list and must all agree with the
// same expected blocks.
package conformance
