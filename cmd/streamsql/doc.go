// Command streamsql is the command line of the streamsql engine: an interactive SQL shell on an
// embedded engine (the default), a headless script runner (run -f), the PostgreSQL-wire server
// (serve), the streaming benchmark (bench) and a version report. Usage is in main.go's usageText;
// each subcommand lives in its own file.
package main
