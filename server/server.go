package server

import (
	"container/list"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	wire "github.com/jeroenrinzema/psql-wire"
	"github.com/jeroenrinzema/psql-wire/codes"
	pgerror "github.com/jeroenrinzema/psql-wire/errors"
	"github.com/jeroenrinzema/psql-wire/pkg/buffer"

	"github.com/streamsql/streamsql"
	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/sql"
)

// Config configures a Server.
type Config struct {
	// Engine is shared by every connection; the server never closes it.
	Engine *streamsql.Engine
	// Password enables SCRAM-SHA-256 authentication (any user name, this password). Empty: no
	// authentication, which CheckListen allows on loopback addresses only.
	Password string
	// TLS, when set, lets clients upgrade to TLS (sslmode=require and stricter).
	TLS *tls.Config
	// MaxConnections bounds concurrent authenticated sessions; the extra client gets SQLSTATE
	// 53300. Connections still in their handshake do not count. Default 100.
	MaxConnections int
	// MaxHandshakes bounds the connections not yet authenticated; past it the oldest one is
	// dropped for the newcomer. Default 1024 (each holds about 30 KiB).
	MaxHandshakes int
	// LoginBurst is the number of failed logins a client host may make at once; afterwards it
	// earns one attempt back every LoginRefill, and is refused (SQLSTATE 28000, before the
	// password is checked) until then. Defaults 10 and 6s. Only with a Password.
	LoginBurst  int
	LoginRefill time.Duration
	// Now is the clock of the login limiter. Default time.Now.
	Now func() time.Time
	// MessageMemory bounds the bytes of large client messages (64 KiB and more: long statements,
	// big Bind parameters) that all sessions together hold at once; a message that does not fit
	// waits for others to be processed. Default 256 MiB; at least the 16 MiB message limit.
	MessageMemory int64
	// StatementTimeout cancels a statement running longer (SQLSTATE 57014). 0: no limit.
	StatementTimeout time.Duration
	// HandshakeTimeout bounds the startup and authentication of a connection. Default 10s.
	HandshakeTimeout time.Duration
	// Logger receives connection errors and statement failures at debug level. Default: discarded.
	Logger *slog.Logger
	// ProductVersion is streamsql's version, shown after the PostgreSQL version in server_version
	// and version(): "17.0 (streamsql 1.2.3)". Default: the binary's module version.
	ProductVersion string
}

// Server serves one engine over the PostgreSQL wire protocol. Create it with New, run it with
// Serve, stop it with Close.
type Server struct {
	cfg      Config
	wire     *wire.Server
	verifier *scramVerifier
	log      *slog.Logger

	// base is the parent of every statement's context; Close cancels it.
	base   context.Context
	cancel context.CancelFunc

	hs     *handshakes
	logins *loginLimiter // nil without a password
	budget *memoryBudget

	mu       sync.Mutex
	conns    map[string]*conn // by remote address
	byPID    map[int32]*conn
	active   atomic.Int64 // open connections: handshakes and sessions
	sessions atomic.Int64 // authenticated connections, bounded by MaxConnections
	total    atomic.Int64 // connections accepted since New
	closed   atomic.Bool
}

// Connections is the number of open client connections, authenticated or not.
func (s *Server) Connections() int64 { return s.active.Load() }

// Sessions is the number of authenticated connections.
func (s *Server) Sessions() int64 { return s.sessions.Load() }

// Handshakes is the number of connections not yet authenticated.
func (s *Server) Handshakes() int { return s.hs.len() }

// ConnectionsTotal is the number of client connections accepted since the server was created,
// including those refused afterwards for the connection limit.
func (s *Server) ConnectionsTotal() int64 { return s.total.Load() }

// Closed reports whether Close has been called.
func (s *Server) Closed() bool { return s.closed.Load() }

// New validates cfg and builds a server.
func New(cfg Config) (*Server, error) {
	if cfg.Engine == nil {
		return nil, errors.New("server: Config.Engine is nil")
	}
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = 100
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = 10 * time.Second
	}
	if cfg.MaxHandshakes <= 0 {
		cfg.MaxHandshakes = 1024
	}
	if cfg.LoginBurst <= 0 {
		cfg.LoginBurst = 10
	}
	if cfg.LoginRefill <= 0 {
		cfg.LoginRefill = 6 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MessageMemory <= 0 {
		cfg.MessageMemory = 256 << 20
	}
	cfg.MessageMemory = max(cfg.MessageMemory, maxGuardedMessage)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ProductVersion == "" {
		cfg.ProductVersion = buildVersion()
	}
	s := &Server{cfg: cfg, log: cfg.Logger, conns: map[string]*conn{}, byPID: map[int32]*conn{}, hs: newHandshakes(cfg.MaxHandshakes), budget: newMemoryBudget(cfg.MessageMemory)}
	s.base, s.cancel = context.WithCancel(context.Background())
	if cfg.Password != "" {
		if strings.TrimSpace(cfg.Password) == "" {
			return nil, errors.New("server: the password is only white space")
		}
		v, err := newScramVerifier(cfg.Password)
		if err != nil {
			return nil, err
		}
		s.verifier = v
		s.logins = newLoginLimiter(cfg.LoginBurst, cfg.LoginRefill, cfg.Now)
	}
	opts := []wire.OptionFn{
		wire.Logger(slog.New(demoted{cfg.Logger.Handler()})),
		wire.SessionAuthStrategy(s.authenticate),
		wire.BackendKeyData(s.backendKey),
		wire.CancelRequest(s.cancelRequest),
		wire.GlobalParameters(wire.Parameters{
			"standard_conforming_strings": "on",
			"DateStyle":                   "ISO, MDY",
			"TimeZone":                    "UTC",
			"integer_datetimes":           "on",
			"IntervalStyle":               "postgres",
		}),
		wire.ExtendTypes(registerCellCodecs),
		wire.WithShutdownTimeout(2 * time.Second),
		wire.TxStatus(s.txStatusOf),
		wire.Version(s.serverVersion()),
		wire.SyncConn(s.syncConn),
		// Small until authentication, which raises the message limit (see limits.go).
		wire.MessageBufferSize(wireReadBuffer),
	}
	ws, err := wire.NewServer(s.parse, opts...)
	if err != nil {
		return nil, err
	}
	s.wire = ws
	return s, nil
}

// CheckListen refuses to serve a non-loopback address without a password: anyone who can reach
// the port could otherwise run any statement. Host names other than localhost count as
// non-loopback.
func CheckListen(addr string, hasPassword bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %v", addr, err)
	}
	if hasPassword || isLoopback(host) {
		return nil
	}
	return fmt.Errorf("refusing to listen on %s without a password: anyone who can reach it could run any statement; set --password-file or STREAMSQL_PASSWORD, or listen on 127.0.0.1", addr)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Serve accepts connections on l until Close. It returns nil after Close.
func (s *Server) Serve(l net.Listener) error {
	return s.wire.Serve(&listener{Listener: l, srv: s})
}

// Close stops accepting connections, cancels running statements and drops every connection.
// Continuous queries keep running: they belong to the engine, which the caller closes.
func (s *Server) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	s.cancel()
	for _, c := range s.openConns() {
		c.cancelRunning(errors.New("the server is shutting down"))
		c.Close()
	}
	err := s.wire.Close()
	s.wire.Wait()
	return err
}

// openConns is a snapshot of the open connections, to act on without holding s.mu.
func (s *Server) openConns() []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	conns := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		conns = append(conns, c)
	}
	return conns
}

// listener tracks accepted connections and retries transient accept errors (such as running
// out of file descriptors) instead of stopping the server.
type listener struct {
	net.Listener
	srv *Server
}

func (l *listener) Accept() (net.Conn, error) {
	delay := 5 * time.Millisecond
	for {
		nc, err := l.Listener.Accept()
		if err == nil {
			c := l.srv.track(nc)
			c.guard = newGuardedConn(c, l.srv.cfg.TLS)
			return c.guard, nil
		}
		if errors.Is(err, net.ErrClosed) || l.srv.closed.Load() {
			return nil, net.ErrClosed
		}
		l.srv.log.Debug("accept failed; retrying", "err", err)
		time.Sleep(delay)
		delay = min(2*delay, time.Second)
	}
}

// conn is one client connection and the statement it is running.
type conn struct {
	net.Conn
	srv         *Server
	addr        string
	pid, secret int32

	pending       *list.Element // in srv.hs while the handshake runs; guarded by srv.hs.mu
	authenticated atomic.Bool   // the guard lifts its pre-authentication message limit
	session       atomic.Bool   // counted in srv.sessions
	held          int64         // bytes of srv.budget held; guarded by srv.budget.mu
	closedFlag    bool          // guarded by srv.budget.mu

	guard          *guardedConn // the connection psql-wire reads and writes; raw COPY and notices use it
	tx             txState
	user, database string // from the startup message; set by authenticate before any statement

	mu      sync.Mutex
	running context.CancelCauseFunc
	once    sync.Once
}

func (s *Server) track(nc net.Conn) *conn {
	c := &conn{Conn: nc, srv: s, addr: nc.RemoteAddr().String()}
	var b [8]byte
	_, _ = rand.Read(b[:])
	c.secret = int32(binary.LittleEndian.Uint32(b[4:]))
	_ = nc.SetDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	s.active.Add(1)
	s.total.Add(1)
	s.mu.Lock()
	for {
		c.pid = int32(binary.LittleEndian.Uint32(b[:4]) & 0x7fffffff)
		if _, dup := s.byPID[c.pid]; !dup && c.pid != 0 {
			break
		}
		_, _ = rand.Read(b[:4])
	}
	s.conns[c.addr] = c
	s.byPID[c.pid] = c
	s.mu.Unlock()
	if old := s.hs.add(c); old != nil {
		s.log.Debug("dropping the oldest unauthenticated connection", "conn", old.pid, "max_handshakes", s.cfg.MaxHandshakes)
		old.Close()
	}
	return c
}

// Close closes the connection once, cancelling its running statement.
func (c *conn) Close() error {
	var err error
	c.once.Do(func() {
		c.cancelRunning(errCanceled)
		err = c.Conn.Close()
		s := c.srv
		s.mu.Lock()
		if s.conns[c.addr] == c {
			delete(s.conns, c.addr)
		}
		delete(s.byPID, c.pid)
		s.mu.Unlock()
		s.hs.done(c)
		s.budget.closed(c)
		if c.session.CompareAndSwap(true, false) {
			s.sessions.Add(-1)
		}
		s.active.Add(-1)
	})
	return err
}

func (c *conn) cancelRunning(cause error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running != nil {
		c.running(cause)
	}
}

// startStatement records cancel as the connection's running statement, the one a cancel request
// or Close ends; the statement calls the returned end when it is over (cancel is then not called
// any more by them).
func (c *conn) startStatement(cancel context.CancelCauseFunc) (end func()) {
	c.mu.Lock()
	c.running = cancel
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		c.running = nil
		c.mu.Unlock()
	}
}

// statementRunning reports whether a statement is between startStatement and its end.
func (c *conn) statementRunning() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.running != nil
}

func (s *Server) connOf(ctx context.Context) *conn {
	addr := wire.RemoteAddress(ctx)
	if addr == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns[addr.String()]
}

// authenticate enforces the login rate limit and the session limit, authenticates (SCRAM-SHA-256
// when a password is set), turns the handshake into a session and lifts the handshake deadline
// and the pre-authentication message limit.
func (s *Server) authenticate(ctx context.Context, w *buffer.Writer, r *buffer.Reader) (_ context.Context, err error) {
	defer recoverTo(&err, s.log)
	c := s.connOf(ctx)
	if c == nil {
		return ctx, errors.New("connection is not tracked")
	}
	tooMany := func() error {
		e := pgerror.WithCode(fmt.Errorf("too many connections (max %d)", s.cfg.MaxConnections), codes.TooManyConnections)
		_ = writeFatal(w, e)
		return e
	}
	if s.sessions.Load() >= int64(s.cfg.MaxConnections) {
		return ctx, tooMany()
	}
	if s.verifier != nil {
		host := hostOf(wire.RemoteAddress(ctx))
		if wait := s.logins.retryAfter(host); wait > 0 {
			e := pgerror.WithCode(fmt.Errorf("too many failed login attempts from %s; try again in %ds", host, int(wait.Seconds())+1), codes.InvalidAuthorizationSpecification)
			_ = writeFatal(w, e)
			return ctx, e
		}
		user := wire.ClientParameters(ctx)[wire.ParamUsername]
		if err := s.verifier.authenticate(user, r, w, func() { s.logins.failed(host) }); err != nil {
			return ctx, err
		}
	} else if err := writeAuthOK(w); err != nil {
		return ctx, err
	}
	if !s.hs.done(c) {
		return ctx, errors.New("connection dropped during its handshake")
	}
	if s.sessions.Add(1) > int64(s.cfg.MaxConnections) {
		s.sessions.Add(-1)
		return ctx, tooMany()
	}
	params := wire.ClientParameters(ctx)
	c.user, c.database = params[wire.ParamUsername], params[wire.ParamDatabase]
	c.session.Store(true)
	c.authenticated.Store(true)
	r.MaxMessageSize = maxGuardedMessage
	return ctx, c.Conn.SetDeadline(time.Time{})
}

func (s *Server) backendKey(ctx context.Context) (int32, int32) {
	if c := s.connOf(ctx); c != nil {
		return c.pid, c.secret
	}
	return 0, 0
}

// cancelRequest cancels the statement of the connection with that key (psql's Ctrl-C, a pgx
// context cancellation). A wrong secret is ignored silently, as PostgreSQL does.
func (s *Server) cancelRequest(_ context.Context, pid, secret int32) error {
	s.mu.Lock()
	c := s.byPID[pid]
	s.mu.Unlock()
	if c == nil || subtle.ConstantTimeEq(c.secret, secret) != 1 {
		return nil
	}
	c.cancelRunning(errCanceled)
	return nil
}

// parse is psql-wire's entry point for both protocols. Simple queries run here, statement by
// statement, and the returned statements replay their results; extended-protocol statements
// are only described here and run at Execute.
func (s *Server) parse(ctx context.Context, q wire.Query) (stmts wire.PreparedStatements, err error) {
	defer recoverTo(&err, s.log)
	c := s.connOf(ctx)
	if c == nil {
		return nil, errors.New("connection is not tracked")
	}
	if q.SimpleQuery {
		return s.simpleQuery(c, q.Query), nil
	}
	return s.prepare(ctx, c, q)
}

// simpleQuery runs every statement of text in order, stopping at the first error, which is
// reported after the results of the statements before it.
func (s *Server) simpleQuery(c *conn, text string) wire.PreparedStatements {
	var out wire.PreparedStatements
	pieces := sql.SplitStatements(text)
	for i, st := range pieces {
		if isCopy(st.Text) {
			// COPY acts when psql-wire executes it (it exchanges messages with the client), after
			// the statements before it have been answered; a statement after it would run first.
			if i < len(pieces)-1 {
				err := pgerror.WithCode(errors.New("COPY must be the last statement of a query string"), codes.FeatureNotSupported)
				return append(out, wire.NewStatement(func(context.Context, wire.DataWriter, []wire.Parameter) error { return err }))
			}
			return append(out, s.copyStatement(c, st.Text))
		}
		if streamsql.IsSubscribe(st.Text) {
			if err := c.tx.admit(st.Text); err != nil {
				return append(out, wire.NewStatement(func(context.Context, wire.DataWriter, []wire.Parameter) error { return err }))
			}
			return append(out, s.subscribeSimple(c, st.Text, i < len(pieces)-1))
		}
		res, err := s.run(c, st.Text)
		if err != nil {
			var se *sql.Error
			if errors.As(err, &se) && se.Pos >= 0 {
				se.Pos += st.Offset
				se.Source = text
			}
			out = append(out, wire.NewStatement(func(context.Context, wire.DataWriter, []wire.Parameter) error {
				return wireError(err)
			}))
			return out
		}
		cols := res.columns()
		out = append(out, wire.NewStatement(func(ctx context.Context, w wire.DataWriter, _ []wire.Parameter) error {
			if err := writeResult(c, w, res, cols); err != nil {
				c.tx.failed()
				return err
			}
			return nil
		}, wire.WithColumns(cols)))
	}
	if len(out) == 0 {
		out = append(out, wire.NewStatement(func(_ context.Context, w wire.DataWriter, _ []wire.Parameter) error {
			return w.Empty()
		}))
	}
	return out
}

// prepare describes one statement for the extended protocol: result columns and parameter
// types. Execute substitutes the bound values as typed literals and runs it.
func (s *Server) prepare(ctx context.Context, c *conn, q wire.Query) (wire.PreparedStatements, error) {
	pieces := sql.SplitStatements(q.Query)
	if len(pieces) > 1 {
		return nil, pgerror.WithCode(errors.New("cannot insert multiple commands into a prepared statement"), codes.Syntax)
	}
	if len(pieces) == 0 {
		return wire.Prepared(wire.NewStatement(func(_ context.Context, w wire.DataWriter, _ []wire.Parameter) error {
			return w.Empty()
		})), nil
	}
	text := pieces[0].Text
	if _, ok, _ := parseTxCommand(text); ok {
		// Transaction control has no parameters and no columns; it acts at Execute.
		return wire.Prepared(wire.NewStatement(func(_ context.Context, w wire.DataWriter, params []wire.Parameter) error {
			if len(params) != 0 {
				return pgerror.WithCode(fmt.Errorf("bind message supplies %d parameters, but prepared statement requires 0", len(params)), codes.ProtocolViolation)
			}
			res, err := s.run(c, text)
			if err != nil {
				return wireError(err)
			}
			return writeResult(c, w, res, nil)
		})), nil
	}
	if isCopy(text) {
		if _, err := parseCopy(text); err != nil {
			return nil, err
		}
		return wire.Prepared(s.copyStatement(c, text)), nil
	}
	if err := c.tx.admit(text); err != nil {
		return nil, err
	}
	if streamsql.IsSubscribe(text) {
		return s.prepareSubscribe(c, text)
	}
	ctx = streamsql.WithSession(ctx, s.sessionOf(c))
	ph := placeholders(text)
	n := numParams(ph)
	oids := make([]uint32, n)
	var cols wire.Columns
	if em, ok := s.emulate(ctx, nullParams(text, ph)); ok {
		// Catalog emulation: parameters are text, the answer is computed at Execute.
		for i := range oids {
			oids[i] = oidText
			if i < len(q.ParameterOIDs) && q.ParameterOIDs[i] != 0 {
				oids[i] = q.ParameterOIDs[i]
			}
		}
		cols = em.columns()
	} else {
		d, err := describe(ctx, s.cfg.Engine, text, n, q.ParameterOIDs)
		if err != nil {
			return nil, wireError(err)
		}
		for i, t := range d.params {
			oids[i] = oidOfEngineType(t)
			if i < len(q.ParameterOIDs) && q.ParameterOIDs[i] != 0 {
				oids[i] = q.ParameterOIDs[i]
			}
		}
		if d.schema != nil {
			if err := checkColumnCount(d.schema.NumFields()); err != nil {
				return nil, wireError(err)
			}
		}
		cols = columnsOf(d.schema)
	}
	exec := func(ctx context.Context, w wire.DataWriter, params []wire.Parameter) (err error) {
		defer recoverTo(&err, s.log)
		if len(params) != n {
			return pgerror.WithCode(fmt.Errorf("bind message supplies %d parameters, but prepared statement requires %d", len(params), n), codes.ProtocolViolation)
		}
		lits := make([]string, n)
		for i, p := range params {
			if lits[i], err = literal(wire.TypeMap(ctx), oids[i], p); err != nil {
				code := codes.InvalidTextRepresentation
				if c := exec.SQLState(err); c != "" {
					code = codes.Code(c) // 22007 for a bad date/time
				}
				return pgerror.WithCode(fmt.Errorf("parameter $%d: %w", i+1, err), code)
			}
		}
		bound, err := substitute(text, ph, lits)
		if err != nil {
			return pgerror.WithCode(err, codes.ProtocolViolation)
		}
		res, err := s.run(c, bound)
		if err != nil {
			return wireError(err)
		}
		if !sameColumns(cols, res.columns()) {
			res.Release()
			return pgerror.WithCode(errors.New("cached plan must not change result type"), codes.FeatureNotSupported)
		}
		return writeResult(c, w, res, cols)
	}
	return wire.Prepared(wire.NewStatement(exec, wire.WithParameters(oids), wire.WithColumns(cols))), nil
}

func nullParams(text string, ph []placeholder) string {
	lits := make([]string, numParams(ph))
	for i := range lits {
		lits[i] = "NULL"
	}
	out, _ := substitute(text, ph, lits)
	return out
}

func sameColumns(a, b wire.Columns) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Oid != b[i].Oid {
			return false
		}
	}
	return true
}

// result is what one statement produced: an engine result or an emulated catalog answer.
type result struct {
	*streamsql.Result
	emulated *emulated
	warn     *notice // sent before the result (BEGIN inside a block, COMMIT outside one)
}

func (r *result) columns() wire.Columns {
	if r.emulated != nil {
		return r.emulated.columns()
	}
	if !r.HasRows() {
		return nil
	}
	return columnsOf(r.Schema)
}

// run executes one statement under the connection's cancellation and the statement timeout.
func (s *Server) run(c *conn, text string) (res *result, err error) {
	defer recoverTo(&err, s.log)
	// Not a child of s.base: 200 connections registering children of one context contend on its
	// lock on every statement. Close cancels running statements through conn.running instead.
	ctx, cancel := context.WithCancelCause(streamsql.WithSession(context.Background(), s.sessionOf(c)))
	defer cancel(nil)
	if s.closed.Load() {
		return nil, errors.New("the server is shutting down")
	}
	if s.cfg.StatementTimeout > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeoutCause(ctx, s.cfg.StatementTimeout, errTimeout)
		defer stop()
	}
	end := c.startStatement(cancel)
	defer func() {
		end()
		if err != nil {
			// Redacted: a CREATE SINK's text (and a syntax error quoting it) may hold a password.
			s.log.Debug("statement failed", "conn", c.pid, "statement", redactStatement(text), "err", redactStatement(err.Error()))
		}
	}()
	if cmd, ok, err := parseTxCommand(text); ok {
		if err != nil {
			c.tx.failed()
			return nil, err
		}
		tag, warn, err := c.tx.apply(cmd)
		if err != nil {
			return nil, err
		}
		return &result{emulated: command(tag), warn: warn}, nil
	}
	defer func() {
		if err != nil {
			c.tx.failed()
		}
	}()
	if err := c.tx.admit(text); err != nil {
		return nil, err
	}
	if em, ok := s.emulate(ctx, text); ok {
		if em.err != nil {
			return nil, em.err
		}
		return &result{emulated: em}, nil
	}
	out, err := s.cfg.Engine.Exec(ctx, text)
	if err != nil {
		if cause := context.Cause(ctx); cause != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil) {
			err = cause
		} else if ctx.Err() == nil {
			err = notCanceled(err)
		}
		for _, r := range out {
			r.Release()
		}
		return nil, err
	}
	if len(out) != 1 {
		for _, r := range out {
			r.Release()
		}
		return nil, fmt.Errorf("internal: %d results for one statement", len(out))
	}
	if out[0].HasRows() {
		if err := checkColumnCount(out[0].Schema.NumFields()); err != nil {
			out[0].Release()
			return nil, err
		}
	} else {
		c.tx.wrote() // a command took effect: a ROLLBACK of the block cannot undo it
	}
	return &result{Result: out[0]}, nil
}

// writeResult sends a result's rows and command tag, then releases it.
func writeResult(c *conn, w wire.DataWriter, res *result, cols wire.Columns) error {
	if res.warn != nil {
		if err := c.sendNotice(*res.warn); err != nil {
			return err
		}
	}
	if res.emulated != nil {
		return res.emulated.write(w)
	}
	defer res.Release()
	for _, msg := range res.Notices {
		// 00000: successful completion; a NOTICE such as "CREATE skipped" for a restored object.
		if err := c.sendNotice(notice{severity: "NOTICE", code: "00000", msg: msg}); err != nil {
			return err
		}
	}
	if !res.HasRows() {
		return w.Complete(res.Tag)
	}
	const chunk = 1024
	for _, rec := range res.Records {
		nrows := int(rec.NumRows())
		for start := 0; start < nrows; start += chunk {
			end := min(start+chunk, nrows)
			rows := make([][]any, 0, end-start)
			for i := start; i < end; i++ {
				row := make([]any, rec.NumCols())
				for j := range row {
					row[j] = cellValue(rec.Column(j), i)
				}
				rows = append(rows, row)
			}
			if err := wire.WriteRows(w, rows); err != nil {
				return err
			}
		}
	}
	return w.Complete(res.Tag)
}

// emulated is a result the server computes itself (catalog queries, SET, SHOW of a setting).
type emulated struct {
	tag    string
	names  []string
	oids   []uint32
	rows   [][]any // plain Go values pgtype encodes for the column OIDs; nil is NULL
	err    error
	noRows bool // a command: only the tag
}

func (e *emulated) columns() wire.Columns {
	if e.noRows {
		return nil
	}
	cols := make(wire.Columns, len(e.names))
	for i, n := range e.names {
		cols[i] = wire.Column{Name: n, Oid: e.oids[i], Width: -1, AttrNo: int16(i + 1)}
	}
	return cols
}

func (e *emulated) write(w wire.DataWriter) error {
	if e.err != nil {
		return wireError(e.err)
	}
	if err := wire.WriteRows(w, e.rows); err != nil {
		return err
	}
	tag := e.tag
	if !e.noRows && tag == "SELECT" {
		tag = fmt.Sprintf("SELECT %d", len(e.rows))
	}
	return w.Complete(tag)
}

// recoverTo turns a panic in a handler into an error (SQLSTATE XX000) so one bad statement or
// client cannot take down the server.
func recoverTo(err *error, log *slog.Logger) {
	if r := recover(); r != nil {
		log.Error("panic in connection handler", "panic", r, "stack", string(debug.Stack()))
		*err = pgerror.WithCode(fmt.Errorf("internal error: %v", r), codes.Internal)
	}
}

// demoted passes psql-wire's own log lines on at debug level only: its per-message chatter
// (debug) is dropped, its connection errors become one debug line each.
type demoted struct{ h slog.Handler }

func (d demoted) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo && d.h.Enabled(ctx, slog.LevelDebug)
}

func (d demoted) Handle(ctx context.Context, r slog.Record) error {
	r.Level = slog.LevelDebug
	return d.h.Handle(ctx, r)
}
func (d demoted) WithAttrs(a []slog.Attr) slog.Handler { return demoted{d.h.WithAttrs(a)} }
func (d demoted) WithGroup(g string) slog.Handler      { return demoted{d.h.WithGroup(g)} }
