package server

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamsql/streamsql"
	"github.com/streamsql/streamsql/sources"
)

// TestAccessRefusedOverTheWire: file and network access outside the engine's policy is refused
// to an authenticated client with SQLSTATE 42501 and a message naming the target.
func TestAccessRefusedOverTheWire(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "ok.txt"), []byte("fine\n"), 0o600)
	ts := startServerWith(t, Config{Password: "pw"}, streamsql.Options{Access: &sources.Access{FileRoots: []string{root}, Connect: []string{"loopback:*"}}})
	c := connect(t, "postgres://u:pw@"+ts.addr+"/db?sslmode=disable")
	ctx := context.Background()
	for _, tc := range []struct{ stmt, target string }{
		{"CREATE TABLE shadow (line VARCHAR) WITH (connector = 'file', path = '/etc/shadow', format = 'text')", "/etc/shadow"},
		{"CREATE TABLE env (line VARCHAR) WITH (connector = 'file', path = '/proc/self/environ', format = 'text')", "/proc/self/environ"},
		{"CREATE SOURCE s (line VARCHAR) WITH (connector = 'socket', host = '169.254.169.254', port = '80')", "169.254.169.254:80"},
	} {
		_, err := c.Exec(ctx, tc.stmt)
		if pgCode(err) != "42501" || !strings.Contains(err.Error(), "permission denied") || !strings.Contains(err.Error(), tc.target) {
			t.Errorf("%s: %v (code %q)", tc.stmt, err, pgCode(err))
		}
	}
	if _, err := c.Exec(ctx, "CREATE TABLE ok (line VARCHAR) WITH (connector = 'file', path = '"+filepath.Join(root, "ok.txt")+"', format = 'text')"); err != nil {
		t.Fatalf("inside the root: %v", err)
	}
	var line string
	if err := c.QueryRow(ctx, "SELECT line FROM ok").Scan(&line); err != nil || line != "fine" {
		t.Fatalf("reading inside the root: %q %v", line, err)
	}
}
