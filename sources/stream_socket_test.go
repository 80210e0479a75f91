package sources

import (
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ncServer plays `nc -lk`: it accepts one client and hands the connection to the test.
func ncServer(t *testing.T) (port string, conns <-chan net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			ch <- c
		}
	}()
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	return port, ch
}

// waitLatest polls Latest until it reaches want (the reader goroutine is asynchronous).
func waitLatest(t *testing.T, s Stream, from Offset, want string) Offset {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		end := latest(t, s, from)
		if string(end) == want {
			return end
		}
		if time.Now().After(deadline) {
			t.Fatalf("Latest = %s, want %s", end, want)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestSocketStream(t *testing.T) {
	port, conns := ncServer(t)
	s, err := OpenStream(StreamConfig{Name: "lines", Schema: schemaOf(t, "value VARCHAR"), Mem: checkedMem(t),
		Options: map[string]string{"connector": "socket", "host": "127.0.0.1", "port": port}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	conn := <-conns
	if end := latest(t, s, nil); end != nil { // nothing new: Latest returns from itself
		t.Fatalf("Latest before any data = %s", end)
	}
	if _, err := conn.Write([]byte("apache spark\r\nhello world\n\n")); err != nil {
		t.Fatal(err)
	}
	e1 := waitLatest(t, s, nil, `{"lines":3}`)
	want1 := []string{"apache spark", "hello world", ""}
	if got := readRange(t, s, nil, e1); !slices.Equal(got, want1) {
		t.Fatalf("epoch 1 = %q, want %q", got, want1)
	}
	// Before the commit, the epoch can be replayed.
	if got := readRange(t, s, nil, e1); !slices.Equal(got, want1) {
		t.Fatalf("replay = %q", got)
	}
	if err := s.Commit(e1); err != nil {
		t.Fatal(err)
	}
	if _, err := tryReadRange(s, nil, e1); err == nil || !strings.Contains(err.Error(), "not buffered") {
		t.Fatalf("read of committed lines: %v", err)
	}
	// The peer sends a long line, a partial line (split across writes) and a last line without a
	// newline, then closes.
	long := strings.Repeat("x", 200_000)
	conn.Write([]byte(long + "\nspl"))
	time.Sleep(5 * time.Millisecond)
	conn.Write([]byte("it\nlast line"))
	conn.Close()
	e2 := waitLatest(t, s, e1, `{"lines":6}`)
	if got := readRange(t, s, e1, e2); !slices.Equal(got, []string{long, "split", "last line"}) {
		t.Fatalf("epoch 2 = %d rows", len(got))
	}
	// After the peer closed: same end, no error; a sub-range reads its own lines.
	if end := latest(t, s, e2); string(end) != string(e2) {
		t.Fatalf("Latest after close = %s", end)
	}
	if got := readRange(t, s, Offset(`{"lines":4}`), e2); !slices.Equal(got, []string{"split", "last line"}) {
		t.Fatalf("sub-range = %q", got)
	}
	if err := s.Commit(Offset(`{"lines":7}`)); err == nil {
		t.Fatal("commit beyond the received lines accepted")
	}
	if err := s.Commit(e2); err != nil {
		t.Fatal(err)
	}
}

func TestSocketStreamManyLinesAndClose(t *testing.T) {
	port, conns := ncServer(t)
	s, err := NewSocketStream(StreamConfig{Name: "lines", Schema: schemaOf(t, "line VARCHAR"), Mem: checkedMem(t),
		Options: map[string]string{"connector": "socket", "host": "127.0.0.1", "port": port}})
	if err != nil {
		t.Fatal(err)
	}
	conn := <-conns
	defer conn.Close()
	const n = 150_000
	go func() {
		var b strings.Builder
		for i := range n {
			b.WriteString(strconv.Itoa(i))
			b.WriteByte('\n')
		}
		conn.Write([]byte(b.String()))
	}()
	end := waitLatest(t, s, nil, `{"lines":150000}`)
	got := readRange(t, s, Offset(`{"lines":100}`), end)
	if len(got) != n-100 || got[0] != "100" || got[len(got)-1] != strconv.Itoa(n-1) {
		t.Fatalf("got %d rows, first %q", len(got), got[0])
	}
	// Close with the connection still open stops the reader goroutine.
	done := make(chan error)
	go func() { done <- s.Close() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs")
	}
}

func TestSocketStreamRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close() // nobody listens there now
	_, err = OpenStream(StreamConfig{Name: "lines", Schema: schemaOf(t, "value VARCHAR"),
		Options: map[string]string{"connector": "socket", "host": "127.0.0.1", "port": port}})
	if err == nil || !strings.Contains(err.Error(), "cannot connect to 127.0.0.1:"+port) ||
		!strings.Contains(err.Error(), "refused") || !strings.Contains(err.Error(), "nc -lk "+port) {
		t.Fatalf("error %v", err)
	}
	_, err = OpenStream(StreamConfig{Name: "lines", Schema: schemaOf(t, "a VARCHAR", "b BIGINT"),
		Options: map[string]string{"connector": "socket", "port": port}})
	if err == nil || !strings.Contains(err.Error(), "one VARCHAR column") {
		t.Fatalf("two-column schema: %v", err)
	}
}
