package state

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/cockroachdb/pebble/v2"
)

// SpillStore is an operator's on-disk overflow: the groups a memory budget pushed out of memory,
// as key/value pairs in an embedded Pebble database (an LSM tree) in a directory of its own.
//
// It is a cache, not durable state: checkpoints hold the operator's whole state (memory and
// spilled groups alike), so the store is written without a write-ahead log or fsync, and
// OpenSpillStore empties the directory it is given (what a crashed run left there is of no use:
// restore rebuilds the spilled part from the checkpoint). Close removes the directory.
//
// Not safe for concurrent use: one operator, on its query's goroutine, owns it.
type SpillStore struct {
	dir string
	db  *pebble.DB
	// writes and reads count the pairs written and found since the store opened.
	writes, reads int64
}

// spillCacheBytes is Pebble's block cache per store: spilled groups are read back at random,
// so a large cache would only hold what the budget pushed out of memory; Pebble's own files are
// what the operating system's page cache keeps.
const spillCacheBytes = 8 << 20

// OpenSpillStore creates an empty store in dir (removing whatever was there).
func OpenSpillStore(dir string) (*SpillStore, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("spill store: clearing %s: %w", dir, err)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return nil, fmt.Errorf("spill store: %w", err)
	}
	cache := pebble.NewCache(spillCacheBytes)
	defer cache.Unref()
	db, err := pebble.Open(dir, &pebble.Options{
		Cache:        cache,
		DisableWAL:   true, // a cache: a crash loses nothing a checkpoint does not hold
		MemTableSize: 16 << 20,
		Logger:       quietLogger{},
	})
	if err != nil {
		return nil, fmt.Errorf("spill store: opening %s: %w", dir, err)
	}
	return &SpillStore{dir: dir, db: db}, nil
}

// Dir is the store's directory.
func (s *SpillStore) Dir() string { return s.dir }

// Write stores the pairs keys[i] -> vals[i] and deletes the keys dels, in one batch. The slices
// are copied; the caller may reuse them once Write returns.
func (s *SpillStore) Write(keys, vals, dels [][]byte) error {
	if len(keys) != len(vals) {
		return fmt.Errorf("spill store: %d keys for %d values", len(keys), len(vals))
	}
	if len(keys) == 0 && len(dels) == 0 {
		return nil
	}
	b := s.db.NewBatch()
	defer b.Close()
	for i, k := range keys {
		if err := b.Set(k, vals[i], nil); err != nil {
			return fmt.Errorf("spill store: %w", err)
		}
	}
	for _, k := range dels {
		if err := b.Delete(k, nil); err != nil {
			return fmt.Errorf("spill store: %w", err)
		}
	}
	if err := s.db.Apply(b, pebble.NoSync); err != nil {
		return fmt.Errorf("spill store: writing %d groups: %w", len(keys), err)
	}
	s.writes += int64(len(keys))
	return nil
}

// Lookup finds keys (in any order) and calls found(i, value) for each keys[i] present, in key
// order; value is valid only during the call. One iterator serves the whole batch: sorted
// seeks move forward through the tree, so a batch of misses costs about one pass over the blocks
// that hold them rather than one independent search each.
func (s *SpillStore) Lookup(keys [][]byte, found func(i int, val []byte) error) error {
	if len(keys) == 0 {
		return nil
	}
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return bytes.Compare(keys[order[a]], keys[order[b]]) < 0 })
	it, err := s.db.NewIter(nil)
	if err != nil {
		return fmt.Errorf("spill store: %w", err)
	}
	for _, i := range order {
		if !it.SeekGE(keys[i]) {
			break
		}
		if !bytes.Equal(it.Key(), keys[i]) {
			continue
		}
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return fmt.Errorf("spill store: %w", err)
		}
		s.reads++
		if err := found(i, v); err != nil {
			it.Close()
			return err
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("spill store: %w", err)
	}
	return nil
}

// Scan calls fn for every pair in key order; key and value are valid only during the call.
func (s *SpillStore) Scan(fn func(key, val []byte) error) error {
	it, err := s.db.NewIter(nil)
	if err != nil {
		return fmt.Errorf("spill store: %w", err)
	}
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return fmt.Errorf("spill store: %w", err)
		}
		if err := fn(it.Key(), v); err != nil {
			it.Close()
			return err
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("spill store: %w", err)
	}
	return nil
}

// Writes and Reads count the pairs written and found since the store opened.
func (s *SpillStore) Writes() int64 { return s.writes }
func (s *SpillStore) Reads() int64  { return s.reads }

// DiskBytes is the size of the store's files.
func (s *SpillStore) DiskBytes() int64 {
	m := s.db.Metrics()
	return int64(m.DiskSpaceUsage())
}

// Close closes the database and removes its directory.
func (s *SpillStore) Close() error {
	if s.db == nil {
		return nil
	}
	err := s.db.Close()
	s.db = nil
	if rerr := os.RemoveAll(s.dir); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("spill store: closing %s: %w", s.dir, err)
	}
	return nil
}

// quietLogger keeps Pebble's informational lines out of the engine's output; a fatal error is
// still a panic inside Pebble, as its contract says.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf("spill store: "+format, args...))
}
