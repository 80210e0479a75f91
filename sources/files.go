package sources

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
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
	if err := opts.Access.CheckPath(path); err != nil {
		return nil, err
	}
	files, err := ListFiles(path)
	if err != nil {
		return nil, err
	}
	return &multiDecoder{files: files, open: open, access: opts.Access}, nil
}

// ListFiles expands path as OpenFiles does: a file is itself, a directory its visible regular
// files, a glob its visible matches; the result is in name order. A directory written by the files
// sink (it has a _streamsql/manifest subdirectory) lists only the files its manifests name, in
// epoch order: files of epochs that have not committed are invisible.
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

// sinkManifestDir is where the files sink (sinks.Files) records committed epochs under its output
// directory: one JSON manifest per epoch, {"epoch": N, "files": ["part-...", ...]}, named by the
// epoch number.
const sinkManifestDir = "_streamsql/manifest"

// committedFiles returns the base names listed by dir's sink manifests, in epoch order (and in
// manifest order within an epoch), and whether dir has a manifest directory at all. When it has
// one, those files are the only ones readers see: a data file that no manifest names belongs to an
// epoch that has not committed. Names in the manifest directory that are not epoch numbers
// (temporary files) are ignored; a manifest that cannot be read or parsed, or that names anything
// but a visible base name, is an error naming it.
func committedFiles(dir string) ([]string, bool, error) {
	mdir := filepath.Join(dir, filepath.FromSlash(sinkManifestDir))
	entries, err := os.ReadDir(mdir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, fmt.Errorf("source path %q: reading the sink manifests: %w", dir, err)
	}
	type manifest struct {
		epoch int64
		name  string
	}
	var ms []manifest
	for _, e := range entries {
		if n, err := strconv.ParseInt(e.Name(), 10, 64); err == nil && n >= 0 && e.Type().IsRegular() {
			ms = append(ms, manifest{n, e.Name()})
		}
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].epoch < ms[j].epoch })
	var names []string
	for _, m := range ms {
		p := filepath.Join(mdir, m.name)
		body, err := os.ReadFile(p)
		if err != nil {
			return nil, true, fmt.Errorf("source path %q: reading manifest %q: %w", dir, p, err)
		}
		var content struct {
			Files []string `json:"files"`
		}
		if err := json.Unmarshal(body, &content); err != nil {
			return nil, true, fmt.Errorf("source path %q: manifest %q is not valid JSON: %v", dir, p, err)
		}
		for _, n := range content.Files {
			if n == "" || n != filepath.Base(n) || hiddenName(n) {
				return nil, true, fmt.Errorf("source path %q: manifest %q names %q, which is not a visible file name", dir, p, n)
			}
			names = append(names, n)
		}
	}
	return names, true, nil
}

func listDir(dir string) ([]string, error) {
	names, managed, err := committedFiles(dir)
	if err != nil {
		return nil, err
	}
	if managed {
		files := make([]string, len(names))
		for i, n := range names {
			files[i] = filepath.Join(dir, n)
			if st, err := os.Stat(files[i]); err != nil || !st.Mode().IsRegular() {
				return nil, fmt.Errorf("source path %q: committed file %q, named in a sink manifest, is missing or not a regular file", dir, files[i])
			}
		}
		return files, nil
	}
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
	files  []string
	next   int // index of the next file to open
	open   func(r io.Reader, name string) (Decoder, error)
	file   *os.File
	cur    Decoder
	err    error
	access *Access
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
			f, err := openChecked(m.access, m.files[m.next])
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
