package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/streamsql/streamsql"
)

// startupPacket is a protocol 3.0 startup message for user.
func startupPacket(user string) []byte {
	body := []byte{0, 3, 0, 0}
	for _, kv := range [][2]string{{"user", user}, {"database", "db"}} {
		body = append(body, kv[0]...)
		body = append(body, 0)
		body = append(body, kv[1]...)
		body = append(body, 0)
	}
	body = append(body, 0)
	out := binary.BigEndian.AppendUint32(nil, uint32(len(body)+4))
	return append(out, body...)
}

// readBackend reads one server message: its type and body.
func readBackend(r io.Reader) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	body := make([]byte, binary.BigEndian.Uint32(hdr[1:])-4)
	_, err := io.ReadFull(r, body)
	return hdr[0], body, err
}

// rssBytes is this process's resident set size from /proc.
func rssBytes(t *testing.T) int64 {
	t.Helper()
	if raceEnabled {
		t.Skip("RSS limits are for the binary without the race detector, which multiplies each goroutine's memory")
	}
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}

func settledRSS(t *testing.T) int64 {
	runtime.GC()
	debug.FreeOSMemory()
	return rssBytes(t)
}

// openHandshakes opens n connections that send a startup packet and wait at the password
// prompt (the server's SASL request has arrived), as an unauthenticated client would.
func openHandshakes(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, 0, n)
	for i := range n {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		conns = append(conns, nc)
		if _, err := nc.Write(startupPacket("idle")); err != nil {
			t.Fatal(err)
		}
	}
	for i, nc := range conns {
		nc.SetReadDeadline(time.Now().Add(30 * time.Second))
		typ, body, err := readBackend(nc)
		if err != nil || typ != 'R' || binary.BigEndian.Uint32(body) != authSASL {
			t.Fatalf("connection %d: no SASL request: %q %v", i, typ, err)
		}
	}
	return conns
}

// TestIdleUnauthenticatedConnectionsMemory: 2,000 connections waiting in authentication keep
// the process under 300 MiB (they took 11.5 GB when every connection got a 16 MiB buffer), a
// real client still gets in, and the memory returns once they close.
func TestIdleUnauthenticatedConnectionsMemory(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < 4200 {
		t.Skipf("needs 4,200 file descriptors (2,000 connections, both ends), the limit is %d", lim.Cur)
	}
	ts := startServer(t, Config{Password: "pw", MaxHandshakes: 2500, HandshakeTimeout: time.Minute})
	before := settledRSS(t)
	conns := openHandshakes(t, ts.addr, 2000)
	if got := ts.srv.Handshakes(); got != 2000 {
		t.Fatalf("%d handshakes, want 2000", got)
	}
	runtime.GC()
	during := rssBytes(t)
	t.Logf("RSS: %d MiB before, %d MiB with 2,000 idle unauthenticated connections", before>>20, during>>20)
	if during > 300<<20 {
		t.Fatalf("RSS %d MiB with 2,000 idle connections (limit 300 MiB)", during>>20)
	}
	c := connect(t, "postgres://real:pw@"+ts.addr+"/db?sslmode=disable")
	var n int64
	if err := c.QueryRow(context.Background(), "SELECT 40 + 2").Scan(&n); err != nil || n != 42 {
		t.Fatalf("a real client among 2,000 idle ones: %d %v", n, err)
	}
	for _, nc := range conns {
		nc.Close()
	}
	waitFor(t, func() bool { return ts.srv.Handshakes() == 0 })
	after := settledRSS(t)
	t.Logf("RSS after they closed: %d MiB", after>>20)
	if after > before+64<<20 {
		t.Fatalf("RSS %d MiB after the connections closed, %d MiB before", after>>20, before>>20)
	}
}

// TestSlowlorisDoesNotLockOut: 200 sockets that never finish their startup packet neither count
// against MaxConnections nor, past MaxHandshakes, keep a real client from connecting.
func TestSlowlorisDoesNotLockOut(t *testing.T) {
	for _, maxHS := range []int{0, 50} {
		t.Run(fmt.Sprintf("max_handshakes=%d", maxHS), func(t *testing.T) {
			ts := startServer(t, Config{MaxConnections: 10, MaxHandshakes: maxHS, HandshakeTimeout: time.Minute})
			var slow []net.Conn
			for range 200 {
				nc, err := net.Dial("tcp", ts.addr)
				if err != nil {
					t.Fatal(err)
				}
				nc.Write(startupPacket("slow")[:6]) // a startup packet, cut short
				slow = append(slow, nc)
			}
			defer func() {
				for _, nc := range slow {
					nc.Close()
				}
			}()
			waitFor(t, func() bool { return ts.srv.ConnectionsTotal() == 200 })
			for i := range 3 {
				c := connect(t, ts.url(""))
				var n int64
				if err := c.QueryRow(context.Background(), "SELECT 1").Scan(&n); err != nil || n != 1 {
					t.Fatalf("client %d: %d %v", i, n, err)
				}
			}
			if got := ts.srv.Sessions(); got != 3 {
				t.Fatalf("%d sessions, want 3", got)
			}
			if maxHS > 0 && ts.srv.Handshakes() > maxHS {
				t.Fatalf("%d handshakes held, limit %d", ts.srv.Handshakes(), maxHS)
			}
		})
	}
}

// TestHandshakeDeadline: a socket that sends nothing is closed at the handshake deadline.
func TestHandshakeDeadline(t *testing.T) {
	ts := startServer(t, Config{HandshakeTimeout: 200 * time.Millisecond})
	nc, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = nc.Read(make([]byte, 1))
	var ne net.Error
	if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("the silent connection was not closed by the server: %v", err)
	}
	waitFor(t, func() bool { return ts.srv.Connections() == 0 })
}

// TestLargeMessagesBeforeAuthenticationAreRefused: before authentication no message may exceed
// the startup limit, so a client without the password cannot make the server buffer megabytes.
func TestLargeMessagesBeforeAuthenticationAreRefused(t *testing.T) {
	ts := startServer(t, Config{Password: "pw"})
	nc, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write(startupPacket("big"))
	r := bufio.NewReader(nc)
	if typ, _, err := readBackend(r); err != nil || typ != 'R' {
		t.Fatalf("no auth request: %q %v", typ, err)
	}
	// A 4 MiB "password" message: the server must close without reading it.
	hdr := []byte{'p', 0, 0, 0, 0}
	binary.BigEndian.PutUint32(hdr[1:], 4<<20)
	nc.Write(hdr)
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Fatalf("the connection was not closed: %v", err)
	}
	// An authenticated session may send a statement of several MiB.
	c := connect(t, "postgres://u:pw@"+ts.addr+"/db?sslmode=disable")
	var n int64
	if err := c.QueryRow(context.Background(), "SELECT length('"+strings.Repeat("x", 3<<20)+"')").Scan(&n); err != nil || n != 3<<20 {
		t.Fatalf("a 3 MiB statement: %d %v", n, err)
	}
}

// fakeClock is the login limiter's clock in tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// dialFrom connects with a given local loopback address (Linux routes all of 127/8 to lo).
func dialFrom(t *testing.T, url, local string) (*pgx.Conn, error) {
	t.Helper()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	cfg.DialFunc = d.DialContext
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err == nil {
		t.Cleanup(func() { c.Close(context.Background()) })
	}
	return c, err
}

// TestLoginRateLimit: after the burst of failed logins a host is refused, even with the right
// password, until the refill interval has passed; other hosts are not affected.
func TestLoginRateLimit(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_000_000, 0)}
	ts := startServer(t, Config{Password: "right", LoginBurst: 3, LoginRefill: time.Minute, Now: clock.now})
	wrong := "postgres://u:wrong@" + ts.addr + "/db?sslmode=disable"
	right := "postgres://u:right@" + ts.addr + "/db?sslmode=disable"
	for i := range 3 {
		if _, err := dialFrom(t, wrong, "127.0.0.1"); pgCode(err) != "28P01" {
			t.Fatalf("wrong password %d: %v", i, err)
		}
	}
	_, err := dialFrom(t, right, "127.0.0.1")
	if pgCode(err) != "28000" || !strings.Contains(err.Error(), "too many failed login attempts from 127.0.0.1") {
		t.Fatalf("after the burst: %v (code %q)", err, pgCode(err))
	}
	if _, err := dialFrom(t, right, "127.0.0.2"); err != nil {
		t.Fatalf("another host: %v", err)
	}
	clock.advance(time.Minute)
	if _, err := dialFrom(t, right, "127.0.0.1"); err != nil {
		t.Fatalf("after the refill interval: %v", err)
	}
	// One attempt was earned back (a success does not spend it); a wrong password spends it.
	if _, err := dialFrom(t, wrong, "127.0.0.1"); pgCode(err) != "28P01" {
		t.Fatalf("wrong password after refill: %v", err)
	}
	if _, err := dialFrom(t, right, "127.0.0.1"); pgCode(err) != "28000" {
		t.Fatalf("the refilled attempt was spent: %v", err)
	}
}

// TestCleartextAnswerToSCRAMIsNotLogged: a client that answers the SCRAM request with a
// cleartext password message (as a misconfigured driver does) is refused, and the password is
// nowhere in the debug log.
func TestCleartextAnswerToSCRAMIsNotLogged(t *testing.T) {
	var logs lockedBuffer
	ts := startServer(t, Config{Password: "pw", Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	nc, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write(startupPacket("alice"))
	r := bufio.NewReader(nc)
	if typ, _, err := readBackend(r); err != nil || typ != 'R' {
		t.Fatalf("no auth request: %q %v", typ, err)
	}
	const secret = "Tr0ub4dor&3-cleartext"
	msg := []byte{'p', 0, 0, 0, 0}
	msg = append(msg, secret...)
	msg = append(msg, 0)
	binary.BigEndian.PutUint32(msg[1:], uint32(len(msg)-1))
	nc.Write(msg)
	typ, body, err := readBackend(r)
	if err != nil || typ != 'E' || !bytes.Contains(body, []byte("28P01")) {
		t.Fatalf("want a 28P01 error, got %q %q %v", typ, body, err)
	}
	waitFor(t, func() bool { return ts.srv.Connections() == 0 })
	if strings.Contains(logs.String(), secret) || strings.Contains(logs.String(), "Tr0ub4dor") {
		t.Fatalf("the password reached the log:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "SCRAM authentication") {
		t.Fatalf("the failure was not logged at all:\n%s", logs.String())
	}
}

func TestWhitespacePasswordRefused(t *testing.T) {
	for _, pw := range []string{" ", "\t\n", "   \r\n"} {
		if _, err := New(Config{Engine: newEngine(t), Password: pw}); err == nil || !strings.Contains(err.Error(), "white space") {
			t.Errorf("password %q: %v", pw, err)
		}
	}
}

func newEngine(t *testing.T) *streamsql.Engine {
	eng, err := streamsql.Open(streamsql.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

// TestMessageMemoryBudget: large messages of all sessions share one budget; one that does not
// fit waits until another is released, and a closed connection stops waiting.
func TestMessageMemoryBudget(t *testing.T) {
	b := newMemoryBudget(100)
	a, c, d := &conn{}, &conn{}, &conn{}
	if !b.acquire(a, 70) {
		t.Fatal("a")
	}
	got := make(chan bool, 1)
	go func() { got <- b.acquire(c, 50) }()
	select {
	case <-got:
		t.Fatal("c got 50 bytes while a holds 70 of 100")
	case <-time.After(50 * time.Millisecond):
	}
	b.release(a)
	if ok := <-got; !ok || c.held != 50 {
		t.Fatalf("c after a's release: %v %d", ok, c.held)
	}
	go func() { got <- b.acquire(d, 80) }()
	time.Sleep(20 * time.Millisecond)
	b.closed(d)
	if ok := <-got; ok {
		t.Fatal("a closed connection acquired memory")
	}
	b.release(c)
	if b.free != 100 {
		t.Fatalf("free %d after every release, want 100", b.free)
	}
}

// TestLargeStatementsShareTheBudget: with a budget for one 10 MiB statement at a time, four
// sessions sending one each concurrently all succeed (they take turns) and the budget is whole
// afterwards.
func TestLargeStatementsShareTheBudget(t *testing.T) {
	ts := startServer(t, Config{MessageMemory: 16 << 20})
	big := "SELECT length('" + strings.Repeat("y", 10<<20) + "')"
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		c := connect(t, ts.url(""))
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			var n int64
			if err := c.QueryRow(ctx, big).Scan(&n); err != nil || n != 10<<20 {
				errs <- fmt.Errorf("%d %v", n, err)
			}
			// The next message releases the share.
			if _, err := c.Exec(ctx, "SELECT 1"); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	ts.srv.budget.mu.Lock()
	free := ts.srv.budget.free
	ts.srv.budget.mu.Unlock()
	if free != 16<<20 {
		t.Fatalf("budget %d free after the statements, want %d", free, 16<<20)
	}
}
