package sinks

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/internal/redact"
)

// kafkaSinkTimeout bounds each broker interaction (InitTransactions, reading the commit markers,
// committing or aborting a transaction) unless option timeout says otherwise.
const kafkaSinkTimeout = 30 * time.Second

// kafkaSinkManaged are librdkafka properties the sink sets itself; exactly-once depends on them.
var kafkaSinkManaged = map[string]string{
	"bootstrap.servers":    "use option brokers",
	"metadata.broker.list": "use option brokers",
	"enable.idempotence":   "a transactional producer is always idempotent",
	"isolation.level":      "commit markers are always read committed",
	"go.delivery.reports":  "delivery is checked by CommitTransaction",
}

// Kafka is the "kafka" sink connector: each epoch's rows become messages on one topic, committed
// exactly once with Kafka transactions.
//
// Options:
//
//	brokers           required: bootstrap servers, comma-separated host:port
//	topic             required: the topic the rows go to
//	format            json (default: one JSON object per row, the values of WriteJSON) or csv
//	                  (one CSV record per row without header, NULL as an empty field)
//	key_columns       optional: comma-separated output columns forming the message key; one
//	                  column gives its text (NULL: no key), several a JSON object (json) or a CSV
//	                  record (csv) of their values; default none (no key), and in update mode
//	                  with keys the query's key columns (then key_columns must name exactly them)
//	commit_topic      where commit markers go; default <topic>__streamsql_commits
//	timeout           how long each broker interaction may take, as an interval ('30 seconds')
//	kafka.<property>  passed to librdkafka (kafka.security.protocol, kafka.sasl.password, ...);
//	                  the properties the sink manages are refused; kafka.transactional.id
//	                  overrides the default "streamsql-<query>"
//
// Exactly-once design. The producer is transactional with a transactional.id that depends only on
// the query name, so a restarted query uses the same one. Open calls InitTransactions, which
// fences any earlier producer with that id and aborts the transaction it left open, and then reads
// the commit topic's partition 0 from the beginning to its end with a read_committed consumer:
// the highest epoch among the markers keyed by the query name is the last committed epoch.
// Write(epoch) skips epochs at or below it. Otherwise it begins a transaction, produces the rows,
// produces the marker (key: the query name; value: {"query": ..., "epoch": N, "topic": ...}) to
// partition 0 of the commit topic, and commits: rows and marker become visible to read_committed
// consumers together or not at all. On any error it aborts the transaction and returns the error,
// and the epoch is written again on the next attempt. Readers of the topic must use
// isolation.level=read_committed (the streamsql kafka source does); read_uncommitted readers may
// see rows of aborted attempts. The commit topic should be compacted (one marker per query is
// enough); the sink does not create it, so the cluster must auto-create topics or an
// administrator must create it.
//
// Update mode. The epoch's changes are consolidated (ConsolidateByKey). With keys (a GROUP BY),
// the topic is a changelog of the result table, as a compacted topic expects: an upsert is a
// message whose key is the row's key and whose value is the row; a delete is a tombstone, a
// message with that key and no value (null); a delete whose single key column is NULL (no message
// key) fails the epoch, as a tombstone without a key deletes nothing. Without keys (a stateless query), every message is
// a change record: the row plus a last field weight, 1 for an inserted copy and -1 for a deleted
// one ({"k": "a", "n": 2, "weight": -1} in json, a,2,-1 in csv). Append and complete mode write
// the rows as they are.
//
// Option values whose name contains password, secret or sasl never appear in errors or logs.
type Kafka struct {
	query       string
	topic       string
	commitTopic string
	brokers     string
	format      string
	keyNames    []string
	timeout     time.Duration
	conf        kafka.ConfigMap
	secrets     []string
	logger      *slog.Logger

	schema    *arrow.Schema
	mode      OutputMode
	keys      []int // the query's key columns (update mode)
	keyCols   []int
	fieldKeys [][]byte      // JSON-encoded column names of the message values (weight included when written)
	valSchema *arrow.Schema // schema of the message values: schema, or ChangeSchema for keyless update
	producer  *kafka.Producer
	done      chan struct{} // closed when the event drain ends
	last      int64         // last committed epoch; -1 when none
}

// NewKafka opens the "kafka" sink connector; see Kafka.
func NewKafka(cfg Config) (Sink, error) {
	if err := checkConnectorOptions("kafka", cfg, "brokers", "topic", "format", "key_columns", "commit_topic", "timeout", "kafka.<property>"); err != nil {
		return nil, err
	}
	k := &Kafka{query: cfg.Query, timeout: kafkaSinkTimeout, logger: cfg.Logger, last: -1}
	if k.logger == nil {
		k.logger = slog.New(slog.DiscardHandler)
	}
	if strings.TrimSpace(cfg.Query) == "" {
		return nil, fmt.Errorf("kafka sink: a query name is needed (it makes the transactional.id)")
	}
	for _, req := range []string{"brokers", "topic"} {
		if strings.TrimSpace(cfg.Options[req]) == "" {
			return nil, fmt.Errorf("sink %s: the kafka connector needs option %s", cfg.Query, req)
		}
	}
	var brokers []string
	for _, b := range strings.Split(cfg.Options["brokers"], ",") {
		if b = strings.TrimSpace(b); b != "" {
			brokers = append(brokers, b)
		}
	}
	k.brokers = strings.Join(brokers, ",")
	k.topic = strings.TrimSpace(cfg.Options["topic"])
	k.commitTopic = strings.TrimSpace(cfg.Options["commit_topic"])
	if k.commitTopic == "" {
		k.commitTopic = k.topic + "__streamsql_commits"
	}
	if k.commitTopic == k.topic {
		return nil, fmt.Errorf("sink %s: commit_topic must differ from topic %q", cfg.Query, k.topic)
	}
	switch f := strings.ToLower(strings.TrimSpace(cfg.Options["format"])); f {
	case "", "json":
		k.format = "json"
	case "csv":
		k.format = "csv"
	default:
		return nil, fmt.Errorf("sink %s: the kafka connector writes format json or csv, got %q", cfg.Query, cfg.Options["format"])
	}
	if v := strings.TrimSpace(cfg.Options["key_columns"]); v != "" {
		for _, n := range strings.Split(v, ",") {
			if n = strings.TrimSpace(n); n == "" {
				return nil, fmt.Errorf("sink %s: key_columns %q has an empty column name", cfg.Query, v)
			}
			k.keyNames = append(k.keyNames, n)
		}
	}
	if v, ok := cfg.Options["timeout"]; ok {
		us, err := exec.ParseInterval(v)
		if err != nil || us < 1000 {
			return nil, fmt.Errorf("sink %s: timeout must be an interval of at least 1 millisecond such as '30 seconds', got '%s'", cfg.Query, v)
		}
		k.timeout = time.Duration(us) * time.Microsecond
	}
	k.conf = kafka.ConfigMap{
		"bootstrap.servers":   k.brokers,
		"transactional.id":    "streamsql-" + cfg.Query,
		"enable.idempotence":  true,
		"go.delivery.reports": false,
		"linger.ms":           5,
	}
	for key, v := range cfg.Options {
		prop, ok := strings.CutPrefix(key, "kafka.")
		if !ok {
			continue
		}
		if sensitiveSinkOption(key) && v != "" {
			k.secrets = append(k.secrets, v)
		}
		if why, managed := kafkaSinkManaged[prop]; managed {
			return nil, fmt.Errorf("sink %s: option %s cannot be set: %s", cfg.Query, key, why)
		}
		if prop == "" {
			return nil, fmt.Errorf("sink %s: option %s names no librdkafka property", cfg.Query, key)
		}
		k.conf[prop] = v
	}
	return k, nil
}

// sensitiveSinkOption reports whether an option's value must never be shown.
func sensitiveSinkOption(key string) bool {
	k := strings.ToLower(key)
	return strings.Contains(k, "password") || strings.Contains(k, "secret") || strings.Contains(k, "sasl") ||
		strings.Contains(k, "key.pem") || strings.Contains(k, "keystore") // inline private keys
}

// errorf builds an error naming the sink, with sensitive option values removed.
func (k *Kafka) errorf(format string, args ...any) error {
	msg := fmt.Sprintf("sink %s: ", k.query) + fmt.Sprintf(format, args...)
	return errors.New(redact.Values(msg, k.secrets))
}

// Open resolves the key columns, starts the transactional producer (fencing earlier instances)
// and reads the last committed epoch.
func (k *Kafka) Open(schema *arrow.Schema, mode OutputMode, keys []int) error {
	if schema == nil {
		return k.errorf("no output schema")
	}
	k.schema, k.mode, k.keys, k.valSchema = schema, mode, keys, schema
	k.keyCols = k.keyCols[:0]
	for _, n := range k.keyNames {
		idx := -1
		for j, f := range schema.Fields() {
			if strings.EqualFold(f.Name, n) {
				idx = j
				break
			}
		}
		if idx < 0 {
			names := make([]string, schema.NumFields())
			for j, f := range schema.Fields() {
				names[j] = f.Name
			}
			return k.errorf("key_columns names %q, which is not an output column (columns: %s)", n, strings.Join(names, ", "))
		}
		k.keyCols = append(k.keyCols, idx)
	}
	if mode == Update && len(keys) > 0 {
		// Tombstones delete by message key, so the message key must be the row's key.
		if len(k.keyNames) == 0 {
			k.keyCols = append(k.keyCols[:0], keys...)
		} else if !sameColumns(k.keyCols, keys) {
			return k.errorf("update mode deletes rows with tombstones keyed by the query's key (%s), so key_columns must name exactly those columns (or be left out), not %s",
				strings.Join(columnNames(schema, keys), ", "), strings.Join(k.keyNames, ", "))
		}
	}
	if mode == Update && len(keys) == 0 {
		if err := checkNoWeightColumn("sink "+k.query, schema); err != nil {
			return err
		}
		k.valSchema = ChangeSchema(schema)
	}
	k.fieldKeys = make([][]byte, k.valSchema.NumFields())
	for j, f := range k.valSchema.Fields() {
		b, err := jsonString(f.Name)
		if err != nil {
			return err
		}
		k.fieldKeys[j] = b
	}
	conf := kafka.ConfigMap{}
	for key, v := range k.conf {
		conf[key] = v
	}
	p, err := kafka.NewProducer(&conf)
	if err != nil {
		return k.errorf("cannot create the Kafka producer: %v", err)
	}
	k.producer, k.done = p, make(chan struct{})
	go k.drainEvents(p, k.done)
	ctx, cancel := context.WithTimeout(context.Background(), k.timeout)
	defer cancel()
	if err := p.InitTransactions(ctx); err != nil {
		k.Close()
		return k.errorf("initializing transactions (transactional.id %q): %v", conf["transactional.id"], err)
	}
	last, err := k.readLastEpoch()
	if err != nil {
		k.Close()
		return err
	}
	k.last = last
	return nil
}

// drainEvents consumes the producer's event channel (errors and statistics; delivery reports are
// off) until it is closed, logging errors without secrets.
func (k *Kafka) drainEvents(p *kafka.Producer, done chan struct{}) {
	defer close(done)
	for ev := range p.Events() {
		if e, ok := ev.(kafka.Error); ok {
			k.logger.Warn("kafka sink producer error", "sink", k.query, "error", k.errorf("%v", e).Error())
		}
	}
}

// kafkaMarker is the value of a commit marker record.
type kafkaMarker struct {
	Query string `json:"query"`
	Epoch int64  `json:"epoch"`
	Topic string `json:"topic"`
}

// readLastEpoch reads partition 0 of the commit topic with a read_committed consumer and returns
// the highest epoch recorded for this query (-1: none, or no commit topic yet).
func (k *Kafka) readLastEpoch() (int64, error) {
	conf := kafka.ConfigMap{}
	for key, v := range k.conf {
		switch key {
		case "transactional.id", "enable.idempotence", "go.delivery.reports", "linger.ms":
			continue
		}
		conf[key] = v
	}
	conf["group.id"] = "streamsql-" + k.query + "-commits"
	conf["enable.auto.commit"] = false
	conf["isolation.level"] = "read_committed"
	conf["enable.partition.eof"] = true
	conf["auto.offset.reset"] = "earliest"
	conf["fetch.wait.max.ms"] = 10
	c, err := kafka.NewConsumer(&conf)
	if err != nil {
		return 0, k.errorf("cannot create the commit marker consumer: %v", err)
	}
	defer c.Close()
	ms := int(k.timeout / time.Millisecond)
	md, err := c.GetMetadata(&k.commitTopic, false, ms)
	if err != nil {
		return 0, k.errorf("reading the metadata of commit topic %q: %v", k.commitTopic, err)
	}
	tm, ok := md.Topics[k.commitTopic]
	if !ok || tm.Error.Code() == kafka.ErrUnknownTopicOrPart || tm.Error.Code() == kafka.ErrUnknownTopic || len(tm.Partitions) == 0 {
		return -1, nil // nothing committed yet
	}
	if tm.Error.Code() != kafka.ErrNoError {
		return 0, k.errorf("commit topic %q: %v", k.commitTopic, tm.Error)
	}
	lo, hi, err := c.QueryWatermarkOffsets(k.commitTopic, 0, ms)
	if err != nil {
		return 0, k.errorf("reading the offsets of commit topic %q: %v", k.commitTopic, err)
	}
	if hi <= lo {
		return -1, nil
	}
	topic := k.commitTopic
	if err := c.Assign([]kafka.TopicPartition{{Topic: &topic, Partition: 0, Offset: kafka.OffsetBeginning}}); err != nil {
		return 0, k.errorf("reading commit topic %q: %v", k.commitTopic, err)
	}
	last := int64(-1)
	deadline := time.Now().Add(k.timeout)
	for {
		if time.Now().After(deadline) {
			return 0, k.errorf("reading commit topic %q timed out after %s", k.commitTopic, k.timeout)
		}
		switch e := c.Poll(100).(type) {
		case *kafka.Message:
			deadline = time.Now().Add(k.timeout)
			if string(e.Key) != k.query {
				continue
			}
			var m kafkaMarker
			if err := json.Unmarshal(e.Value, &m); err != nil {
				return 0, k.errorf("commit topic %q offset %d holds a malformed marker: %v", k.commitTopic, e.TopicPartition.Offset, err)
			}
			last = max(last, m.Epoch)
		case kafka.PartitionEOF:
			return last, nil
		case kafka.Error:
			if e.IsFatal() || e.Code() == kafka.ErrTopicAuthorizationFailed {
				return 0, k.errorf("reading commit topic %q: %v", k.commitTopic, e)
			}
		}
	}
}

// Write produces one epoch's messages and its commit marker in one transaction (see Kafka). It
// borrows deltas.
func (k *Kafka) Write(ctx context.Context, epoch int64, deltas []exec.Delta) error {
	if k.producer == nil {
		return k.errorf("Write before Open or after Close")
	}
	if epoch <= k.last {
		return nil
	}
	for _, d := range deltas {
		if err := checkRecord(k.schema, d.Rec); err != nil {
			return k.errorf("%v", err)
		}
	}
	var recs []arrow.RecordBatch
	var tombstones arrow.RecordBatch
	switch {
	case k.mode == Update:
		c, err := ConsolidateByKey(nil, k.schema, deltas, k.keys)
		if err != nil {
			return k.errorf("epoch %d: %v", epoch, err)
		}
		if len(k.keys) > 0 {
			recs, tombstones = []arrow.RecordBatch{c.Upserts}, c.Deletes
		} else {
			rec, err := ChangeRecord(nil, k.schema, c)
			c.Release()
			if err != nil {
				return k.errorf("epoch %d: %v", epoch, err)
			}
			recs = []arrow.RecordBatch{rec}
		}
	default:
		var err error
		if recs, err = InsertedRows(nil, k.schema, k.mode, deltas); err != nil {
			return k.errorf("epoch %d: %v", epoch, err)
		}
	}
	defer func() {
		releaseRecords(recs)
		if tombstones != nil {
			tombstones.Release()
		}
	}()
	if err := k.producer.BeginTransaction(); err != nil {
		return k.errorf("epoch %d: beginning the transaction: %v", epoch, err)
	}
	if err := k.produceEpoch(ctx, epoch, recs, tombstones); err != nil {
		return k.abort(epoch, err)
	}
	cctx, cancel := context.WithTimeout(ctx, k.timeout)
	defer cancel()
	for {
		err := k.producer.CommitTransaction(cctx)
		if err == nil {
			k.last = epoch
			return nil
		}
		var ke kafka.Error
		if errors.As(err, &ke) && ke.IsRetriable() && cctx.Err() == nil {
			continue // the commit's outcome is unknown; retrying it is how librdkafka finds out
		}
		return k.abort(epoch, fmt.Errorf("committing: %w", err))
	}
}

// produceEpoch enqueues the tombstones (keys of deleted rows; may be nil), the rows and the marker
// of one epoch in the open transaction.
func (k *Kafka) produceEpoch(ctx context.Context, epoch int64, recs []arrow.RecordBatch, tombstones arrow.RecordBatch) error {
	var val, key bytes.Buffer
	messageKey := func(r arrow.RecordBatch, i int) ([]byte, error) {
		switch {
		case len(k.keyCols) == 1:
			if col := r.Column(k.keyCols[0]); !col.IsNull(i) {
				return []byte(exec.FormatValue(col, i)), nil
			}
		case len(k.keyCols) > 1:
			key.Reset()
			if err := k.encodeRow(&key, r, i, k.keyCols); err != nil {
				return nil, err
			}
			return bytes.Clone(key.Bytes()), nil
		}
		return nil, nil
	}
	if tombstones != nil {
		for i := 0; i < int(tombstones.NumRows()); i++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			keyBytes, err := messageKey(tombstones, i)
			if err != nil {
				return err
			}
			if keyBytes == nil {
				// A single NULL key column gives no message key, and a tombstone without a key
				// deletes nothing (a compacted topic refuses it): fail rather than drop the delete.
				return fmt.Errorf("cannot delete the row (%s): its key column %q is NULL and a Kafka tombstone needs a message key",
					rowString(k.schema, tombstones, i), k.schema.Field(k.keyCols[0]).Name)
			}
			if err := k.produce(ctx, &k.topic, kafka.PartitionAny, keyBytes, nil); err != nil {
				return err
			}
		}
	}
	for _, r := range recs {
		for i := 0; i < int(r.NumRows()); i++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			val.Reset()
			if err := k.encodeRow(&val, r, i, nil); err != nil {
				return err
			}
			keyBytes, err := messageKey(r, i)
			if err != nil {
				return err
			}
			if err := k.produce(ctx, &k.topic, kafka.PartitionAny, keyBytes, bytes.Clone(val.Bytes())); err != nil {
				return err
			}
		}
	}
	marker, err := json.Marshal(kafkaMarker{Query: k.query, Epoch: epoch, Topic: k.topic})
	if err != nil {
		return err
	}
	return k.produce(ctx, &k.commitTopic, 0, []byte(k.query), marker)
}

// sameColumns says a and b hold the same column indexes, in any order.
func sameColumns(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

func columnNames(schema *arrow.Schema, cols []int) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = schema.Field(c).Name
	}
	return out
}

// produce enqueues one message, waiting while librdkafka's queue is full.
func (k *Kafka) produce(ctx context.Context, topic *string, partition int32, key, value []byte) error {
	msg := &kafka.Message{TopicPartition: kafka.TopicPartition{Topic: topic, Partition: partition}, Key: key, Value: value}
	for {
		err := k.producer.Produce(msg, nil)
		var ke kafka.Error
		if err == nil || !errors.As(err, &ke) || ke.Code() != kafka.ErrQueueFull {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		k.producer.Flush(100)
	}
}

// encodeRow appends row i of r in the sink's format: all columns (cols nil) or the listed ones.
func (k *Kafka) encodeRow(buf *bytes.Buffer, r arrow.RecordBatch, i int, cols []int) error {
	if cols == nil {
		cols = make([]int, r.NumCols())
		for j := range cols {
			cols[j] = j
		}
	}
	if k.format == "csv" {
		rec := make([]string, len(cols))
		for n, j := range cols {
			if col := r.Column(j); !col.IsNull(i) {
				rec[n] = exec.FormatValue(col, i)
			}
		}
		w := csv.NewWriter(buf)
		if err := w.Write(rec); err != nil {
			return err
		}
		w.Flush()
		if err := w.Error(); err != nil {
			return err
		}
		buf.Truncate(buf.Len() - 1) // the record's "\n"
		return nil
	}
	buf.WriteByte('{')
	for n, j := range cols {
		if n > 0 {
			buf.WriteByte(',')
		}
		buf.Write(k.fieldKeys[j])
		buf.WriteByte(':')
		if err := AppendJSONValue(buf, r.Column(j), i); err != nil {
			return fmt.Errorf("column %q: %w", k.valSchema.Field(j).Name, err)
		}
	}
	buf.WriteByte('}')
	return nil
}

// abort aborts the open transaction and returns cause, naming the epoch.
func (k *Kafka) abort(epoch int64, cause error) error {
	ctx, cancel := context.WithTimeout(context.Background(), k.timeout)
	defer cancel()
	if err := k.producer.AbortTransaction(ctx); err != nil {
		return k.errorf("epoch %d: %v (and aborting the transaction failed: %v)", epoch, cause, err)
	}
	return k.errorf("epoch %d: %v (transaction aborted)", epoch, cause)
}

// Close closes the producer; an open transaction is aborted by the brokers (or fenced by the
// next instance's InitTransactions).
func (k *Kafka) Close() error {
	if k.producer == nil {
		return nil
	}
	k.producer.Close()
	<-k.done
	k.producer = nil
	return nil
}
