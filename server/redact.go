package server

import (
	"regexp"

	"github.com/streamsql/streamsql/sinks"
)

// sensitiveOptionValue matches a WITH option whose name contains password, passwd, secret or sasl
// (the names the Kafka source and sink treat as sensitive), quoted or not, and its quoted value.
var sensitiveOptionValue = regexp.MustCompile("(?i)([\\w.]*(?:password|passwd|secret|sasl)[\\w.]*['\"`]?\\s*=\\s*)'(?:[^']|'')*'")

// redactStatement returns SQL text (or an error message quoting it) fit for a log line: passwords
// in connection URLs and DSNs become *** (sinks.RedactURL), and so do the values of sensitive
// options. The statement that reaches the engine is never changed; only what is logged.
func redactStatement(s string) string {
	return sensitiveOptionValue.ReplaceAllString(sinks.RedactURL(s), "$1'***'")
}
