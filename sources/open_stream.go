package sources

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Connectors lists the values of the "connector" option OpenStream accepts.
var Connectors = []string{"datagen", "files", "kafka", "nexmark", "push", "socket"}

// OpenStream opens the streaming source cfg.Options["connector"] names:
//
//	files    new files in a directory, each read once (see FileStream)
//	socket   lines read from a TCP server, like `nc -lk 9999` (see SocketStream)
//	datagen  generated rows at a rate, deterministic per row (see DatagenStream)
//	push     rows handed in through the Go API (see PushStream)
//	kafka    a Kafka topic
//
// A nil cfg.Mem means memory.DefaultAllocator and a nil cfg.Clock means time.Now. Every connector
// rejects options it does not know, naming the valid ones.
func OpenStream(cfg StreamConfig) (Stream, error) {
	cfg = cfg.withDefaults()
	if cfg.Schema == nil || cfg.Schema.NumFields() == 0 {
		return nil, fmt.Errorf("source %s: a streaming source needs at least one column", cfg.Name)
	}
	connector, ok := cfg.Options["connector"]
	if !ok {
		return nil, fmt.Errorf("source %s: missing option connector (valid: %s)", cfg.Name, strings.Join(Connectors, ", "))
	}
	switch strings.ToLower(strings.TrimSpace(connector)) {
	case "files":
		return NewFileStream(cfg)
	case "socket":
		return NewSocketStream(cfg)
	case "datagen":
		return NewDatagenStream(cfg)
	case "push":
		return NewPushStream(cfg)
	case "kafka":
		return openKafka(cfg)
	case "nexmark":
		return NewNexmarkStream(cfg)
	}
	return nil, fmt.Errorf("source %s: unknown connector %q (valid: %s)", cfg.Name, connector, strings.Join(Connectors, ", "))
}

// withDefaults fills in a nil Mem, Clock and Options.
func (c StreamConfig) withDefaults() StreamConfig {
	if c.Mem == nil {
		c.Mem = memory.DefaultAllocator
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Options == nil {
		c.Options = map[string]string{}
	}
	return c
}

// optionInt parses an integer option in [lo, hi], returning def when it is absent. what describes
// the accepted range for the error, e.g. "a positive integer".
func (c StreamConfig) optionInt(key string, def, lo, hi int64, what string) (int64, error) {
	v, ok := c.Options[key]
	if !ok {
		return def, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("source %s: %s must be %s, got '%s'", c.Name, key, what, v)
	}
	return n, nil
}

// optionFloat parses a number option in [lo, hi], returning def when it is absent.
func (c StreamConfig) optionFloat(key string, def, lo, hi float64, what string) (float64, error) {
	v, ok := c.Options[key]
	if !ok {
		return def, nil
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || !(f >= lo && f <= hi) {
		return 0, fmt.Errorf("source %s: %s must be %s, got '%s'", c.Name, key, what, v)
	}
	return f, nil
}

// decodeOptions reads the decoder options (header, delimiter, batch_size) with errors naming the
// source, allocating from c.Mem, with c.OnError as the bad-record policy.
func (c StreamConfig) decodeOptions() (DecodeOptions, error) {
	o, err := ParseDecodeOptions(c.Options)
	if err != nil {
		return o, fmt.Errorf("source %s: %v", c.Name, err)
	}
	o.Mem = c.Mem
	o.OnError = c.OnError
	return o, nil
}

// checkSingleVarchar fails unless the declared schema is exactly one VARCHAR column.
func (c StreamConfig) checkSingleVarchar(connector string) error {
	s := c.Schema
	if s.NumFields() != 1 || s.Field(0).Type.ID() != arrow.STRING {
		return fmt.Errorf("source %s: the %s connector produces one VARCHAR column (e.g. value VARCHAR), not (%s)",
			c.Name, connector, schemaString(s))
	}
	return nil
}

// countOffset encodes the offsets of sources that count things: {"<key>": n}.
// latestCount is what a counting source's Latest returns: from itself when nothing is new (nil
// stays nil, so the driver sees no data before the first row), else the count offset.
func latestCount(key string, from Offset, start, end int64) Offset {
	if end == start {
		return from
	}
	return countOffset(key, end)
}

func countOffset(key string, n int64) Offset {
	return Offset(`{"` + key + `":` + strconv.FormatInt(n, 10) + `}`)
}

// parseCountOffset decodes an offset made by countOffset; nil or empty is 0 (the very start).
func parseCountOffset(source, key string, off Offset) (int64, error) {
	if len(off) == 0 {
		return 0, nil
	}
	var m map[string]json.Number
	d := json.NewDecoder(strings.NewReader(string(off)))
	d.UseNumber()
	err := d.Decode(&m)
	v, ok := m[key]
	if err == nil && ok && len(m) == 1 {
		n, perr := strconv.ParseInt(string(v), 10, 64)
		if perr == nil && n >= 0 {
			return n, nil
		}
	}
	return 0, fmt.Errorf("source %s: invalid offset %s (expected {\"%s\": N} with N >= 0)", source, off, key)
}

// parseRange decodes a Read range and checks from <= to.
func parseRange(source, key string, from, to Offset) (int64, int64, error) {
	a, err := parseCountOffset(source, key, from)
	if err != nil {
		return 0, 0, err
	}
	b, err := parseCountOffset(source, key, to)
	if err != nil {
		return 0, 0, err
	}
	if a > b {
		return 0, 0, fmt.Errorf("source %s: invalid range: start %s is after end %s", source, from, to)
	}
	return a, b, nil
}
