package web

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestDistIsCurrent rebuilds the console from web/src into a temporary directory and compares
// it with the committed dist/, which the binary embeds: a change to the sources without
// `make web` fails here instead of shipping a stale console.
func TestDistIsCurrent(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found: cannot check that web/dist matches web/src")
	}
	vite := filepath.Join("node_modules", "vite", "bin", "vite.js")
	if _, err := os.Stat(vite); err != nil {
		t.Skip("web/node_modules is missing (cd web && npm ci): cannot check that web/dist matches web/src")
	}
	out := t.TempDir()
	cmd := exec.Command(node, vite, "build", "--outDir", out, "--emptyOutDir", "--logLevel", "warn")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("vite build: %v\n%s", err, b)
	}
	built, committed := files(t, os.DirFS(out)), files(t, Dist)
	for name, b := range built {
		if c, ok := committed[name]; !ok || !bytes.Equal(b, c) {
			t.Errorf("web/dist/%s is missing or differs from a build of web/src: run make web and commit web/dist", name)
		}
	}
	for name := range committed {
		if _, ok := built[name]; !ok {
			t.Errorf("web/dist/%s is not produced by web/src any more: run make web and commit web/dist", name)
		}
	}
}

func files(t *testing.T, fsys fs.FS) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		m[p] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(m) == 0 {
		t.Fatal("no files")
	}
	return m
}
