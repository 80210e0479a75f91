package server

import (
	"container/list"
	"net"
	"sync"
	"time"
)

// Connection admission: what an unauthenticated client can hold.
//
// A connection is a handshake from accept until authentication succeeds, then a session.
// Handshakes do not count against MaxConnections, so sockets that never finish their startup
// (slowloris) cannot lock real clients out; they are bounded on their own by MaxHandshakes,
// and when that is reached the oldest handshake is dropped for the new one, so a flood delays a
// real client by at most its own handshake. Every handshake also ends at HandshakeTimeout.
// Before authentication a connection's buffers are small (preAuthMessageLimit): the memory a
// client without credentials can pin is a few tens of KiB per socket.

const (
	// preAuthMessageLimit bounds every client message before authentication succeeds: the
	// startup packet (PostgreSQL's own limit is 10,000 bytes) and the SASL messages (~100 bytes).
	preAuthMessageLimit = maxStartupMessage
	// wireReadBuffer is the size of psql-wire's per-connection read buffer. Messages larger than
	// it are read straight into a message-sized slice that lives until the next message.
	wireReadBuffer = 16 << 10
)

// handshakes tracks the connections not yet authenticated, oldest first.
type handshakes struct {
	mu    sync.Mutex
	max   int
	order *list.List // of *conn
}

func newHandshakes(max int) *handshakes { return &handshakes{max: max, order: list.New()} }

// add registers c and returns the oldest handshake to drop when the bound is exceeded.
func (h *handshakes) add(c *conn) (evict *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c.pending = h.order.PushBack(c)
	if h.order.Len() > h.max {
		oldest := h.order.Front()
		h.order.Remove(oldest)
		evict = oldest.Value.(*conn)
		evict.pending = nil
	}
	return evict
}

// done removes c (authenticated or closed); it reports whether c was still a handshake.
func (h *handshakes) done(c *conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c.pending == nil {
		return false
	}
	h.order.Remove(c.pending)
	c.pending = nil
	return true
}

func (h *handshakes) len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.order.Len()
}

// loginLimiter bounds failed logins per client host with a token bucket: burst failures at
// once, then one more per refill interval. While a host has no token left its connections are
// refused before the password is checked, so guessing runs at the refill rate at best.
type loginLimiter struct {
	mu      sync.Mutex
	burst   float64
	refill  time.Duration // time to earn one attempt back
	now     func() time.Time
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// maxTrackedHosts bounds the limiter's memory; full buckets are forgotten first.
const maxTrackedHosts = 1 << 16

func newLoginLimiter(burst int, refill time.Duration, now func() time.Time) *loginLimiter {
	return &loginLimiter{burst: float64(burst), refill: refill, now: now, buckets: map[string]*bucket{}}
}

// hostOf is the address part of a remote address: the limit is per host, not per port.
func hostOf(addr net.Addr) string {
	if addr == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	return host
}

// current refreshes b to now. The caller holds l.mu.
func (l *loginLimiter) current(b *bucket, now time.Time) {
	if el := now.Sub(b.at); el > 0 {
		b.tokens = min(l.burst, b.tokens+float64(el)/float64(l.refill))
		b.at = now
	}
}

// retryAfter reports how long host must wait before its next login attempt (0: it may try).
func (l *loginLimiter) retryAfter(host string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[host]
	if b == nil {
		return 0
	}
	now := l.now()
	l.current(b, now)
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) * float64(l.refill))
}

// failed spends one token of host.
func (l *loginLimiter) failed(host string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.buckets[host]
	if b == nil {
		if len(l.buckets) >= maxTrackedHosts {
			l.prune(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[host] = b
	}
	l.current(b, now)
	b.tokens = max(b.tokens-1, 0)
}

// prune forgets hosts whose bucket has refilled, then, if that is not enough, arbitrary ones
// (an attacker with 65,536 addresses gets a fresh burst on some of them; memory stays bounded).
func (l *loginLimiter) prune(now time.Time) {
	for h, b := range l.buckets {
		l.current(b, now)
		if b.tokens >= l.burst {
			delete(l.buckets, h)
		}
	}
	for h := range l.buckets {
		if len(l.buckets) < maxTrackedHosts {
			break
		}
		delete(l.buckets, h)
	}
}

// largeMessage is the size from which an authenticated client's message draws on the server's
// MessageMemory budget: smaller ones cost little more than the connection's own buffers.
const largeMessage = 64 << 10

// memoryBudget bounds the bytes of large client messages held at once across all sessions. A
// session's large message holds its share from when the guard reads it until the guard reads
// the next message (by then psql-wire has handled it) or the connection closes. A message that
// does not fit waits: the client's socket is not read meanwhile, so it costs nothing.
type memoryBudget struct {
	mu   sync.Mutex
	cond *sync.Cond
	free int64
}

func newMemoryBudget(total int64) *memoryBudget {
	b := &memoryBudget{free: total}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// acquire takes n bytes for c, waiting until they are free; it gives up (false) when c closes.
func (b *memoryBudget) acquire(c *conn, n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.free < n {
		if c.closedFlag {
			return false
		}
		b.cond.Wait()
	}
	if c.closedFlag {
		return false
	}
	b.free -= n
	c.held += n
	return true
}

// release returns what c holds.
func (b *memoryBudget) release(c *conn) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if c.held > 0 {
		b.free += c.held
		c.held = 0
		b.cond.Broadcast()
	}
}

// closed marks c closed and wakes its waiting acquire.
func (b *memoryBudget) closed(c *conn) {
	b.mu.Lock()
	c.closedFlag = true
	b.mu.Unlock()
	b.release(c)
	b.mu.Lock()
	b.cond.Broadcast()
	b.mu.Unlock()
}
