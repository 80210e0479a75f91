package testdb

import (
	"context"
	"database/sql"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) {
	code := m.Run()
	StopThrowaway()
	os.Exit(code)
}

// pgScalar runs a one-value query on url.
func pgScalar(t *testing.T, url, q string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	defer conn.Close(ctx)
	var s string
	if err := conn.QueryRow(ctx, q).Scan(&s); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return s
}

func myScalar(t *testing.T, dsn, q string) string {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var s string
	if err := db.QueryRow(q).Scan(&s); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return s
}

func TestPostgresAnswersInDatabaseTest(t *testing.T) {
	url := Postgres(t)
	if got := pgScalar(t, url, "SELECT current_database()"); got != "test" {
		t.Fatalf("current_database() = %q, want test", got)
	}
}

func TestMySQLAnswersInDatabaseTest(t *testing.T) {
	dsn := MySQL(t)
	if got := myScalar(t, dsn, "SELECT DATABASE()"); got != "test" {
		t.Fatalf("DATABASE() = %q, want test", got)
	}
}

// TestEnvOverrideCreatesDatabase points the environment variables at a database that does not
// exist yet on the discovered servers: discovery must return the address unchanged and create it.
func TestEnvOverrideCreatesDatabase(t *testing.T) {
	pgURL := Postgres(t)
	myDSN := MySQL(t)
	name := "streamsql_testdb_env_" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "")

	cfg, _ := pgx.ParseConfig(pgURL)
	override := strings.Replace(pgURL, "/"+cfg.Database+"?", "/"+name+"?", 1)
	if override == pgURL {
		t.Fatalf("cannot rewrite database in %s", pgURL)
	}
	t.Setenv(EnvPostgres, override)
	got, err := postgresKind.discover()
	if err != nil || got != override {
		t.Fatalf("discover with %s=%s: got %q, %v", EnvPostgres, override, got, err)
	}
	if db := pgScalar(t, override, "SELECT current_database()"); db != name {
		t.Fatalf("current_database() = %q, want %q", db, name)
	}
	ctx := context.Background()
	if conn, err := pgx.Connect(ctx, pgURL); err == nil {
		_, _ = conn.Exec(ctx, "DROP DATABASE "+name)
		conn.Close(ctx)
	}

	myOverride := strings.Replace(myDSN, ")/test", ")/"+name, 1)
	if myOverride == myDSN {
		t.Fatalf("cannot rewrite database in %s", myDSN)
	}
	t.Setenv(EnvMySQL, myOverride)
	got, err = mysqlKind.discover()
	if err != nil || got != myOverride {
		t.Fatalf("discover with %s: got %q, %v", EnvMySQL, got, err)
	}
	if db := myScalar(t, myOverride, "SELECT DATABASE()"); db != name {
		t.Fatalf("DATABASE() = %q, want %q", db, name)
	}
	if db, err := sql.Open("mysql", myDSN); err == nil {
		_, _ = db.Exec("DROP DATABASE " + name)
		db.Close()
	}
}

// TestEnvOverrideUnreachableIsAnError: an explicit address that does not answer must not fall back
// to another server.
func TestEnvOverrideUnreachableIsAnError(t *testing.T) {
	port, err := freePort() // nothing listens there
	if err != nil {
		t.Fatal(err)
	}
	bad := "postgres://postgres@127.0.0.1:" + strconv.Itoa(port) + "/test?sslmode=disable&connect_timeout=2"
	t.Setenv(EnvPostgres, bad)
	got, err := postgresKind.discover()
	if err == nil {
		t.Fatalf("discover with unreachable %s returned %q, want an error", EnvPostgres, got)
	}
	if !strings.Contains(err.Error(), EnvPostgres) {
		t.Fatalf("error %q does not name %s", err, EnvPostgres)
	}
}

// TestLocalDefault checks that, with no environment override, the local default is what discovery
// returns when that server answers.
func TestLocalDefault(t *testing.T) {
	t.Setenv(EnvPostgres, "")
	t.Setenv(EnvNoLocal, "")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ensurePostgres(ctx, DefaultPostgres); err != nil {
		t.Skipf("no local default PostgreSQL: %v", err)
	}
	got, err := postgresKind.discover()
	if err != nil || got != DefaultPostgres {
		t.Fatalf("discover = %q, %v; want %q", got, err, DefaultPostgres)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:secret@h:1/db":     "postgres://u:***@h:1/db",
		"postgres://postgres@h/db":       "postgres://postgres@h/db",
		"root:pw@tcp(127.0.0.1:3306)/db": "root:***@tcp(127.0.0.1:3306)/db",
		"root:@tcp(127.0.0.1:3306)/db":   "root:@tcp(127.0.0.1:3306)/db",
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestThrowaway starts real throwaway servers from the installed binaries with the local defaults
// disabled. It takes a few seconds, so it runs only with STREAMSQL_TEST_THROWAWAY=1.
func TestThrowaway(t *testing.T) {
	if os.Getenv("STREAMSQL_TEST_THROWAWAY") != "1" {
		t.Skip("set STREAMSQL_TEST_THROWAWAY=1 to start throwaway PostgreSQL and MariaDB servers")
	}
	t.Setenv(EnvNoLocal, "1")
	t.Setenv(EnvPostgres, "")
	t.Setenv(EnvMySQL, "")
	t.Run("postgres", func(t *testing.T) {
		url, err := postgresKind.discover()
		if err != nil {
			t.Fatal(err)
		}
		if url == DefaultPostgres {
			t.Fatalf("got the local default %s with %s=1", url, EnvNoLocal)
		}
		if got := pgScalar(t, url, "SELECT current_database() || ' ' || current_user"); got != "test postgres" {
			t.Fatalf("got %q", got)
		}
		// Reused, not restarted.
		again, err := postgresKind.discover()
		if err != nil || again != url {
			t.Fatalf("second discover = %q, %v; want the same %q", again, err, url)
		}
		t.Logf("throwaway PostgreSQL at %s", url)
	})
	t.Run("mariadb", func(t *testing.T) {
		dsn, err := mysqlKind.discover()
		if err != nil {
			t.Fatal(err)
		}
		if dsn == DefaultMySQL {
			t.Fatalf("got the local default %s with %s=1", dsn, EnvNoLocal)
		}
		if got := myScalar(t, dsn, "SELECT DATABASE()"); got != "test" {
			t.Fatalf("got %q", got)
		}
		t.Logf("throwaway MariaDB at %s", dsn)
	})
	instancesMu.Lock()
	var dirs []string
	for _, in := range instances {
		dirs = append(dirs, in.dir)
	}
	instancesMu.Unlock()
	StopThrowaway()
	for _, d := range dirs {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("data directory %s still exists after StopThrowaway", d)
		}
	}
}
