package streamsql

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/streamsql/streamsql/sql"
	"github.com/streamsql/streamsql/state"
)

// durableCatalog is the engine's catalog on disk (Options.DurableCatalog): DataDir/catalog.json
// lists every table, source, sink and materialized view created by a statement, in creation
// order, with the statement's text, so Open re-runs them in an order in which every object
// comes after what it reads. A sink or view also records whether STOP QUERY stopped it or it
// failed, so it comes back that way.
//
// The file is rewritten whole on every change (a temporary file, fsync, rename, fsync of the
// directory): a reader sees the old catalog or the new one, never half of one. Its last line is
// a CRC-32C of the bytes before it, so a truncated file or a flipped byte is refused at Open,
// naming the file, instead of silently forgetting objects. The statement text holds what the
// user typed, connection URLs and their passwords included; the file is therefore created with
// mode 0600 in a directory of mode 0700, the protection the checkpoints (which hold the same
// statements) have.
type durableCatalog struct {
	dir  string // the data directory
	path string // dir/catalog.json
	log  *slog.Logger
	// snapshotAfter: a table's write-ahead log larger than this is folded into a new snapshot.
	snapshotAfter int64

	mu  sync.Mutex
	doc catalogDoc
	// restored names the objects Open brought back: a plain CREATE of one with the same
	// definition is a no-op (a script re-run on its data directory), see checkRecreate.
	restored map[string]bool
	// unrestored holds the sinks and views Open could not start (an unreachable database, a
	// damaged checkpoint), with the reason: they stay in the catalog, SHOW QUERIES lists them
	// as failed, an identical CREATE tries again and DROP forgets them.
	unrestored map[string]string
	wals       map[string]*tableWAL // in-memory tables' logs, by table name
}

type catalogDoc struct {
	Format  int            `json:"format"`
	NextID  int64          `json:"next_id"`
	Objects []catalogEntry `json:"objects"`
}

// catalogEntry is one object. Kind is a sql.ObjectKind ("TABLE", "SOURCE", "SINK",
// "MATERIALIZED VIEW"); ID names a table's row directory (tables/<id>), so any table name can
// be stored; Status is "" for a query that runs, "stopped" or "failed" (with Error).
type catalogEntry struct {
	ID     int64  `json:"id"`
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	SQL    string `json:"sql"`
	Status string `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
}

const (
	catalogFileName = "catalog.json"
	catalogFormat   = 1
	catalogTrailer  = "#streamsql-crc32c:"
	// defaultSnapshotAfter is the write-ahead log size past which a table is snapshotted.
	defaultSnapshotAfter = 16 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// openDurableCatalog reads dir/catalog.json (an absent file is an empty catalog), creating dir
// with mode 0700 if needed.
func openDurableCatalog(dir string, log *slog.Logger) (*durableCatalog, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	c := &durableCatalog{dir: dir, path: filepath.Join(dir, catalogFileName), log: log, snapshotAfter: defaultSnapshotAfter,
		doc: catalogDoc{Format: catalogFormat, NextID: 1}, restored: map[string]bool{}, unrestored: map[string]string{}, wals: map[string]*tableWAL{}}
	b, err := os.ReadFile(c.path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("catalog file %s: %w", c.path, err)
	}
	body, err := verifyTrailer(b)
	if err != nil {
		return nil, fmt.Errorf("catalog file %s is damaged: %v; restore it from a backup, or move it away to start with an empty catalog (the checkpoints and table rows stay in %s)", c.path, err, dir)
	}
	var doc catalogDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("catalog file %s is damaged: %v", c.path, err)
	}
	if doc.Format != catalogFormat {
		return nil, fmt.Errorf("catalog file %s has format %d; this version of streamsql reads format %d", c.path, doc.Format, catalogFormat)
	}
	c.doc = doc
	return c, nil
}

// verifyTrailer checks the checksum line ending b and returns the bytes before it.
func verifyTrailer(b []byte) ([]byte, error) {
	s := string(b)
	if !strings.HasSuffix(s, "\n") {
		return nil, errors.New("it does not end with its checksum line (truncated?)")
	}
	i := strings.LastIndex(s[:len(s)-1], "\n")
	last := s[i+1 : len(s)-1]
	if !strings.HasPrefix(last, catalogTrailer) {
		return nil, errors.New("it does not end with its checksum line (truncated?)")
	}
	want, err := strconv.ParseUint(strings.TrimPrefix(last, catalogTrailer), 16, 32)
	if err != nil {
		return nil, errors.New("its checksum line is unreadable")
	}
	body := b[:i+1]
	if got := crc32.Checksum(body, castagnoli); uint32(want) != got {
		return nil, fmt.Errorf("checksum mismatch (recorded %08x, content %08x)", want, got)
	}
	return body, nil
}

// entries returns a copy of the objects, in creation order.
func (c *durableCatalog) entries() []catalogEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]catalogEntry{}, c.doc.Objects...)
}

// entry finds an object by name.
func (c *durableCatalog) entry(name string) (catalogEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.doc.Objects {
		if e.Name == name {
			return e, true
		}
	}
	return catalogEntry{}, false
}

// add records a created object and returns its entry (with its id).
func (c *durableCatalog) add(kind sql.ObjectKind, name, text string) (catalogEntry, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := catalogEntry{ID: c.doc.NextID, Kind: string(kind), Name: name, SQL: strings.TrimSpace(text)}
	doc := c.doc
	doc.NextID++
	doc.Objects = append(append([]catalogEntry{}, c.doc.Objects...), e)
	if err := c.saveLocked(doc); err != nil {
		return catalogEntry{}, err
	}
	return e, nil
}

// remove forgets an object (DROP); a name the catalog does not hold is no error.
func (c *durableCatalog) remove(name string) (catalogEntry, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.restored, name)
	delete(c.unrestored, name)
	for i, e := range c.doc.Objects {
		if e.Name == name {
			doc := c.doc
			doc.Objects = append(append([]catalogEntry{}, c.doc.Objects[:i]...), c.doc.Objects[i+1:]...)
			return e, true, c.saveLocked(doc)
		}
	}
	return catalogEntry{}, false, nil
}

// snapshot returns the catalog as it is, for restore.
func (c *durableCatalog) snapshot() catalogDoc {
	c.mu.Lock()
	defer c.mu.Unlock()
	doc := c.doc
	doc.Objects = append([]catalogEntry{}, c.doc.Objects...)
	return doc
}

// restore writes back a catalog taken by snapshot (a statement that failed after changing it).
func (c *durableCatalog) restore(doc catalogDoc) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.saveLocked(doc)
}

// unrestoredReason says why Open could not start a sink or view ("" if it did).
func (c *durableCatalog) unrestoredReason(name string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.unrestored[name]
}

// unrestoredNames lists the sinks and views Open could not start, with the reasons.
func (c *durableCatalog) unrestoredList() []catalogEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []catalogEntry
	for _, e := range c.doc.Objects {
		if reason, ok := c.unrestored[e.Name]; ok {
			e.Error = reason
			out = append(out, e)
		}
	}
	return out
}

// setStatus records that a query was stopped or failed ("" again: it runs).
func (c *durableCatalog) setStatus(name, status, errText string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, e := range c.doc.Objects {
		if e.Name == name && (e.Kind == string(sql.KindSink) || e.Kind == string(sql.KindMaterializedView)) {
			if e.Status == status && e.Error == errText {
				return nil
			}
			doc := c.doc
			doc.Objects = append([]catalogEntry{}, c.doc.Objects...)
			doc.Objects[i].Status, doc.Objects[i].Error = status, errText
			return c.saveLocked(doc)
		}
	}
	return nil
}

// saveLocked writes doc as the new catalog file and, once it is durable, makes it current.
func (c *durableCatalog) saveLocked(doc catalogDoc) error {
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	body := append(b, '\n')
	body = fmt.Appendf(body, "%s%08x\n", catalogTrailer, crc32.Checksum(body, castagnoli))
	if err := writeFileAtomic(c.path, body); err != nil {
		return fmt.Errorf("catalog file %s: %w", c.path, err)
	}
	c.doc = doc
	return nil
}

// writeFileAtomic replaces path with data (state.WriteFileAtomic: a 0600 temporary file, fsync,
// rename, fsync of the directory).
func writeFileAtomic(path string, data []byte) error {
	return state.WriteFileAtomic(path, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}

// tableDir is where a table's snapshot and write-ahead log live.
func (c *durableCatalog) tableDir(id int64) string {
	return filepath.Join(c.dir, "tables", strconv.FormatInt(id, 10))
}

// removeOrphanTables deletes row directories no catalog entry names: a table dropped by a
// process that died before it removed them.
func (c *durableCatalog) removeOrphanTables() error {
	entries, err := os.ReadDir(filepath.Join(c.dir, "tables"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	live := map[string]bool{}
	for _, e := range c.entries() {
		if e.Kind == string(sql.KindTable) {
			live[strconv.FormatInt(e.ID, 10)] = true
		}
	}
	var errs []error
	for _, d := range entries {
		if !live[d.Name()] {
			errs = append(errs, os.RemoveAll(filepath.Join(c.dir, "tables", d.Name())))
		}
	}
	return errors.Join(errs...)
}

// close closes the tables' logs (Engine.Close); the files stay.
func (c *durableCatalog) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for name, w := range c.wals {
		errs = append(errs, w.close())
		delete(c.wals, name)
	}
	return errors.Join(errs...)
}

// normalizeStatement is a statement's text with comments and the layout of whitespace removed
// and bare words in lower case, so two spellings of one definition compare equal.
func normalizeStatement(text string) string {
	var b strings.Builder
	for _, t := range sql.Lex(text) {
		if t.Kind == sql.TokEOF || t.IsOp(";") {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		if t.Kind == sql.TokIdent {
			b.WriteString(strings.ToLower(t.Text))
		} else {
			b.WriteString(t.Text)
		}
	}
	return b.String()
}
