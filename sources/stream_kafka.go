package sources

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/internal/redact"
)

// kafkaDefaultTimeout is how long Latest waits for the brokers and Read waits without receiving
// anything, unless the timeout option says otherwise.
const kafkaDefaultTimeout = 30 * time.Second

// kafkaPollMs is the longest single Poll; context cancellation is noticed within it.
const kafkaPollMs = 100

// kafkaManaged are the librdkafka properties the connector sets itself; a kafka.<property>
// option may not override them because replay and offset tracking depend on them.
var kafkaManaged = map[string]string{
	"bootstrap.servers":        "use option brokers",
	"metadata.broker.list":     "use option brokers",
	"enable.auto.commit":       "offsets are tracked by the engine's offset log",
	"enable.auto.offset.store": "offsets are tracked by the engine's offset log",
	"auto.offset.reset":        "use option starting_offsets",
	"isolation.level":          "the connector always reads committed records only",
	"enable.partition.eof":     "the connector needs end-of-partition events",
}

// kafkaStream is the "kafka" connector: a replayable source over one topic. See openKafka.
type kafkaStream struct {
	frozen   map[int32]int64 // partition end offsets at Freeze (available_now); nil otherwise
	name     string
	topic    string
	brokers  string
	schema   *arrow.Schema
	mem      memory.Allocator
	format   string
	earliest bool          // starting_offsets = earliest
	maxPer   int64         // max_offsets_per_trigger; 0 means no limit
	timeout  time.Duration // broker requests (Latest) and idle reads (Read)
	opts     DecodeOptions // batch_size, delimiter; bufSize tiny (values are decoded in place)
	secrets  []string      // option values that must never appear in an error
	// parallelism > 1 decodes a Read's messages on that many goroutines while the consumer is
	// polled on another (stream_kafka_parallel.go); rows and bad records are those of 1.
	parallelism int

	roles       []kafkaRole   // per schema field
	valueSchema *arrow.Schema // the fields filled from the message value, in schema order

	mu       sync.Mutex // serializes use of consumer
	consumer *kafka.Consumer
	closed   bool
}

// kafkaRole says where a column's values come from.
type kafkaRole uint8

const (
	roleValue kafkaRole = iota
	roleKey
	roleTopic
	rolePartition
	roleOffset
	roleTimestamp
)

// kafkaMetaColumns are the metadata columns recognised by name, with their required types.
var kafkaMetaColumns = []struct {
	name string
	role kafkaRole
	typ  arrow.DataType
}{
	{"key", roleKey, exec.String},
	{"topic", roleTopic, exec.String},
	{"partition", rolePartition, exec.Int64},
	{"offset", roleOffset, exec.Int64},
	{"timestamp", roleTimestamp, exec.Timestamp},
}

// openKafka opens the "kafka" connector: a replayable stream over one Kafka topic.
//
// Options:
//
//	brokers                   required: bootstrap servers, comma-separated host:port
//	topic                     required: the topic to read (all its partitions)
//	format                    json (default), csv or text: how a message value becomes a row
//	starting_offsets          latest (default) or earliest: where a query without offsets starts
//	max_offsets_per_trigger   optional: at most this many offsets per micro-batch, all partitions together
//	timeout                   how long Latest waits for the brokers and Read waits without receiving
//	                          a message, as an interval ('30 seconds', the default)
//	batch_size                rows per emitted record (default DefaultBatchSize)
//	delimiter                 csv only: the field separator
//	kafka.<property>          passed to librdkafka as <property> (e.g. kafka.security.protocol,
//	                          kafka.sasl.password); the properties the connector manages are refused
//
// Columns named key (VARCHAR), topic (VARCHAR), partition (BIGINT), offset (BIGINT) and timestamp
// (TIMESTAMP, the message's timestamp, NULL when the broker has none) are filled from the message's
// metadata, case-insensitively; a column with one of these names and another type is an error.
// Every other column comes from the message value: json decodes one JSON object per message and
// csv one CSV record per message (see the package documentation for both; a value may span lines),
// text keeps the raw value in the single remaining VARCHAR column (typically named value). A
// tombstone (null value) gives NULL in every value column, and so does a blank value for json and
// csv. A NULL key is NULL; a key or text value that is not valid UTF-8 is an error.
//
// Offsets are tracked by the engine, never committed to Kafka: an Offset is
// {"<partition>": next offset to read, ...} over every partition of the topic, keys in numeric
// order. A partition that is not in an offset (created after it) starts at its earliest offset.
// Latest asks the brokers for each partition's watermarks; the end is the high watermark (for
// read-committed consumers librdkafka reports the last stable offset) unless
// max_offsets_per_trigger caps it: the cap is shared in proportion to what each partition has
// available (rounded down), and the units left by rounding go one per partition round-robin,
// starting at partition (sum of the start offsets) mod (number of partitions) so no partition is
// always last. Offsets deleted by retention before they were read are an error, not skipped.
//
// Read assigns the consumer to the range's partitions at their exact start offsets (no group
// subscription, no commits, the group.id "streamsql-<source name>" only because librdkafka
// requires one; kafka.group.id overrides it), with isolation.level=read_committed so records of
// aborted transactions are skipped, and fetch.wait.max.ms=10 (overridable) because reads end at
// exact offsets, usually at the end of a partition. Rows come in partition order, then offset
// order, so reading a range again yields the same rows. A Read that receives nothing for the
// timeout fails, naming the partition and the offset reached. With StreamConfig.Parallelism > 1
// the messages are decoded on that many goroutines, BatchSize messages per task, while the
// consumer is polled (stream_kafka_parallel.go); the rows and bad records are those of
// parallelism 1. Commit keeps nothing and does nothing. Close closes the consumer.
func openKafka(cfg StreamConfig) (Stream, error) {
	cfg = cfg.withDefaults()
	plain := StreamConfig{Name: cfg.Name, Options: map[string]string{}}
	var secrets []string
	for k, v := range cfg.Options {
		if sensitiveOption(k) && v != "" {
			secrets = append(secrets, v)
		}
		if !strings.HasPrefix(k, "kafka.") {
			plain.Options[k] = v
		}
	}
	if err := plain.CheckOptions("brokers", "topic", "format", "starting_offsets", "max_offsets_per_trigger",
		"timeout", "batch_size", "delimiter", "kafka.<property>"); err != nil {
		return nil, err
	}
	s := &kafkaStream{name: cfg.Name, schema: cfg.Schema, mem: cfg.Mem, secrets: secrets, parallelism: cfg.Parallelism}
	for _, req := range []string{"brokers", "topic"} {
		if strings.TrimSpace(cfg.Options[req]) == "" {
			return nil, fmt.Errorf("source %s: the kafka connector needs option %s", cfg.Name, req)
		}
	}
	var brokers []string
	for _, b := range strings.Split(cfg.Options["brokers"], ",") {
		if b = strings.TrimSpace(b); b != "" {
			if err := cfg.Access.CheckAddr(b); err != nil {
				return nil, fmt.Errorf("source %s: option brokers: %w", cfg.Name, err)
			}
			brokers = append(brokers, b)
		}
	}
	s.brokers = strings.Join(brokers, ",")
	s.topic = strings.TrimSpace(cfg.Options["topic"])

	switch f := strings.ToLower(strings.TrimSpace(cfg.Option("format", "json"))); f {
	case "json", "csv", "text":
		s.format = f
	default:
		return nil, fmt.Errorf("source %s: format must be json, csv or text, got '%s'", cfg.Name, cfg.Options["format"])
	}
	if _, ok := cfg.Options["delimiter"]; ok && s.format != "csv" {
		return nil, fmt.Errorf("source %s: option delimiter applies to format csv only", cfg.Name)
	}
	switch v := strings.ToLower(strings.TrimSpace(cfg.Option("starting_offsets", "latest"))); v {
	case "earliest":
		s.earliest = true
	case "latest":
	default:
		return nil, fmt.Errorf("source %s: starting_offsets must be earliest or latest, got '%s'", cfg.Name, cfg.Options["starting_offsets"])
	}
	var err error
	if s.maxPer, err = cfg.optionInt("max_offsets_per_trigger", 0, 1, 1<<62, "a positive integer"); err != nil {
		return nil, err
	}
	s.timeout = kafkaDefaultTimeout
	if v, ok := cfg.Options["timeout"]; ok {
		us, err := exec.ParseInterval(v)
		if err != nil || us < 1000 {
			return nil, fmt.Errorf("source %s: timeout must be an interval of at least 1 millisecond such as '30 seconds', got '%s'", cfg.Name, v)
		}
		s.timeout = time.Duration(us) * time.Microsecond
	}
	if s.opts, err = cfg.decodeOptions(); err != nil {
		return nil, err
	}
	if s.opts, err = s.opts.normalized(); err != nil {
		return nil, fmt.Errorf("source %s: %v", cfg.Name, err)
	}
	s.opts.bufSize = minBufSize // decoders parse message values in place and never read

	if err := s.bindSchema(); err != nil {
		return nil, err
	}
	// Check the value columns against the decoder now rather than at the first Read.
	rows, err := s.newRows()
	if err != nil {
		return nil, err
	}
	rows.release()

	conf := kafka.ConfigMap{
		"bootstrap.servers":        s.brokers,
		"group.id":                 "streamsql-" + cfg.Name,
		"enable.auto.commit":       false,
		"enable.auto.offset.store": false,
		"auto.offset.reset":        "error",
		"isolation.level":          "read_committed",
		"enable.partition.eof":     true,
		// Reads stop at exact offsets, often at the end of a partition, where a fetch waits this
		// long on the broker and delays the next request on the connection. The consumer is only
		// assigned during Read, so a short wait costs nothing between micro-batches.
		"fetch.wait.max.ms": 10,
	}
	for k, v := range cfg.Options {
		prop, ok := strings.CutPrefix(k, "kafka.")
		if !ok {
			continue
		}
		if why, managed := kafkaManaged[prop]; managed {
			return nil, fmt.Errorf("source %s: option %s cannot be set: %s", cfg.Name, k, why)
		}
		if prop == "" {
			return nil, fmt.Errorf("source %s: option %s names no librdkafka property", cfg.Name, k)
		}
		conf[prop] = v
	}
	c, err := kafka.NewConsumer(&conf)
	if err != nil {
		return nil, fmt.Errorf("source %s: cannot create the Kafka consumer: %s", cfg.Name, s.redact(err.Error()))
	}
	s.consumer = c
	return s, nil
}

// sensitiveOption reports whether an option's value must never be shown.
func sensitiveOption(key string) bool {
	k := strings.ToLower(key)
	return strings.Contains(k, "password") || strings.Contains(k, "secret") || strings.Contains(k, "sasl") ||
		strings.Contains(k, "key.pem") || strings.Contains(k, "keystore") // inline private keys
}

// redact replaces every sensitive option value in msg.
func (s *kafkaStream) redact(msg string) string {
	return redact.Values(msg, s.secrets)
}

// errorf builds an error naming the source, with sensitive option values removed.
func (s *kafkaStream) errorf(format string, args ...any) error {
	return errors.New(s.redact(fmt.Sprintf("source %s: ", s.name) + fmt.Sprintf(format, args...)))
}

// bindSchema assigns each declared column its role and builds the value schema.
func (s *kafkaStream) bindSchema() error {
	if s.schema == nil || s.schema.NumFields() == 0 {
		return fmt.Errorf("source %s: a streaming source needs at least one column", s.name)
	}
	s.roles = make([]kafkaRole, s.schema.NumFields())
	var values []arrow.Field
	for i, f := range s.schema.Fields() {
		s.roles[i] = roleValue
		for _, m := range kafkaMetaColumns {
			if !strings.EqualFold(f.Name, m.name) {
				continue
			}
			if !arrow.TypeEqual(f.Type, m.typ) {
				return fmt.Errorf("source %s: column %s is Kafka metadata and must be %s, not %s (rename the column to read a value field of that name)",
					s.name, f.Name, exec.TypeName(m.typ), exec.TypeName(f.Type))
			}
			s.roles[i] = m.role
		}
		if s.roles[i] == roleValue {
			values = append(values, f)
		}
	}
	s.valueSchema = arrow.NewSchema(values, nil)
	if s.format == "text" && (len(values) != 1 || values[0].Type.ID() != arrow.STRING) {
		return fmt.Errorf("source %s: format text fills one VARCHAR column (e.g. value VARCHAR) besides the metadata columns key, topic, partition, offset, timestamp; got (%s)",
			s.name, schemaString(s.valueSchema))
	}
	return nil
}

// Schema returns the declared schema.
func (s *kafkaStream) Schema() *arrow.Schema { return s.schema }

// kafkaOffsets maps a partition to the next offset to read.
type kafkaOffsets map[int32]int64

// encode renders {"<partition>": offset, ...} with partitions in numeric order, so equal offsets
// have equal bytes.
func (o kafkaOffsets) encode() Offset {
	parts := make([]int32, 0, len(o))
	for p := range o {
		parts = append(parts, p)
	}
	slices.Sort(parts)
	var b strings.Builder
	b.WriteByte('{')
	for i, p := range parts {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + strconv.FormatInt(int64(p), 10) + `":` + strconv.FormatInt(o[p], 10))
	}
	b.WriteByte('}')
	return Offset(b.String())
}

// parseKafkaOffsets decodes an Offset made by encode; nil or empty is nil (no offsets yet).
func (s *kafkaStream) parseOffsets(off Offset) (kafkaOffsets, error) {
	if len(bytes.TrimSpace(off)) == 0 {
		return nil, nil
	}
	var m map[string]json.Number
	d := json.NewDecoder(bytes.NewReader(off))
	d.UseNumber()
	if err := d.Decode(&m); err != nil || m == nil {
		return nil, fmt.Errorf("source %s: invalid Kafka offset %s (expected {\"<partition>\": offset, ...})", s.name, off)
	}
	out := make(kafkaOffsets, len(m))
	for k, v := range m {
		p, err1 := strconv.ParseInt(k, 10, 32)
		n, err2 := strconv.ParseInt(string(v), 10, 64)
		if err1 != nil || err2 != nil || p < 0 || n < 0 {
			return nil, fmt.Errorf("source %s: invalid Kafka offset %s: entry \"%s\": %s is not a partition number and an offset >= 0", s.name, off, k, v)
		}
		out[int32(p)] = n
	}
	return out, nil
}

// deadline is the earlier of now + timeout and ctx's deadline.
func (s *kafkaStream) deadline(ctx context.Context) time.Time {
	d := time.Now().Add(s.timeout)
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		return cd
	}
	return d
}

// remainingMs is the time left until deadline in milliseconds, at least 1.
func remainingMs(deadline time.Time) int {
	return max(1, int(time.Until(deadline).Milliseconds()))
}

// partitions returns the topic's partition ids in order, retrying transient metadata errors (a
// topic just created has no leader yet) until deadline.
func (s *kafkaStream) partitions(ctx context.Context, deadline time.Time) ([]int32, error) {
	topic := s.topic
	var last error
	for {
		if err := ctx.Err(); err != nil {
			return nil, s.errorf("reading the metadata of topic %q: %v", topic, err)
		}
		md, err := s.consumer.GetMetadata(&topic, false, remainingMs(deadline))
		if err == nil {
			tm, ok := md.Topics[topic]
			switch {
			case !ok:
				err = fmt.Errorf("the brokers did not describe the topic")
			case tm.Error.Code() == kafka.ErrUnknownTopicOrPart || tm.Error.Code() == kafka.ErrUnknownTopic:
				return nil, s.errorf("topic %q does not exist on brokers %s", topic, s.brokers)
			case tm.Error.Code() == kafka.ErrTopicAuthorizationFailed:
				return nil, s.errorf("not authorized to read topic %q: %v", topic, tm.Error)
			case tm.Error.Code() != kafka.ErrNoError:
				err = tm.Error
			case len(tm.Partitions) == 0:
				err = fmt.Errorf("the topic has no partitions yet")
			default:
				parts := make([]int32, len(tm.Partitions))
				for i, p := range tm.Partitions {
					parts[i] = p.ID
				}
				slices.Sort(parts)
				return parts, nil
			}
		}
		last = err
		if !time.Now().Before(deadline) {
			return nil, s.errorf("cannot read the metadata of topic %q from brokers %s within %s: %v", topic, s.brokers, s.timeout, last)
		}
		time.Sleep(min(50*time.Millisecond, time.Until(deadline)))
	}
}

// watermarks returns a partition's low and high watermarks.
func (s *kafkaStream) watermarks(p int32, deadline time.Time) (low, high int64, err error) {
	low, high, err = s.consumer.QueryWatermarkOffsets(s.topic, p, remainingMs(deadline))
	if err != nil {
		return 0, 0, s.errorf("cannot query the offsets of topic %q partition %d from brokers %s within %s: %v", s.topic, p, s.brokers, s.timeout, err)
	}
	return low, high, nil
}

// Latest returns the end of the next batch: every partition's high watermark, or less under
// max_offsets_per_trigger. It blocks at most the timeout option (or until ctx is done).
func (s *kafkaStream) Latest(ctx context.Context, from Offset) (Offset, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("source %s: stream is closed", s.name)
	}
	prev, err := s.parseOffsets(from)
	if err != nil {
		return nil, err
	}
	deadline := s.deadline(ctx)
	parts, err := s.partitions(ctx, deadline)
	if err != nil {
		return nil, err
	}
	for p := range prev {
		if _, ok := slices.BinarySearch(parts, p); !ok {
			return nil, s.errorf("offset %s names partition %d but topic %q has partitions 0..%d (was the topic deleted and re-created?)",
				from, p, s.topic, parts[len(parts)-1])
		}
	}
	start := make([]int64, len(parts))
	avail := make([]int64, len(parts))
	for i, p := range parts {
		low, high, err := s.watermarks(p, deadline)
		if err != nil {
			return nil, err
		}
		if s.frozen != nil {
			// Frozen (available_now): nothing written after Freeze, and no partition added since.
			high = min(high, max(low, s.frozen[p]))
		}
		o, ok := prev[p]
		switch {
		case from == nil && !s.earliest:
			start[i] = high
		case !ok:
			start[i] = low
		case o > high:
			return nil, s.errorf("topic %q partition %d: offset %d is beyond the end of the partition (%d); was the topic deleted and re-created?",
				s.topic, p, o, high)
		case o < low:
			return nil, s.errorf("topic %q partition %d: offsets %d..%d were deleted (retention) before they were read; the partition now starts at %d",
				s.topic, p, o, low-1, low)
		default:
			start[i] = o
		}
		avail[i] = high - start[i]
	}
	take := shareOffsets(avail, start, s.maxPer)
	end := make(kafkaOffsets, len(parts))
	for i, p := range parts {
		end[p] = start[i] + take[i]
	}
	return end.encode(), nil
}

// shareOffsets decides how many of avail[i] offsets each partition reads when at most limit may
// be read in all (limit 0: no limit). Each partition gets floor(limit*avail/total); the remainder
// goes one unit at a time round-robin, beginning at index (sum of start) mod len(avail), to
// partitions with offsets left.
func shareOffsets(avail, start []int64, limit int64) []int64 {
	take := slices.Clone(avail)
	var total int64
	for _, a := range avail {
		total += a
	}
	if limit == 0 || total <= limit {
		return take
	}
	var used, sum int64
	for i, a := range avail {
		// limit < total, so limit*a/total < a fits, and the 128-bit quotient cannot overflow.
		hi, lo := bits.Mul64(uint64(limit), uint64(a))
		q, _ := bits.Div64(hi, lo, uint64(total))
		t := int64(q)
		take[i] = t
		used += t
		sum += start[i]
	}
	n := int64(len(avail))
	for i := sum % n; used < limit; i = (i + 1) % n {
		if take[i] < avail[i] {
			take[i]++
			used++
		}
	}
	return take
}

// Read emits the messages of [from, to) in partition order, then offset order, as records of the
// declared schema. emit borrows each record. A partition missing from from starts at its earliest
// offset, except at the very start (from nil) with starting_offsets latest, where the range is
// empty by definition.
func (s *kafkaStream) Read(ctx context.Context, from, to Offset, emit func(arrow.RecordBatch) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("source %s: stream is closed", s.name)
	}
	prev, err := s.parseOffsets(from)
	if err != nil {
		return err
	}
	end, err := s.parseOffsets(to)
	if err != nil {
		return err
	}
	for p := range prev {
		if _, ok := end[p]; !ok {
			return s.errorf("invalid range %s to %s: partition %d is missing from the end", from, to, p)
		}
	}
	parts := make([]int32, 0, len(end))
	for p := range end {
		parts = append(parts, p)
	}
	slices.Sort(parts)

	var ranges []kafkaRange
	for _, p := range parts {
		stop := end[p]
		begin, ok := prev[p]
		switch {
		case ok:
		case from == nil && !s.earliest:
			begin = stop
		default:
			low, _, err := s.watermarks(p, s.deadline(ctx))
			if err != nil {
				return err
			}
			if low > stop {
				return s.errorf("topic %q partition %d: offsets before %d were deleted (retention) before they were read; the partition now starts at %d",
					s.topic, p, stop, low)
			}
			begin = low
		}
		if begin > stop {
			return s.errorf("invalid range %s to %s: partition %d starts at %d, after its end %d", from, to, p, begin, stop)
		}
		if begin < stop {
			ranges = append(ranges, kafkaRange{p: p, begin: begin, stop: stop, next: begin})
		}
	}
	if len(ranges) == 0 {
		return nil
	}
	defer func() { _ = s.consumer.Unassign() }()
	if s.parallelism > 1 {
		return s.readParallel(ctx, ranges, emit)
	}
	rows, err := s.newRows()
	if err != nil {
		return err
	}
	defer rows.release()
	err = s.readRanges(ctx, ranges, func(m *kafka.Message) error {
		if err := rows.add(m, int64(m.TopicPartition.Offset)); err != nil {
			return err
		}
		if rows.n >= s.opts.BatchSize {
			return rows.emit(emit)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if rows.n > 0 {
		return rows.emit(emit)
	}
	return nil
}

// kafkaRange is the part [begin, stop) of one partition that a Read covers, and its progress.
type kafkaRange struct {
	p                 int32
	begin, stop, next int64
	done              bool
	pending           []*kafka.Message // received while an earlier partition is still being read
}

// readRanges hands the messages of every range to deliver in range order (partition order), then
// offset order; an error of deliver ends the read with it. All partitions are assigned at once so
// that their fetches overlap; the messages of a partition that is not yet the current one wait in its pending list
// (so a Read holds at most its whole range in memory: max_offsets_per_trigger bounds it).
// Offsets without a message (transaction markers, aborted records) are passed over: a partition
// is done at its first message at or beyond stop, or at an end-of-partition event at or beyond
// stop.
func (s *kafkaStream) readRanges(ctx context.Context, ranges []kafkaRange, deliver func(*kafka.Message) error) error {
	topic := s.topic
	assign := make([]kafka.TopicPartition, len(ranges))
	index := make(map[int32]int, len(ranges))
	for i, r := range ranges {
		assign[i] = kafka.TopicPartition{Topic: &topic, Partition: r.p, Offset: kafka.Offset(r.begin)}
		index[r.p] = i
	}
	if err := s.consumer.Assign(assign); err != nil {
		return s.errorf("cannot assign topic %q partitions at offsets %v: %v", topic, assign, err)
	}
	cur := 0
	// advance moves cur past finished ranges, adding the pending messages of each new current one.
	advance := func() error {
		for cur < len(ranges) && ranges[cur].done {
			cur++
			if cur < len(ranges) {
				for _, m := range ranges[cur].pending {
					if err := deliver(m); err != nil {
						return err
					}
				}
				ranges[cur].pending = nil
			}
		}
		return nil
	}
	idle := time.Now().Add(s.timeout)
	var lastErr error
	for cur < len(ranges) {
		if err := ctx.Err(); err != nil {
			return s.errorf("reading topic %q: %v", topic, err)
		}
		if time.Now().After(idle) {
			r := ranges[cur]
			why := ""
			if lastErr != nil {
				why = fmt.Sprintf("; last client error: %v", lastErr)
			}
			return s.errorf("timed out after %s reading topic %q partition %d offsets %d..%d: reached offset %d (brokers %s unreachable, or a transaction still open?)%s",
				s.timeout, topic, r.p, r.begin, r.stop-1, r.next, s.brokers, why)
		}
		switch e := s.consumer.Poll(kafkaPollMs).(type) {
		case *kafka.Message:
			tp := e.TopicPartition
			i, ok := index[tp.Partition]
			if tp.Topic == nil || *tp.Topic != topic || !ok {
				continue // left over from an earlier assignment
			}
			r := &ranges[i]
			if tp.Error != nil {
				return s.partitionError(r.p, r.next, tp.Error)
			}
			off := int64(tp.Offset)
			if r.done || off < r.next {
				continue
			}
			idle = time.Now().Add(s.timeout)
			if off >= r.stop {
				r.done = true
				break
			}
			r.next = off + 1
			r.done = r.next >= r.stop
			if i != cur {
				r.pending = append(r.pending, e)
				continue
			}
			if err := deliver(e); err != nil {
				return err
			}
		case kafka.PartitionEOF:
			if i, ok := index[e.Partition]; ok && e.Topic != nil && *e.Topic == topic && int64(e.Offset) >= ranges[i].stop {
				ranges[i].done = true
			}
		case kafka.Error:
			if e.IsFatal() || e.Code() == kafka.ErrAutoOffsetReset || e.Code() == kafka.ErrOffsetOutOfRange {
				return s.partitionError(ranges[cur].p, ranges[cur].next, e)
			}
			lastErr = e
		}
		if err := advance(); err != nil {
			return err
		}
	}
	return nil
}

// partitionError reports a consumer error while reading partition p at offset next.
func (s *kafkaStream) partitionError(p int32, next int64, err error) error {
	var ke kafka.Error
	if errors.As(err, &ke) && (ke.Code() == kafka.ErrAutoOffsetReset || ke.Code() == kafka.ErrOffsetOutOfRange) {
		return s.errorf("topic %q partition %d: offset %d is no longer available (deleted by retention, or the topic was re-created): %v",
			s.topic, p, next, err)
	}
	return s.errorf("reading topic %q partition %d at offset %d: %v", s.topic, p, next, err)
}

// Commit does nothing: the connector keeps no data, and offsets live in the engine's offset log.
func (s *kafkaStream) Commit(end Offset) error { return nil }

// Close closes the consumer. Later calls of Latest and Read fail; Close again is a no-op.
func (s *kafkaStream) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if err := s.consumer.Close(); err != nil {
		return s.errorf("closing the Kafka consumer: %v", err)
	}
	return nil
}

// KafkaRecordError reports a Kafka message that does not fit the declared schema. Err holds the
// decoder's diagnosis with Path "<topic>/<partition>" and Line the message's offset (one message
// is one record); it is also what the OnError policy receives.
type KafkaRecordError struct {
	Source    string
	Topic     string
	Partition int32
	Offset    int64
	Err       *RecordError
}

// Error reads like `source s: topic "t" partition 1 offset 7: column "x": invalid BIGINT "abc"`.
func (e *KafkaRecordError) Error() string {
	msg := fmt.Sprintf("source %s: topic %q partition %d offset %d: ", e.Source, e.Topic, e.Partition, e.Offset)
	if e.Err.Column != "" {
		return msg + fmt.Sprintf("column %q: %s", e.Err.Column, e.Err.Reason)
	}
	return msg + e.Err.Reason
}

func (e *KafkaRecordError) Unwrap() error { return e.Err }

// kafkaRows accumulates one output batch. Value columns are decoded by the package's JSON or CSV
// decoder, called one message at a time on the message's bytes (no copy, no line splitting), so a
// value may contain line breaks and each message yields exactly one row or an error. The
// metadata columns are filled alongside. emit hands the batch over; release frees the buffers of
// an unfinished batch.
type kafkaRows struct {
	s     *kafkaStream
	json  *jsonDecoder // format json, when there are value columns
	csv   *csvDecoder  // format csv, when there are value columns
	text  *column      // format text
	vals  []*column    // the value columns, in valueSchema order
	meta  []*column    // per schema field; nil for value columns
	in    input        // the csv decoder's view of the current message
	n     int
	topic []byte
	// onError is the policy add applies to a message that does not decode: the source's
	// OnError, or a parallel task's collector (see taskOutput).
	onError func(*RecordError) error
}

func (s *kafkaStream) newRows() (*kafkaRows, error) {
	r := &kafkaRows{s: s, meta: make([]*column, len(s.roles)), topic: []byte(s.topic), onError: s.opts.OnError}
	opts := s.opts
	opts.Mem = s.mem
	opts.OnError = nil // the decoders only diagnose; add applies the policy to whole messages
	if s.valueSchema.NumFields() > 0 {
		switch s.format {
		case "json":
			d, err := newJSONDecoder(nil, "", s.valueSchema, opts)
			if err != nil {
				return nil, fmt.Errorf("source %s: %v", s.name, err)
			}
			r.json, r.vals = d, d.cols
		case "csv":
			d, err := newCSVDecoder(nil, "", s.valueSchema, opts)
			if err != nil {
				return nil, fmt.Errorf("source %s: %v", s.name, err)
			}
			d.in = &r.in
			r.csv, r.vals = d, d.cols
		case "text":
			cols, err := newColumns(s.valueSchema, opts)
			if err != nil {
				return nil, fmt.Errorf("source %s: %v", s.name, err)
			}
			r.text, r.vals = cols[0], cols
		}
	}
	for i, role := range s.roles {
		if role != roleValue {
			c, err := newColumn(s.schema.Field(i), s.mem, opts.BatchSize)
			if err != nil {
				return nil, fmt.Errorf("source %s: %v", s.name, err)
			}
			r.meta[i] = c
		}
	}
	return r, nil
}

// add appends message m (at offset off) as one row. A message that does not decode is handed to
// the OnError policy (r.onError: StreamConfig.OnError or a task's collector) with every column
// rolled back: when it returns nil the
// message is dropped, else add returns its error. Without a policy the *KafkaRecordError is
// returned.
func (r *kafkaRows) add(m *kafka.Message, off int64) error {
	err := r.addRow(m, off)
	if err == nil {
		return nil
	}
	var ke *KafkaRecordError
	if onError := r.onError; onError != nil && errors.As(err, &ke) && !ke.Err.fatal {
		return onError(ke.Err)
	}
	return err
}

// addRow appends message m as one row, or leaves every column as it was and returns a
// *KafkaRecordError.
func (r *kafkaRows) addRow(m *kafka.Message, off int64) error {
	s := r.s
	wrap := func(re *RecordError) error {
		re.Path = s.topic + "/" + strconv.FormatInt(int64(m.TopicPartition.Partition), 10)
		re.Line = off
		re.Raw = truncRaw(m.Value)
		re.fatal = re.fatal || re.Reason == reasonBatchFull
		return &KafkaRecordError{Source: s.name, Topic: s.topic, Partition: m.TopicPartition.Partition, Offset: off, Err: re}
	}
	fail := func(col, reason string) error {
		return wrap(&RecordError{Column: col, Reason: reason})
	}
	for i, c := range r.meta {
		if c != nil && s.roles[i] == roleKey && m.Key != nil && !utf8.Valid(m.Key) {
			return fail(c.name, "message key is not valid UTF-8 "+quoteRaw(m.Key))
		}
	}
	if err := r.decodeValue(m.Value); err != nil {
		var re *RecordError
		if errors.As(err, &re) {
			return wrap(re)
		}
		return fail("", err.Error())
	}
	for i, c := range r.meta {
		if c == nil {
			continue
		}
		ok := true
		switch s.roles[i] {
		case roleKey:
			if m.Key == nil {
				c.appendNull()
			} else {
				ok = c.appendString(m.Key)
			}
		case roleTopic:
			ok = c.appendString(r.topic)
		case rolePartition:
			c.appendInt64(int64(m.TopicPartition.Partition))
		case roleOffset:
			c.appendInt64(off)
		case roleTimestamp:
			if m.TimestampType == kafka.TimestampNotAvailable || m.Timestamp.IsZero() {
				c.appendNull()
			} else {
				c.appendInt64(m.Timestamp.UnixMicro())
			}
		}
		if !ok {
			return fail(c.name, reasonBatchFull)
		}
	}
	r.n++
	return nil
}

// decodeValue appends the value columns of one message; a nil or blank value is a row of NULLs.
func (r *kafkaRows) decodeValue(v []byte) error {
	switch {
	case r.json != nil:
		d := r.json
		rows := d.rows
		if err := d.decodeLine(v); err != nil {
			return err
		}
		if d.rows == rows {
			r.appendNulls()
			d.rows++
		}
	case r.csv != nil:
		d := r.csv
		r.in = input{buf: v, end: len(v), eof: true, started: true}
		got := false
		for r.in.pos < r.in.end {
			next, _, st, reason := d.scan()
			switch st {
			case scanBlank:
				r.in.pos = next
				continue
			case scanErr:
				return d.fail("", r.in.buf[r.in.pos:next], reason)
			case scanMore:
				return d.fail("", v, "incomplete CSV record")
			}
			if got {
				d.rows--
				return d.fail("", d.recordText(next), "the message holds more than one CSV record")
			}
			if err := d.convert(next); err != nil {
				return err
			}
			r.in.pos = next
			got = true
		}
		r.in = input{}
		if !got {
			r.appendNulls()
			d.rows++
		}
	case r.text != nil:
		c := r.text
		switch {
		case v == nil:
			c.appendNull()
		case !utf8.Valid(v):
			return &RecordError{Column: c.name, Raw: truncRaw(v), Reason: "invalid UTF-8 in VARCHAR " + quoteRaw(v)}
		case !c.appendString(v):
			return &RecordError{Column: c.name, Raw: truncRaw(v), Reason: reasonBatchFull}
		}
	}
	return nil
}

func (r *kafkaRows) appendNulls() {
	for _, c := range r.vals {
		c.appendNull()
	}
}

// emit builds the batch's record, hands it to emit and releases it.
func (r *kafkaRows) emit(emit func(arrow.RecordBatch) error) error {
	s := r.s
	arrs := make([]arrow.Array, len(s.roles))
	vi := 0
	for i, role := range s.roles {
		if role == roleValue {
			arrs[i] = r.vals[vi].finish()
			vi++
		} else {
			arrs[i] = r.meta[i].finish()
		}
	}
	rec := array.NewRecordBatch(s.schema, arrs, int64(r.n))
	for _, a := range arrs {
		a.Release()
	}
	r.n = 0
	if r.json != nil {
		r.json.rows = 0
	}
	if r.csv != nil {
		r.csv.rows = 0
	}
	defer rec.Release()
	return emit(rec)
}

// release frees the buffers of an unfinished batch.
func (r *kafkaRows) release() {
	for _, c := range r.vals {
		c.release()
	}
	for _, c := range r.meta {
		if c != nil {
			c.release()
		}
	}
	r.n = 0
}

// Freeze records every partition's end offset now; Latest never goes past them afterwards.
func (s *kafkaStream) Freeze(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	deadline := s.deadline(ctx)
	parts, err := s.partitions(ctx, deadline)
	if err != nil {
		return err
	}
	frozen := make(map[int32]int64, len(parts))
	for _, p := range parts {
		_, high, err := s.watermarks(p, deadline)
		if err != nil {
			return err
		}
		frozen[p] = high
	}
	s.frozen = frozen
	return nil
}
