package streamsql

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/streamsql/streamsql/sources"
)

// The engine's access policy (Options.Access) applied to the options of file tables, sources,
// sinks and checkpoints. These checks run at CREATE and whenever a query starts (the engine opens
// the connector then); the sources package checks again at every file it opens and every
// connection it makes. Built-in sinks open their own connections when they reconnect; the
// address they reconnect to is the one checked at start.

// checkSourceAccess checks a source's path or addresses.
func checkSourceAccess(a *sources.Access, name string, opts map[string]string) error {
	if a == nil {
		return nil
	}
	wrap := func(err error) error {
		if err != nil {
			return fmt.Errorf("source %s: %w", name, err)
		}
		return nil
	}
	switch strings.ToLower(strings.TrimSpace(opts["connector"])) {
	case "files":
		if p := opts["path"]; p != "" {
			return wrap(a.CheckPath(p))
		}
	case "socket":
		host := opts["host"]
		if host == "" {
			host = "localhost"
		}
		if port := opts["port"]; port != "" {
			return wrap(a.CheckAddr(net.JoinHostPort(host, port)))
		}
	case "kafka":
		return wrap(checkBrokers(a, opts["brokers"]))
	}
	return nil
}

// checkSinkAccess checks a sink's output path or the address its connection goes to.
func checkSinkAccess(a *sources.Access, name string, opts map[string]string) error {
	if a == nil {
		return nil
	}
	var err error
	switch strings.ToLower(strings.TrimSpace(opts["connector"])) {
	case "files":
		if p := strings.TrimSpace(opts["path"]); p != "" {
			err = a.CheckPath(p)
		}
	case "kafka":
		err = checkBrokers(a, opts["brokers"])
	case "postgres":
		if u := opts["url"]; u != "" {
			err = checkPostgresURL(a, u)
		}
	case "mysql":
		if u := opts["url"]; u != "" {
			err = checkMySQLURL(a, u)
		}
	}
	if err != nil {
		return fmt.Errorf("sink %s: %w", name, err)
	}
	return nil
}

func checkBrokers(a *sources.Access, list string) error {
	for _, b := range strings.Split(list, ",") {
		if b = strings.TrimSpace(b); b != "" {
			if err := a.CheckAddr(b); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkPostgresURL checks every host a PostgreSQL connection string may connect to (its
// fallbacks included); a Unix socket directory is checked as a file path.
func checkPostgresURL(a *sources.Access, u string) error {
	cfg, err := pgconn.ParseConfig(u)
	if err != nil {
		return nil // the sink reports the malformed URL itself, redacted
	}
	hosts := []struct {
		host string
		port uint16
	}{{cfg.Host, cfg.Port}}
	for _, f := range cfg.Fallbacks {
		hosts = append(hosts, struct {
			host string
			port uint16
		}{f.Host, f.Port})
	}
	for _, h := range hosts {
		if strings.HasPrefix(h.host, "/") {
			if err := a.CheckPath(h.host); err != nil {
				return err
			}
			continue
		}
		if err := a.CheckAddr(net.JoinHostPort(h.host, strconv.Itoa(int(h.port)))); err != nil {
			return err
		}
	}
	return nil
}

// checkMySQLURL checks the address of a mysql://user:pw@host:port/db URL or a go-sql-driver DSN.
func checkMySQLURL(a *sources.Access, u string) error {
	if l := strings.ToLower(u); strings.HasPrefix(l, "mysql://") || strings.HasPrefix(l, "mariadb://") {
		pu, err := url.Parse(u)
		if err != nil {
			return nil // the sink reports the malformed URL itself, redacted
		}
		host, port := pu.Hostname(), pu.Port()
		if host == "" {
			host = "127.0.0.1"
		}
		if port == "" {
			port = "3306"
		}
		return a.CheckAddr(net.JoinHostPort(host, port))
	}
	cfg, err := mysql.ParseDSN(u)
	if err != nil {
		return nil
	}
	if cfg.Net == "unix" {
		return a.CheckPath(cfg.Addr)
	}
	addr := cfg.Addr
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, "3306")
	}
	return a.CheckAddr(addr)
}
