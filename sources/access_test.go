package sources

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAccessConnectPatterns(t *testing.T) {
	resolve := func(host string) ([]net.IP, error) {
		switch host {
		case "internal.example.com":
			return []net.IP{net.ParseIP("10.0.0.7")}, nil
		case "split.example.com":
			return []net.IP{net.ParseIP("10.0.0.8"), net.ParseIP("8.8.8.8")}, nil
		}
		return nil, errors.New("no such host")
	}
	a := &Access{Connect: []string{"loopback:*", "db.example.com:5432", "*.corp.example:9092", "10.0.0.0/8:6432", "[fd00::/8]:*"}, Resolve: resolve}
	if err := a.Check(); err != nil {
		t.Fatal(err)
	}
	for addr, ok := range map[string]bool{
		"127.0.0.1:5432": true, "127.3.4.5:1": true, "[::1]:9092": true, "localhost:80": true,
		"db.example.com:5432": true, "DB.Example.COM:5432": true, "db.example.com:5433": false,
		"a.corp.example:9092": true, "corp.example:9092": false, "a.corp.example:9093": false,
		"10.1.2.3:6432": true, "10.1.2.3:5432": false, "internal.example.com:6432": true,
		"split.example.com:6432": false, // one address outside the block
		"[fd12::1]:80":           true, "169.254.169.254:80": false, "8.8.8.8:53": false, "nosuch.invalid:6432": false,
		"not-an-address": false,
	} {
		err := a.CheckAddr(addr)
		if (err == nil) != ok {
			t.Errorf("CheckAddr(%s) = %v, want allowed=%v", addr, err, ok)
		}
		var ae *AccessError
		if err != nil && (!errors.As(err, &ae) || ae.SQLState() != "42501") {
			t.Errorf("CheckAddr(%s): not an AccessError: %v", addr, err)
		}
	}
	for _, bad := range []string{"nohost", "db:0", "db:x", ":5432", "300.0.0.0/8:1"} {
		if err := (&Access{Connect: []string{bad}}).Check(); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("pattern %q: %v", bad, err)
		}
	}
	if err := (*Access)(nil).CheckAddr("8.8.8.8:53"); err != nil {
		t.Errorf("nil policy: %v", err)
	}
}

func TestAccessFileRootsResolveLinks(t *testing.T) {
	root, out := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(out, "s"), []byte("x"), 0o600)
	os.Symlink(out, filepath.Join(root, "dirlink"))
	os.Symlink(filepath.Join(out, "s"), filepath.Join(root, "filelink"))
	// A root that is itself reached through a link still contains its files.
	linkedRoot := filepath.Join(t.TempDir(), "lr")
	os.Symlink(root, linkedRoot)
	a := &Access{FileRoots: []string{linkedRoot}}
	for p, ok := range map[string]bool{
		filepath.Join(root, "new", "deeper", "file"): true, // not existing yet: a sink's output
		filepath.Join(root, "*.csv"):                 true,
		root:                                         true,
		filepath.Join(root, "dirlink", "s"):          false,
		filepath.Join(root, "filelink"):              false,
		filepath.Join(root, "..", "x"):               false,
		root + "-sibling":                            false,
		"/":                                          false,
	} {
		if err := a.CheckPath(p); (err == nil) != ok {
			t.Errorf("CheckPath(%s) = %v, want allowed=%v", p, err, ok)
		}
	}
	if err := (&Access{FileRoots: []string{}}).CheckPath(root); err == nil {
		t.Error("an empty root list allowed a file")
	}
}
