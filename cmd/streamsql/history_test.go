package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestHistoryFilePersistsBlocks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history")
	h, err := loadHistory(path)
	if err != nil || h.Len() != 0 {
		t.Fatalf("loading a missing file: len %d, err %v; want an empty history", h.Len(), err)
	}
	for _, in := range []string{"CREATE TABLE t (\n  a BIGINT);\n", "SELECT 1;", "SELECT 1;", "  ", `\q`, `\d t`} {
		if _, err := h.Write(in); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"CREATE TABLE t (\n  a BIGINT);", "SELECT 1;", `\d t`}
	if !slices.Equal(h.entries, want) {
		t.Errorf("entries = %q, want %q", h.entries, want)
	}
	again, err := loadHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(again.entries, want) {
		t.Errorf("reloaded entries = %q, want %q", again.entries, want)
	}
	if last, err := again.GetLine(again.Len() - 1); err != nil || last != `\d t` {
		t.Errorf("newest entry = %q, %v; want \\d t", last, err)
	}
	if _, err := again.GetLine(3); err == nil {
		t.Error("GetLine(3) of 3 entries succeeded, want an out-of-range error")
	}
}

func TestHistoryFileTrimmedOnLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history")
	var sb strings.Builder
	sb.WriteString("not json\n")
	for i := 0; i < historyLimit+5; i++ {
		fmt.Fprintf(&sb, "{\"datetime\":\"2024-01-01T00:00:00Z\",\"block\":\"SELECT %d;\"}\n", i)
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	h, err := loadHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	if h.Len() != historyLimit || h.entries[0] != "SELECT 5;" || h.entries[historyLimit-1] != fmt.Sprintf("SELECT %d;", historyLimit+4) {
		t.Fatalf("len %d, first %q, last %q; want the newest %d entries", h.Len(), h.entries[0], h.entries[h.Len()-1], historyLimit)
	}
	again, err := loadHistory(path)
	if err != nil || !slices.Equal(again.entries, h.entries) {
		t.Errorf("rewritten file reloads as %d entries (err %v), want the same %d", again.Len(), err, h.Len())
	}
}
