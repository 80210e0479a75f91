package redact

import "strings"

// Values replaces each whole occurrence of a secret in msg with "[redacted]". An
// occurrence counts only when no letter, digit or '_' touches it on either side: a user name
// "u" must not turn "Timed out" into "Timed o[redacted]t", while "user u", "u:pw@" and
// "password=pw," are still redacted. Longer secrets go first, so one that contains another is
// replaced whole.
func Values(msg string, secrets []string) string {
	sorted := append([]string(nil), secrets...)
	for i := 1; i < len(sorted); i++ {
		for j := i; j > 0 && len(sorted[j]) > len(sorted[j-1]); j-- {
			sorted[j], sorted[j-1] = sorted[j-1], sorted[j]
		}
	}
	for _, s := range sorted {
		if s == "" {
			continue
		}
		var b strings.Builder
		rest := msg
		for {
			i := strings.Index(rest, s)
			if i < 0 {
				b.WriteString(rest)
				break
			}
			end := i + len(s)
			if (i > 0 && isWordByte(rest[i-1])) || (end < len(rest) && isWordByte(rest[end])) {
				b.WriteString(rest[:i+1])
				rest = rest[i+1:]
				continue
			}
			b.WriteString(rest[:i])
			b.WriteString("[redacted]")
			rest = rest[end:]
		}
		msg = b.String()
	}
	return msg
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
