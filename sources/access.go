package sources

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Access is what file and network connectors may touch: the directories files may be read from
// or written to, and the HOST:PORT addresses connections may go to. A nil *Access, or nil
// FileRoots / Connect, allows everything (the embedded engine, `streamsql run`, the REPL);
// `streamsql serve` restricts both by default, since a password must not grant the server's
// operating-system account.
//
// Paths are compared after resolving symbolic links, so a link inside a root that points
// outside it is refused. Host names are compared as written against name patterns, and resolved
// for the loopback and address patterns (all of their addresses must match). A name that resolves
// differently between the check and the connection (DNS rebinding) is not caught: restrict by
// name, or use addresses, where that matters.
type Access struct {
	// FileRoots are directories; a path is allowed when it lies inside one of them.
	FileRoots []string
	// Connect are HOST:PORT patterns. HOST is a name (db.example.com), a wildcard name
	// (*.example.com), an address (10.1.2.3, [::1]), a CIDR block (10.0.0.0/8, [fd00::/8]),
	// "loopback" (127.0.0.0/8, ::1 and localhost) or "*"; PORT is a number or "*".
	Connect []string
	// Resolve looks up a host's addresses. Default net.DefaultResolver with a 5-second timeout.
	Resolve func(host string) ([]net.IP, error)
}

// AccessError is a refusal by an Access policy. Its SQLSTATE is 42501 (insufficient_privilege).
type AccessError struct {
	What   string // "file" or "connection"
	Target string // the path or HOST:PORT asked for
	Reason string
}

func (e *AccessError) Error() string {
	return fmt.Sprintf("permission denied: %s %s: %s", e.What, e.Target, e.Reason)
}

// SQLState is the PostgreSQL error code of a refused access.
func (e *AccessError) SQLState() string { return "42501" }

// Check validates the roots and patterns, so a typo fails at startup.
func (a *Access) Check() error {
	if a == nil {
		return nil
	}
	for _, r := range a.FileRoots {
		if r == "" {
			return errors.New("an allowed file root is empty")
		}
		if _, err := resolvePath(r); err != nil {
			return fmt.Errorf("allowed file root %q: %v", r, err)
		}
	}
	for _, p := range a.Connect {
		if _, err := parseConnectPattern(p); err != nil {
			return err
		}
	}
	return nil
}

// CheckPath allows path when it lies inside one of the file roots (always, without roots).
func (a *Access) CheckPath(path string) error {
	if a == nil || a.FileRoots == nil {
		return nil
	}
	// A glob is checked by its fixed leading directories; each file it matches is checked again
	// when it is opened.
	fixed := path
	if i := strings.IndexAny(path, "*?["); i >= 0 {
		fixed = filepath.Dir(path[:i+1])
	}
	resolved, err := resolvePath(fixed)
	if err != nil {
		return &AccessError{What: "file", Target: path, Reason: err.Error()}
	}
	for _, r := range a.FileRoots {
		root, err := resolvePath(r)
		if err != nil {
			continue
		}
		if rel, err := filepath.Rel(root, resolved); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return nil
		}
	}
	return &AccessError{What: "file", Target: path, Reason: fmt.Sprintf("outside the allowed file roots (%s); see --allow-file-root", strings.Join(a.FileRoots, ", "))}
}

// resolvePath is the absolute path with symbolic links resolved. A path that does not exist yet
// (a sink's output directory) resolves through its longest existing ancestor.
func resolvePath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	var rest []string
	cur := abs
	for {
		r, err := filepath.EvalSymlinks(cur)
		if err == nil {
			return filepath.Join(append([]string{r}, rest...)...), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return abs, nil
		}
		rest = append([]string{filepath.Base(cur)}, rest...)
		cur = parent
	}
}

// CheckAddr allows a HOST:PORT when one of the patterns matches it (always, without patterns).
func (a *Access) CheckAddr(hostport string) error {
	if a == nil || a.Connect == nil {
		return nil
	}
	host, portText, err := net.SplitHostPort(hostport)
	if err != nil {
		return &AccessError{What: "connection", Target: hostport, Reason: "not a HOST:PORT address"}
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return &AccessError{What: "connection", Target: hostport, Reason: "the port is not a number"}
	}
	var ips []net.IP // resolved on first need
	resolved := false
	var resolveErr error
	for _, p := range a.Connect {
		pat, err := parseConnectPattern(p)
		if err != nil || (pat.port >= 0 && pat.port != port) {
			continue
		}
		if pat.name != "" {
			if matchName(pat.name, host) {
				return nil
			}
			continue
		}
		if !resolved {
			ips, resolveErr = a.resolve(host)
			resolved = true
		}
		if resolveErr == nil && len(ips) > 0 && allIn(ips, pat) {
			return nil
		}
	}
	reason := fmt.Sprintf("not allowed by --allow-connect (%s)", strings.Join(a.Connect, ", "))
	if resolveErr != nil {
		reason += "; resolving " + host + ": " + resolveErr.Error()
	}
	return &AccessError{What: "connection", Target: hostport, Reason: reason}
}

func (a *Access) resolve(host string) ([]net.IP, error) {
	if ip := net.ParseIP(host); ip != nil {
		return []net.IP{ip}, nil
	}
	if strings.EqualFold(host, "localhost") {
		return []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, nil
	}
	if a.Resolve != nil {
		return a.Resolve(host)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return nil, err
	}
	out := make([]net.IP, len(addrs))
	for i, a := range addrs {
		out[i] = a.IP
	}
	return out, nil
}

// connectPattern is one parsed --allow-connect pattern: a name (possibly "*.suffix" or "*"),
// or address blocks.
type connectPattern struct {
	name string
	nets []*net.IPNet
	port int // -1: any
}

func parseConnectPattern(p string) (connectPattern, error) {
	bad := func(why string) (connectPattern, error) {
		return connectPattern{}, fmt.Errorf("--allow-connect %q: %s (expected HOST:PORT, e.g. db.example.com:5432, 10.0.0.0/8:*, [::1]:9092, loopback:*)", p, why)
	}
	i := strings.LastIndex(p, ":")
	if i <= 0 {
		return bad("no port")
	}
	host, portText := strings.TrimSuffix(strings.TrimPrefix(p[:i], "["), "]"), p[i+1:]
	pat := connectPattern{port: -1}
	if portText != "*" {
		n, err := strconv.Atoi(portText)
		if err != nil || n < 1 || n > 65535 {
			return bad("the port must be a number from 1 to 65535 or *")
		}
		pat.port = n
	}
	switch {
	case strings.EqualFold(host, "loopback"):
		_, v4, _ := net.ParseCIDR("127.0.0.0/8")
		_, v6, _ := net.ParseCIDR("::1/128")
		pat.nets = []*net.IPNet{v4, v6}
	case strings.Contains(host, "/"):
		_, n, err := net.ParseCIDR(host)
		if err != nil {
			return bad("invalid address block")
		}
		pat.nets = []*net.IPNet{n}
	case net.ParseIP(host) != nil:
		ip := net.ParseIP(host)
		bits := 128
		if ip.To4() != nil {
			ip, bits = ip.To4(), 32
		}
		pat.nets = []*net.IPNet{{IP: ip, Mask: net.CIDRMask(bits, bits)}}
	case host == "":
		return bad("no host")
	default:
		pat.name = strings.ToLower(host)
	}
	return pat, nil
}

func matchName(pattern, host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if pattern == "*" {
		return true
	}
	if suffix, ok := strings.CutPrefix(pattern, "*."); ok {
		return strings.HasSuffix(host, "."+suffix)
	}
	return host == pattern
}

func allIn(ips []net.IP, pat connectPattern) bool {
	for _, ip := range ips {
		in := false
		for _, n := range pat.nets {
			if n.Contains(ip) {
				in = true
				break
			}
		}
		if !in {
			return false
		}
	}
	return true
}

// openChecked opens a file for reading after the policy allows it (the path and, through
// symbolic links, the file itself).
func openChecked(a *Access, path string) (*os.File, error) {
	if err := a.CheckPath(path); err != nil {
		return nil, err
	}
	return os.Open(path)
}
