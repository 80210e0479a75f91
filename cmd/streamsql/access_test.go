package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestServeDefaultAccess: serve restricts files to --data-dir and the -f script's directory and
// connections to loopback unless told otherwise; the refusals reach the client as 42501.
func TestServeDefaultAccess(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(t.TempDir(), "data")
	initSQL := filepath.Join(dir, "init.sql")
	os.WriteFile(filepath.Join(dir, "seed.txt"), []byte("seed\n"), 0o600)
	os.WriteFile(initSQL, []byte("CREATE TABLE seed (v VARCHAR) WITH (connector = 'file', path = '"+filepath.Join(dir, "seed.txt")+"', format = 'text');"), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrs := make(chan net.Addr, 1)
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- serve(ctx, []string{"--listen", "127.0.0.1:0", "-f", initSQL, "--data-dir", data}, &bytes.Buffer{}, &stderr, func(a net.Addr) { addrs <- a })
	}()
	var addr net.Addr
	select {
	case addr = <-addrs:
	case code := <-done:
		t.Fatalf("serve exited %d: %s", code, stderr.String())
	}
	cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer ccancel()
	c, err := pgx.Connect(cctx, "postgres://u@"+addr.String()+"/db?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(cctx)
	var v string
	if err := c.QueryRow(cctx, "SELECT v FROM seed").Scan(&v); err != nil || v != "seed" {
		t.Fatalf("the script's directory: %q %v", v, err)
	}
	for _, stmt := range []string{
		"CREATE TABLE pw (v VARCHAR) WITH (connector = 'file', path = '/etc/passwd', format = 'text')",
		"CREATE SOURCE s (v VARCHAR) WITH (connector = 'socket', host = '10.0.0.1', port = '9999')",
	} {
		_, err := c.Exec(cctx, stmt)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42501" {
			t.Errorf("%s: %v", stmt, err)
		}
	}
	if _, err := c.Exec(cctx, "CREATE SOURCE p (v VARCHAR) WITH (connector = 'push')"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(cctx, "CREATE MATERIALIZED VIEW mv AS SELECT v FROM p"); err != nil {
		t.Fatalf("a view checkpointing in --data-dir: %v", err)
	}
}

func TestAccessFlags(t *testing.T) {
	var a accessFlags
	acc, err := a.policy(false, nil)
	if err != nil || acc != nil {
		t.Fatalf("run without flags: %v %v", acc, err)
	}
	acc, err = a.policy(true, nil)
	if err != nil || acc == nil || acc.FileRoots == nil || len(acc.FileRoots) != 0 || strings.Join(acc.Connect, ",") != "loopback:*" {
		t.Fatalf("serve without flags: %+v %v", acc, err)
	}
	a = accessFlags{roots: listFlag{"*"}, connect: listFlag{"*:*"}}
	if acc, err = a.policy(true, []string{"/x"}); err != nil || acc != nil {
		t.Fatalf("serve with * and *:*: %+v %v", acc, err)
	}
	a = accessFlags{connect: listFlag{"db:notaport"}}
	if _, err = a.policy(false, nil); err == nil || !strings.Contains(err.Error(), "--allow-connect") {
		t.Fatalf("bad pattern: %v", err)
	}
}

// TestRunAccessFlags: run is free by default and restricted when asked.
func TestRunAccessFlags(t *testing.T) {
	f := filepath.Join(t.TempDir(), "x.txt")
	os.WriteFile(f, []byte("hi\n"), 0o600)
	script := writeScript(t, "CREATE TABLE x (v VARCHAR) WITH (connector = 'file', path = '"+f+"', format = 'text'); SELECT v FROM x;")
	if r := runCLI(t, "", "run", "-f", script); r.code != 0 || !strings.Contains(r.stdout, "hi") {
		t.Fatalf("free run: %+v", r)
	}
	r := runCLI(t, "", "run", "-f", script, "--allow-file-root", t.TempDir())
	if r.code != 1 || !strings.Contains(r.stderr, "permission denied") || !strings.Contains(r.stderr, "--allow-file-root") {
		t.Fatalf("restricted run: %+v", r)
	}
}
