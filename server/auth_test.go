package server

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestNonASCIIPasswords: SCRAM with SASLprep, as PostgreSQL: pgx (which sends the password as
// given) logs in with a normalised non-ASCII password, psql (libpq applies SASLprep) with the
// same password written decomposed; a wrong password fails with 28P01.
func TestNonASCIIPasswords(t *testing.T) {
	const password = "pässwörd-Ω-日本\u00a0x" // the no-break space maps to a space under SASLprep
	ts := startServer(t, Config{Password: password})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	login := func(pw string) error {
		cfg, err := pgx.ParseConfig("postgres://u@" + ts.addr + "/db?sslmode=disable")
		if err != nil {
			t.Fatal(err)
		}
		cfg.Password = pw
		c, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		var one int64
		return c.QueryRow(ctx, "SELECT 1").Scan(&one)
	}
	if err := login("pässwörd-Ω-日本 x"); err != nil {
		t.Fatalf("pgx with the SASLprep form of the password: %v", err)
	}
	if err := login("pässwörd-Ω-日本"); pgCode(err) != "28P01" {
		t.Fatalf("wrong password: %v", err)
	}
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed")
	}
	host, port, _ := net.SplitHostPort(ts.addr)
	for pw, ok := range map[string]bool{
		password:                           true,  // as configured
		"pa\u0308sswo\u0308rd-Ω-日本\u00a0x": true,  // decomposed ä and ö: SASLprep composes them
		"passwörd-Ω-日本\u00a0x":             false, // another password
	} {
		cmd := exec.Command(psql, "-X", "-w", "-h", host, "-p", port, "-U", "u", "-d", "db", "-tAc", "SELECT 'in'")
		cmd.Env = append(os.Environ(), "PGPASSWORD="+pw, "PGSSLMODE=disable", "PGCONNECT_TIMEOUT=5")
		out, err := cmd.CombinedOutput()
		if ok && (err != nil || strings.TrimSpace(string(out)) != "in") {
			t.Errorf("psql with %q: %v %s", pw, err, out)
		}
		if !ok && (err == nil || !strings.Contains(string(out), "password authentication failed")) {
			t.Errorf("psql with the wrong password %q: %v %s", pw, err, out)
		}
	}
}
