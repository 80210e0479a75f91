package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"
)

// historyLimit is how many entries the history file keeps; older ones are dropped when it is
// loaded.
const historyLimit = 1000

// historyFile is the REPL's readline history source, kept in a file of one JSON object per entry
// ({"datetime": ..., "block": ...}, the format of readline's own file source), so a multi-line
// statement stays one entry and Up recalls it whole. Entries are ordered oldest first, as
// readline's Source contract expects (GetLine(Len()-1) is the newest). The \q that ends a session
// is not recorded, so Up in the next session recalls the last real statement.
type historyFile struct {
	path    string
	entries []string
}

type historyEntry struct {
	DateTime time.Time `json:"datetime"`
	Block    string    `json:"block"`
}

// loadHistory reads path; a missing file is an empty history. Unreadable lines are skipped. When
// the file holds more than historyLimit entries it is rewritten with the newest ones.
func loadHistory(path string) (*historyFile, error) {
	h := &historyFile{path: path}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return h, nil
	}
	if err != nil {
		return h, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	var items []historyEntry
	for sc.Scan() {
		var e historyEntry
		if json.Unmarshal(sc.Bytes(), &e) == nil && strings.TrimSpace(e.Block) != "" {
			items = append(items, e)
		}
	}
	if len(items) > historyLimit {
		items = items[len(items)-historyLimit:]
		var buf bytes.Buffer
		for _, e := range items {
			line, err := json.Marshal(e)
			if err != nil {
				return h, err
			}
			buf.Write(line)
			buf.WriteByte('\n')
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
			return h, fmt.Errorf("trimming history file: %w", err)
		}
	}
	for _, e := range items {
		h.entries = append(h.entries, e.Block)
	}
	return h, nil
}

// Write appends an accepted input (trimmed) to the history and the file, unless it is empty, \q,
// or the same as the newest entry. It returns the number of entries.
func (h *historyFile) Write(line string) (int, error) {
	block := strings.TrimSpace(line)
	if block == "" || block == `\q` || (len(h.entries) > 0 && h.entries[len(h.entries)-1] == block) {
		return len(h.entries), nil
	}
	h.entries = append(h.entries, block)
	data, err := json.Marshal(historyEntry{DateTime: time.Now().UTC(), Block: block})
	if err != nil {
		return len(h.entries), err
	}
	f, err := os.OpenFile(h.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return len(h.entries), fmt.Errorf("saving history: %w", err)
	}
	_, err = f.Write(append(data, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return len(h.entries), fmt.Errorf("saving history: %w", err)
	}
	return len(h.entries), nil
}

// GetLine returns entry pos, 0 being the oldest.
func (h *historyFile) GetLine(pos int) (string, error) {
	if pos < 0 || pos >= len(h.entries) {
		return "", fmt.Errorf("history entry %d out of range (have %d)", pos, len(h.entries))
	}
	return h.entries[pos], nil
}

// Len is the number of entries.
func (h *historyFile) Len() int { return len(h.entries) }

// Dump returns the entries, oldest first.
func (h *historyFile) Dump() interface{} { return h.entries }
