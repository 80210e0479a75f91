package testdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Environment variables read by the discovery.
const (
	EnvPostgres = "STREAMSQL_TEST_POSTGRES"
	EnvMySQL    = "STREAMSQL_TEST_MYSQL"
	// EnvNoLocal, when "1", skips the local default servers (used to exercise the throwaway path).
	EnvNoLocal = "STREAMSQL_TEST_NO_LOCAL"
)

// Local default servers, tried after the environment.
const (
	DefaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	DefaultMySQL    = "root:@tcp(127.0.0.1:3306)/test"
)

// startTimeout bounds how long a server may take to accept connections after it was started.
const startTimeout = 30 * time.Second

// kind describes one server family and how to reach, prepare, start and install it.
type kind struct {
	name       string
	envVar     string
	local      string
	aptPackage string
	// ensure connects to addr, creates the database it names when missing and checks it answers.
	ensure func(ctx context.Context, addr string) error
	// start launches a throwaway server and returns its address.
	start func() (string, error)

	once sync.Once
	addr string
	err  error

	throwawayOnce sync.Once
	throwawayAddr string
	throwawayErr  error
}

var (
	postgresKind = &kind{name: "PostgreSQL", envVar: EnvPostgres, local: DefaultPostgres, aptPackage: "postgresql",
		ensure: ensurePostgres, start: startPostgres}
	mysqlKind = &kind{name: "MariaDB/MySQL", envVar: EnvMySQL, local: DefaultMySQL, aptPackage: "mariadb-server",
		ensure: ensureMySQL, start: startMariaDB}
)

// Postgres returns a connection URL (for pgx or lib/pq) of a PostgreSQL database named "test",
// skipping the test (failing it under CI=true) when no server can be found or started.
// The discovery runs once per test binary.
func Postgres(t testing.TB) string {
	t.Helper()
	return postgresKind.get(t)
}

// MySQL returns a go-sql-driver/mysql DSN of a MariaDB/MySQL database named "test", skipping the
// test (failing it under CI=true) when no server can be found or started.
// The discovery runs once per test binary.
func MySQL(t testing.TB) string {
	t.Helper()
	return mysqlKind.get(t)
}

// LookupPostgres runs the same discovery as Postgres but returns the failure instead of skipping,
// for tests that use PostgreSQL as an optional second oracle.
func LookupPostgres() (string, error) { return postgresKind.lookup() }

// LookupMySQL is the MySQL counterpart of LookupPostgres.
func LookupMySQL() (string, error) { return mysqlKind.lookup() }

func (k *kind) lookup() (string, error) {
	k.once.Do(func() { k.addr, k.err = k.discover() })
	return k.addr, k.err
}

func (k *kind) get(t testing.TB) string {
	t.Helper()
	if _, err := k.lookup(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("testdb: no %s server (CI=true, so this fails instead of skipping): %v", k.name, err)
		}
		t.Skipf("testdb: no %s server: %v", k.name, err)
	}
	return k.addr
}

// discover walks the steps described in the package comment and returns the first address that
// answers. The error lists why every step failed.
func (k *kind) discover() (string, error) {
	var reasons []string
	try := func(addr, what string) bool {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := k.ensure(ctx, addr); err != nil {
			reasons = append(reasons, fmt.Sprintf("%s: %v", what, err))
			return false
		}
		return true
	}
	if addr := os.Getenv(k.envVar); addr != "" {
		if try(addr, "$"+k.envVar) {
			return addr, nil
		}
		// An explicit address that does not work is an error of its own: do not fall back silently.
		return "", errors.New(strings.Join(reasons, "; "))
	}
	noLocal := os.Getenv(EnvNoLocal) == "1"
	if !noLocal && try(k.local, "local default "+redact(k.local)) {
		return k.local, nil
	}
	if addr, err := k.throwaway(); err == nil {
		return addr, nil
	} else {
		reasons = append(reasons, "throwaway server: "+err.Error())
	}
	if os.Geteuid() == 0 {
		if _, err := exec.LookPath("apt-get"); err == nil {
			if err := aptInstall(k.aptPackage); err != nil {
				reasons = append(reasons, err.Error())
				return "", errors.New(strings.Join(reasons, "; "))
			}
			if !noLocal && try(k.local, "local default after apt-get install") {
				return k.local, nil
			}
			// The first throwaway attempt failed before the install; try once more with fresh state.
			k.throwawayOnce = sync.Once{}
			if addr, err := k.throwaway(); err == nil {
				return addr, nil
			} else {
				reasons = append(reasons, "throwaway server after apt-get install: "+err.Error())
			}
		}
	}
	return "", errors.New(strings.Join(reasons, "; "))
}

// throwaway starts the kind's throwaway server at most once per process and checks it answers.
func (k *kind) throwaway() (string, error) {
	k.throwawayOnce.Do(func() {
		addr, err := k.start()
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
			err = k.ensure(ctx, addr)
			cancel()
		}
		k.throwawayAddr, k.throwawayErr = addr, err
	})
	return k.throwawayAddr, k.throwawayErr
}

func redact(addr string) string {
	// Addresses used here carry no passwords, but an env-provided one might: cut everything
	// between "//" or the start and '@'.
	if i := strings.Index(addr, "@"); i >= 0 {
		j := strings.Index(addr, "//")
		if j >= 0 && j < i {
			if c := strings.Index(addr[j+2:i], ":"); c >= 0 {
				return addr[:j+2+c] + ":***" + addr[i:]
			}
			return addr
		}
		if c := strings.Index(addr[:i], ":"); c >= 0 && c+1 < i {
			return addr[:c] + ":***" + addr[i:]
		}
	}
	return addr
}

// ensurePostgres connects to url; when the server says the database does not exist it connects to
// the "postgres" database and creates it.
func ensurePostgres(ctx context.Context, url string) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("parse %q: %w", redact(url), err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "3D000" { // invalid_catalog_name
		admin := cfg.Copy()
		admin.Database = "postgres"
		ac, aerr := pgx.ConnectConfig(ctx, admin)
		if aerr != nil {
			return fmt.Errorf("database %q missing and cannot connect to create it: %w", cfg.Database, aerr)
		}
		_, aerr = ac.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{cfg.Database}.Sanitize())
		ac.Close(ctx)
		if aerr != nil && !(errors.As(aerr, &pgErr) && pgErr.Code == "42P04") { // duplicate_database
			return fmt.Errorf("create database %q: %w", cfg.Database, aerr)
		}
		conn, err = pgx.ConnectConfig(ctx, cfg)
	}
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("SELECT 1: %w", err)
	}
	return nil
}

// ensureMySQL connects to dsn without a database, creates the one the DSN names if missing and
// checks it can be used.
func ensureMySQL(ctx context.Context, dsn string) error {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return fmt.Errorf("parse DSN: %w", err)
	}
	cfg.Timeout = 5 * time.Second
	name := cfg.DBName
	admin := cfg.Clone()
	admin.DBName = ""
	db, err := sql.Open("mysql", admin.FormatDSN())
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		return err
	}
	if name != "" {
		if _, err := db.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS `"+strings.ReplaceAll(name, "`", "``")+"`"); err != nil {
			return fmt.Errorf("create database %q: %w", name, err)
		}
	}
	db2, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return err
	}
	defer db2.Close()
	var one int
	if err := db2.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("SELECT 1 in %q: %w", name, err)
	}
	return nil
}

// aptInstall installs pkg non-interactively, refreshing the package lists once if the first try fails.
func aptInstall(pkg string) error {
	run := func(args ...string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("apt-get %s: %v: %s", strings.Join(args, " "), err, tail(out, 500))
		}
		return nil
	}
	install := []string{"install", "-y", "--no-install-recommends", pkg}
	if err := run(install...); err == nil {
		return nil
	}
	if err := run("update"); err != nil {
		return err
	}
	return run(install...)
}

func tail(b []byte, n int) string {
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		s = "..." + s[len(s)-n:]
	}
	return s
}

// postgresBinDir returns the bin directory of the newest PostgreSQL under /usr/lib/postgresql that
// has initdb and postgres.
func postgresBinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	var ok []string
	for _, d := range dirs {
		if isExecutable(filepath.Join(d, "initdb")) && isExecutable(filepath.Join(d, "postgres")) {
			ok = append(ok, d)
		}
	}
	if len(ok) == 0 {
		return "", errors.New("no initdb/postgres under /usr/lib/postgresql/*/bin")
	}
	version := func(d string) float64 {
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(d)), 64)
		return v
	}
	sort.Slice(ok, func(i, j int) bool { return version(ok[i]) > version(ok[j]) })
	return ok[0], nil
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// lookBinary finds name on the PATH or in the usual system directories (sbin is often not on a
// test's PATH).
func lookBinary(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"} {
		if p := filepath.Join(dir, name); isExecutable(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", name)
}
