package sinks

import (
	"strings"
	"testing"
)

// TestNewSinkURLErrorsHideSecrets: a malformed URL whose password holds a space (not valid in a
// URL, so the parser's error quotes the whole URL) must not leak any part of the password.
func TestNewSinkURLErrorsHideSecrets(t *testing.T) {
	for _, tc := range []struct {
		open func(Config) (Sink, error)
		url  string
	}{
		{NewMySQL, "mysql://u:hunter two@h/db"},
		{NewPostgres, "postgres://u:hunter two@h/db"},
		{NewMySQL, "mysql://u:hunter2@h:bad/db"},
		{NewPostgres, "postgres://u:hunter2@h:bad/db"},
	} {
		_, err := tc.open(Config{Query: "q", Options: map[string]string{"url": tc.url, "table": "t"}})
		if err == nil {
			t.Errorf("%s: expected an error", tc.url)
			continue
		}
		for _, secret := range []string{"hunter", "two"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: error leaks %q: %v", tc.url, secret, err)
			}
		}
	}
}
