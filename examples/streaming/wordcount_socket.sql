-- The network word count: start a netcat server first, in another terminal,
--   nc -lk 9999
-- then run, from the repository root,
--   go run ./cmd/streamsql run -f examples/streaming/wordcount_socket.sql
-- and type lines into netcat: every micro-batch prints the running counts of every word.
-- Ctrl-C stops it.
CREATE SOURCE lines (value VARCHAR) WITH (connector = 'socket', host = 'localhost', port = '9999');

CREATE SINK wc WITH (connector = 'console', output_mode = 'complete') AS
  SELECT word, COUNT(*) AS count
  FROM (SELECT explode(split(value, ' ')) AS word FROM lines) w
  GROUP BY word
  ORDER BY count DESC, word;
