package redact

import "testing"

func TestRedactValuesByWholeValue(t *testing.T) {
	cases := []struct {
		msg     string
		secrets []string
		want    string
	}{
		{"Timed out", []string{"u"}, "Timed out"},
		{"SASL authentication of user u failed: Timed out", []string{"u"}, "SASL authentication of user [redacted] failed: Timed out"},
		{"sasl.password=hunter2, broker down", []string{"hunter2"}, "sasl.password=[redacted], broker down"},
		{"u:hunter2@broker", []string{"u", "hunter2"}, "[redacted]:[redacted]@broker"},
		{"key abc and abcdef", []string{"abc", "abcdef"}, "key [redacted] and [redacted]"},
		{"p@ss!: wrong", []string{"p@ss!"}, "[redacted]: wrong"},
		{"unchanged", nil, "unchanged"},
	}
	for _, c := range cases {
		if got := Values(c.msg, c.secrets); got != c.want {
			t.Errorf("Values(%q, %q) = %q, want %q", c.msg, c.secrets, got, c.want)
		}
	}
}
