// Package testdb finds (or starts) the PostgreSQL and MariaDB/MySQL servers that tests use as
// oracles and as real sinks.
//
// Postgres(t) returns a pgx connection URL and MySQL(t) a go-sql-driver DSN, both naming a database
// called "test" that exists when they return. Discovery, per kind, in order:
//
//  1. The environment: STREAMSQL_TEST_POSTGRES / STREAMSQL_TEST_MYSQL, used as given (the database
//     named in it is created if missing).
//  2. The local default server: postgres://postgres@127.0.0.1:5432/test?sslmode=disable (user
//     postgres, trust auth) and root:@tcp(127.0.0.1:3306)/test. Set STREAMSQL_TEST_NO_LOCAL=1 to skip
//     this step.
//  3. A throwaway server, when the binaries are installed (initdb and postgres under
//     /usr/lib/postgresql/*/bin; mariadbd and mariadb-install-db): a fresh data directory under
//     TMPDIR and a free loopback port. As root, PostgreSQL runs as the "postgres" system user.
//  4. As root with apt-get on the PATH: apt-get install of postgresql / mariadb-server, then steps 2
//     and 3 again.
//
// When nothing works the test is skipped with the reason, except under CI=true, where it fails.
//
// Lifetime of a throwaway server: it is started at most once per test binary (sync.Once) and shared
// by every test in it. It runs as a child process with a parent-death signal, so it dies with the
// test binary even when nobody stops it; a package that wants a clean shutdown and its data
// directory removed calls StopThrowaway from TestMain after m.Run. Data directories left by a
// binary that died are removed by the next start.
package testdb
