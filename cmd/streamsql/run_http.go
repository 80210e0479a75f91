package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	streamsql "github.com/streamsql/streamsql"
	"github.com/streamsql/streamsql/server"
	"github.com/streamsql/streamsql/web"
)

// opsEndpoint is `run --http`: the web console, /metrics and the JSON API of serve --http over
// the run's engine, without a password (so on loopback only; CheckHTTPListen refuses others).
type opsEndpoint struct {
	monitor *server.Monitor
	ops     *server.HTTP
	srv     *http.Server
	addr    net.Addr
}

// startOps listens on addr and serves eng's operations endpoint until stop. Create it before
// the script starts queries: the metrics' counters sum the epochs the monitor sees.
func startOps(eng *streamsql.Engine, addr string, log *slog.Logger) (*opsEndpoint, error) {
	if err := server.CheckHTTPListen(addr, false); err != nil {
		return nil, err
	}
	monitor := server.NewMonitor(eng, nil)
	ops, err := server.NewHTTP(server.HTTPConfig{Monitor: monitor, Logger: log, Assets: web.Dist})
	if err != nil {
		monitor.Close()
		return nil, err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		ops.Close()
		monitor.Close()
		return nil, err
	}
	e := &opsEndpoint{monitor: monitor, ops: ops, srv: server.NewHTTPServer(ops, log), addr: l.Addr()}
	go func() { _ = e.srv.Serve(l) }()
	return e, nil
}

// stop ends the console's streams, then the server (waiting up to 2 s for requests in flight).
func (e *opsEndpoint) stop() {
	e.ops.Drain()
	e.ops.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = e.srv.Shutdown(ctx)
	e.monitor.Close()
}
