package sources

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// OpenFiles reads a file, a directory (its regular files in name order, skipping names that start
// with '.' or '_', not descending into subdirectories) or a glob pattern (matches in name order,
// with the same skipping; matched directories are read like a directory) in the given format
// ("csv", "json" or "text") as one record stream. The file list is fixed when OpenFiles is called;
// files are opened one at a time as the stream reaches them. Batches never span two files, and
// RecordErrors name the file. For "text", schema may be nil (a "value" VARCHAR column) or any
// schema of one VARCHAR column.
func OpenFiles(path, format string, schema *arrow.Schema, opts DecodeOptions) (Decoder, error) {
	format = strings.ToLower(strings.TrimSpace(format))
	var open func(r io.Reader, name string) (Decoder, error)
	switch format {
	case "csv":
		open = func(r io.Reader, name string) (Decoder, error) { return newCSVDecoder(r, name, schema, opts) }
	case "json":
		open = func(r io.Reader, name string) (Decoder, error) { return newJSONDecoder(r, name, schema, opts) }
	case "text":
		open = func(r io.Reader, name string) (Decoder, error) { return newTextDecoder(r, name, schema, opts) }
	default:
		return nil, fmt.Errorf("unknown file format %q (supported: csv, json, text)", format)
	}
	// Validate the schema and options before touching the file system, with an empty input.
	probe, err := open(strings.NewReader(""), path)
	if err != nil {
		return nil, err
	}
	probe.Close()
	files, err := ListFiles(path)
	if err != nil {
		return nil, err
	}
	return &multiDecoder{files: files, open: open}, nil
}

// ListFiles expands path as OpenFiles does: a file is itself, a directory its visible regular
// files, a glob its visible matches; the result is in name order.
func ListFiles(path string) ([]string, error) {
	st, err := os.Stat(path)
	switch {
	case err == nil && st.IsDir():
		return listDir(path)
	case err == nil && st.Mode().IsRegular():
		return []string{path}, nil
	case err == nil:
		return nil, fmt.Errorf("source path %q is not a regular file or directory", path)
	case !strings.ContainsAny(path, "*?["):
		return nil, fmt.Errorf("source path %q: %w", path, err)
	}
	matches, gerr := filepath.Glob(path)
	if gerr != nil {
		return nil, fmt.Errorf("source path %q: invalid glob pattern: %v", path, gerr)
	}
	var files []string
	for _, m := range matches {
		if hiddenName(filepath.Base(m)) {
			continue
		}
		st, err := os.Stat(m)
		if err != nil {
			return nil, fmt.Errorf("source path %q: %w", m, err)
		}
		switch {
		case st.IsDir():
			sub, err := listDir(m)
			if err != nil {
				return nil, err
			}
			files = append(files, sub...)
		case st.Mode().IsRegular():
			files = append(files, m)
		}
	}
	if len(matches) == 0 {
		return nil, fmt.Errorf("source path %q: no files match the pattern", path)
	}
	return files, nil
}

func hiddenName(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")
}

func listDir(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("source path %q: %w", dir, err)
	}
	var files []string
	for _, e := range entries {
		if hiddenName(e.Name()) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		st, err := os.Stat(p) // follows symlinks
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		files = append(files, p)
	}
	sort.Strings(files)
	return files, nil
}

// multiDecoder chains one decoder per file.
type multiDecoder struct {
	files []string
	next  int // index of the next file to open
	open  func(r io.Reader, name string) (Decoder, error)
	file  *os.File
	cur   Decoder
	err   error
}

func (m *multiDecoder) Next() (arrow.RecordBatch, error) {
	if m.err != nil {
		return nil, m.err
	}
	for {
		if m.cur == nil {
			if m.next == len(m.files) {
				return nil, io.EOF
			}
			f, err := os.Open(m.files[m.next])
			if err != nil {
				m.err = fmt.Errorf("opening source file: %w", err)
				return nil, m.err
			}
			m.next++
			d, err := m.open(f, f.Name())
			if err != nil {
				f.Close()
				m.err = err
				return nil, err
			}
			m.file, m.cur = f, d
		}
		rec, err := m.cur.Next()
		if err == io.EOF {
			m.closeCurrent()
			continue
		}
		if err != nil {
			m.err = err
			return nil, err
		}
		return rec, nil
	}
}

func (m *multiDecoder) closeCurrent() error {
	if m.cur == nil {
		return nil
	}
	m.cur.Close()
	err := m.file.Close()
	m.cur, m.file = nil, nil
	return err
}

// Close closes the open file and releases the current decoder's buffers.
func (m *multiDecoder) Close() error {
	err := m.closeCurrent()
	if m.err == nil {
		m.err = errClosed
	}
	return err
}
