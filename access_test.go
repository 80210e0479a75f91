package streamsql

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamsql/streamsql/sources"
)

// accessEngine is an engine restricted to root (files) and loopback (connections).
func accessEngine(t *testing.T, root string) *Engine {
	t.Helper()
	eng, err := Open(Options{Access: &sources.Access{FileRoots: []string{root}, Connect: []string{"loopback:*"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

func wantAccessError(t *testing.T, what string, err error, target string) {
	t.Helper()
	var ae *sources.AccessError
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), "permission denied") || !strings.Contains(err.Error(), target) {
		t.Fatalf("%s: want a permission-denied error naming %s, got %v", what, target, err)
	}
}

func TestAccessFileRoots(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.csv")
	os.WriteFile(secret, []byte("42\n"), 0o600)
	os.WriteFile(filepath.Join(root, "ok.csv"), []byte("1\n2\n"), 0o600)
	eng := accessEngine(t, root)

	// Inside the root: allowed.
	mustExec(t, eng, "CREATE TABLE ok (v BIGINT) WITH (connector = 'file', path = '"+filepath.Join(root, "ok.csv")+"', format = 'csv')")
	if got := query(t, eng, "SELECT v FROM ok"); strings.Join(got, ",") != "1,2" {
		t.Fatalf("inside the root: %v", got)
	}
	// Outside, directly, through "..", through a symbolic link, and /etc/passwd.
	os.Symlink(secret, filepath.Join(root, "link.csv"))
	for _, p := range []string{secret, filepath.Join(root, "..", filepath.Base(outside), "secret.csv"), filepath.Join(root, "link.csv"), "/etc/passwd"} {
		_, err := eng.Exec(ctx, "CREATE TABLE bad (v VARCHAR) WITH (connector = 'file', path = '"+p+"', format = 'text')")
		wantAccessError(t, "CREATE TABLE "+p, err, p)
	}
	// A glob inside the root that matches the link is refused when the scan opens it.
	mustExec(t, eng, "CREATE TABLE globbed (v BIGINT) WITH (connector = 'file', path = '"+filepath.Join(root, "*.csv")+"', format = 'csv')")
	_, err := eng.Exec(ctx, "SELECT * FROM globbed")
	wantAccessError(t, "glob over a link", err, "link.csv")
	// A file swapped for a link after CREATE is refused at the next scan (every open is checked).
	os.Remove(filepath.Join(root, "ok.csv"))
	os.Symlink(secret, filepath.Join(root, "ok.csv"))
	_, err = eng.Exec(ctx, "SELECT * FROM ok")
	wantAccessError(t, "file swapped for a link", err, "ok.csv")

	// Streaming sources and sinks, and checkpoints.
	_, err = eng.Exec(ctx, "CREATE SOURCE s (v VARCHAR) WITH (connector = 'files', path = '"+outside+"', format = 'text')")
	wantAccessError(t, "files source outside", err, outside)
	in := filepath.Join(root, "in")
	os.Mkdir(in, 0o700)
	mustExec(t, eng, "CREATE SOURCE s (v VARCHAR) WITH (connector = 'files', path = '"+in+"', format = 'text')")
	_, err = eng.Exec(ctx, "CREATE SINK out WITH (connector = 'files', path = '"+filepath.Join(outside, "out")+"', format = 'json') AS SELECT v FROM s")
	wantAccessError(t, "files sink outside", err, filepath.Join(outside, "out"))
	_, err = eng.Exec(ctx, "CREATE MATERIALIZED VIEW mv WITH (checkpoint = '"+filepath.Join(outside, "ckpt")+"') AS SELECT v FROM s")
	wantAccessError(t, "checkpoint outside", err, filepath.Join(outside, "ckpt"))
	if _, err := os.Stat(filepath.Join(outside, "out")); err == nil {
		t.Fatal("the refused sink created its directory")
	}
	// A file dropped into the source directory as a link to a file outside fails the query.
	mustExec(t, eng, "CREATE MATERIALIZED VIEW mv WITH (checkpoint = '"+filepath.Join(root, "ckpt")+"') AS SELECT v FROM s")
	os.Symlink(secret, filepath.Join(in, "a.txt"))
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := queryError(eng, "mv")
		if strings.Contains(st, "permission denied") && strings.Contains(st, "a.txt") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the query read a link out of the root without failing: %s", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if rows := query(t, eng, "SELECT v FROM mv"); len(rows) != 0 {
		t.Fatalf("the view holds %v from outside the root", rows)
	}
}

func TestAccessConnect(t *testing.T) {
	ctx := context.Background()
	eng := accessEngine(t, t.TempDir())
	for _, c := range []struct{ stmt, target string }{
		{"CREATE SOURCE k (v VARCHAR) WITH (connector = 'socket', host = '192.0.2.1', port = '9')", "192.0.2.1:9"},
		{"CREATE SOURCE k (v VARCHAR) WITH (connector = 'kafka', brokers = '127.0.0.1:9092, 10.9.9.9:9092', topic = 't')", "10.9.9.9:9092"},
	} {
		_, err := eng.Exec(ctx, c.stmt)
		wantAccessError(t, c.stmt, err, c.target)
	}
	mustExec(t, eng, "CREATE SOURCE p (v VARCHAR) WITH (connector = 'push')")
	for _, c := range []struct{ url, target string }{
		{"postgres://u:pw@10.1.2.3:5432/db", "10.1.2.3:5432"},
		{"host=db.example.com port=6432 user=u password=pw dbname=d", "db.example.com:6432"},
		{"postgres://u:pw@127.0.0.1:5432,203.0.113.7:5432/db", "203.0.113.7:5432"},
	} {
		_, err := eng.Exec(ctx, "CREATE SINK o WITH (connector = 'postgres', url = '"+c.url+"', table = 't') AS SELECT v FROM p")
		wantAccessError(t, c.url, err, c.target)
		if strings.Contains(err.Error(), "pw") {
			t.Fatalf("the refusal shows the password: %v", err)
		}
	}
	for _, c := range []struct{ url, target string }{
		{"mysql://root@192.0.2.5/test", "192.0.2.5:3306"},
		{"root@tcp(198.51.100.1:3307)/test", "198.51.100.1:3307"},
	} {
		_, err := eng.Exec(ctx, "CREATE SINK o WITH (connector = 'mysql', url = '"+c.url+"', table = 't') AS SELECT v FROM p")
		wantAccessError(t, c.url, err, c.target)
	}
	_, err := eng.Exec(ctx, "CREATE SINK o WITH (connector = 'kafka', brokers = 'broker.example.com:9092', topic = 't') AS SELECT v FROM p")
	wantAccessError(t, "kafka sink", err, "broker.example.com:9092")
}

// TestNoAccessPolicyKeepsTodaysFreedom: without Options.Access nothing is refused.
func TestNoAccessPolicyKeepsTodaysFreedom(t *testing.T) {
	eng, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	f := filepath.Join(t.TempDir(), "x.txt")
	os.WriteFile(f, []byte("hello\n"), 0o600)
	mustExec(t, eng, "CREATE TABLE x (v VARCHAR) WITH (connector = 'file', path = '"+f+"', format = 'text')")
	if got := query(t, eng, "SELECT v FROM x"); strings.Join(got, ",") != "hello" {
		t.Fatalf("got %v", got)
	}
}

// queryError is the failure of a continuous query ("" while it runs).
func queryError(eng *Engine, name string) string {
	for _, q := range eng.Queries() {
		if q.Name == name {
			return q.Error
		}
	}
	return ""
}
