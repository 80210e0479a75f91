package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	streamsql "github.com/streamsql/streamsql"
	"github.com/streamsql/streamsql/server"
	"github.com/streamsql/streamsql/web"
)

// serveCommand implements `streamsql serve`: one engine served over the PostgreSQL wire protocol
// until SIGINT or SIGTERM, which stop accepting, close the engine (stopping its continuous
// queries after their running epoch) and exit 0; a second signal exits at once. Usage errors
// exit 2, a failing -f script or listener 1.
func serveCommand(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// After the first signal the default action is restored, so a second one ends the process at
	// once; checkpoints are consistent at every instant, so a restart still resumes exactly.
	go func() { <-ctx.Done(); stop() }()
	return serve(ctx, args, stdout, stderr, nil)
}

// serve runs the server until ctx is done. onListen, when set, learns the bound address.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer, onListen func(net.Addr)) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:5433", "address to listen on; non-loopback addresses need a password")
	dataDir := fs.String("data-dir", "", "directory for the durable catalog and the checkpoints: what clients created is restored and continuous queries resume at start")
	script := fs.String("f", "", "SQL script to run at start (tables, sources, views)")
	passwordFile := fs.String("password-file", "", "file holding the password (SCRAM-SHA-256 authentication); default $STREAMSQL_PASSWORD")
	tlsCert := fs.String("tls-cert", "", "TLS certificate file (PEM); needs --tls-key")
	tlsKey := fs.String("tls-key", "", "TLS private key file (PEM); needs --tls-cert")
	maxConns := fs.Int("max-connections", 100, "maximum concurrent connections")
	timeout := fs.Duration("statement-timeout", 0, "cancel statements running longer, e.g. 30s (0: no limit)")
	memLimit := fs.String("statement-memory", "", "fail ad-hoc statements holding more memory, e.g. 512MiB or 2GiB (default: no limit)")
	stateMem := fs.String("state-memory", "", "default state memory budget of each continuous query, e.g. 256MiB: past it a GROUP BY spills cold groups to disk (default: no budget; a query's state_memory option overrides it)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	var access accessFlags
	access.register(fs, true)
	httpAddr := fs.String("http", "", "serve the web console (/), /metrics, /api/queries and /healthz on this address, e.g. 127.0.0.1:8080 (default: off); non-loopback addresses need a password")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: streamsql serve [--listen ADDR] [--data-dir DIR] [-f init.sql] [--password-file FILE] [--tls-cert F --tls-key F] [--max-connections N] [--statement-timeout D] [--statement-memory SIZE] [--state-memory SIZE] [--log-level L] [--http 127.0.0.1:8080] [--allow-file-root DIR] [--allow-connect HOST:PORT]")
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args); done {
		return code
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "streamsql serve: "+format+"\n", a...)
		return 2
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q", fs.Arg(0))
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usageErr("bad --log-level %q (debug, info, warn or error)", *logLevel)
	}
	if *maxConns < 1 {
		return usageErr("--max-connections must be at least 1")
	}
	if *timeout < 0 {
		return usageErr("--statement-timeout must not be negative")
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	password := os.Getenv("STREAMSQL_PASSWORD")
	if *passwordFile != "" {
		b, err := os.ReadFile(*passwordFile)
		if err != nil {
			return usageErr("cannot read --password-file: %v", err)
		}
		password = strings.TrimRight(string(b), "\r\n")
		if strings.TrimSpace(password) == "" {
			return usageErr("--password-file %s is empty or only white space", *passwordFile)
		}
	} else if password != "" && strings.TrimSpace(password) == "" {
		return usageErr("STREAMSQL_PASSWORD is only white space")
	}
	if err := server.CheckListen(*listen, password != ""); err != nil {
		return usageErr("%v", err)
	}
	if *httpAddr != "" {
		if err := server.CheckHTTPListen(*httpAddr, password != ""); err != nil {
			return usageErr("%v", err)
		}
	}
	var tlsConfig *tls.Config
	switch {
	case *tlsCert != "" && *tlsKey != "":
		cert, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			return usageErr("cannot load TLS certificate: %v", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	case *tlsCert != "" || *tlsKey != "":
		return usageErr("--tls-cert and --tls-key go together")
	}
	if host, _, _ := net.SplitHostPort(*listen); tlsConfig == nil && !isLoopbackHost(host) {
		log.Warn("serving a non-loopback address without TLS: passwords are never sent (SCRAM), but statements and results travel in clear text")
	}

	memBytes, err := parseBytes(*memLimit)
	if err != nil {
		return usageErr("--statement-memory: %v", err)
	}
	stateBytes, err := parseBytes(*stateMem)
	if err != nil {
		return usageErr("--state-memory: %v", err)
	}
	var defaultRoots []string
	if *dataDir != "" {
		defaultRoots = append(defaultRoots, *dataDir)
	}
	if *script != "" {
		defaultRoots = append(defaultRoots, filepath.Dir(*script))
	}
	acc, err := access.policy(true, defaultRoots)
	if err != nil {
		return usageErr("%v", err)
	}
	eng, err := streamsql.Open(streamsql.Options{DataDir: *dataDir, DurableCatalog: true, Stdout: stdout, Logger: log, StatementMemoryLimit: memBytes, Access: acc, StateMemory: stateBytes})
	if err != nil {
		fmt.Fprintf(stderr, "streamsql serve: cannot start the engine: %v\n", err)
		return 1
	}
	defer eng.Close()
	// The monitor sums every epoch's progress, so it starts before the script starts queries.
	monitor := server.NewMonitor(eng, nil)
	defer monitor.Close()
	if *script != "" {
		text, err := os.ReadFile(*script)
		if err != nil {
			eng.Close()
			return usageErr("cannot read -f script: %v", err)
		}
		results, err := eng.Exec(ctx, string(text))
		for _, r := range results {
			r.Release()
		}
		if err != nil {
			fmt.Fprintf(stderr, "streamsql serve: %s: %v\n", *script, err)
			return 1
		}
	}

	srv, err := server.New(server.Config{Engine: eng, Password: password, TLS: tlsConfig,
		MaxConnections: *maxConns, StatementTimeout: *timeout, Logger: log})
	if err != nil {
		fmt.Fprintf(stderr, "streamsql serve: %v\n", err)
		return 1
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "streamsql serve: %v\n", err)
		return 1
	}
	log.Info("serving the PostgreSQL wire protocol", "addr", l.Addr().String(), "tls", tlsConfig != nil, "password", password != "")
	if onListen != nil {
		onListen(l.Addr())
	}
	monitor.Attach(srv)
	var ops *server.HTTP
	var httpSrv *http.Server
	httpDone := make(chan error, 1)
	if *httpAddr != "" {
		if ops, err = server.NewHTTP(server.HTTPConfig{Monitor: monitor, Server: srv, Password: password, Logger: log, Assets: web.Dist}); err != nil {
			l.Close()
			fmt.Fprintf(stderr, "streamsql serve: %v\n", err)
			return 1
		}
		hl, err := net.Listen("tcp", *httpAddr)
		if err != nil {
			ops.Close()
			l.Close()
			fmt.Fprintf(stderr, "streamsql serve: --http: %v\n", err)
			return 1
		}
		httpSrv = server.NewHTTPServer(ops, log)
		httpSrv.TLSConfig = tlsConfig
		if host, _, _ := net.SplitHostPort(*httpAddr); tlsConfig == nil && password != "" && !isLoopbackHost(host) {
			log.Warn("serving --http on a non-loopback address without TLS: its basic authentication sends the password in clear text")
		}
		log.Info("serving HTTP (/metrics, /api/queries, /healthz)", "console", consoleURL(hl.Addr(), tlsConfig != nil), "addr", hl.Addr().String(), "tls", tlsConfig != nil)
		if onHTTPListen != nil {
			onHTTPListen(hl.Addr())
		}
		go func() {
			if tlsConfig != nil {
				httpDone <- httpSrv.ServeTLS(hl, "", "")
			} else {
				httpDone <- httpSrv.Serve(hl)
			}
		}()
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err = <-done:
	case err = <-httpDone:
		err = fmt.Errorf("--http: %w", err)
	}
	if ops != nil {
		ops.Drain()
		// Ends the console's event streams, which Shutdown would otherwise wait for.
		ops.Close()
	}
	srv.Close()
	running := eng.RunningQueries()
	if cerr := eng.Close(); cerr != nil {
		log.Warn("closing the engine", "err", cerr)
	}
	for _, name := range running {
		log.Info("query stopped", "query", name)
	}
	if httpSrv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = httpSrv.Shutdown(sctx)
		cancel()
	}
	if err != nil {
		fmt.Fprintf(stderr, "streamsql serve: %v\n", err)
		return 1
	}
	return 0
}

// consoleURL is where the web console answers on the --http listener.
func consoleURL(addr net.Addr, tls bool) string {
	if tls {
		return "https://" + addr.String() + "/"
	}
	return "http://" + addr.String() + "/"
}

// onHTTPListen, when set (by tests), learns the bound --http address.
var onHTTPListen func(net.Addr)

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
