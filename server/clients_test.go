package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	streamsql "github.com/streamsql/streamsql"
)

// selfSigned makes a certificate for 127.0.0.1 and localhost.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "streamsql test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func TestTLSWithPassword(t *testing.T) {
	cert, pool := selfSigned(t)
	ts := startServer(t, Config{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}, Password: "pw"})
	cfg, err := pgx.ParseConfig("postgres://u:pw@" + ts.addr + "/db?sslmode=verify-full")
	if err != nil {
		t.Fatal(err)
	}
	cfg.TLSConfig = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, ok := c.PgConn().Conn().(*tls.Conn); !ok {
		t.Fatalf("connection is %T, want *tls.Conn", c.PgConn().Conn())
	}
	var s string
	if err := c.QueryRow(ctx, "SELECT 'over tls'").Scan(&s); err != nil || s != "over tls" {
		t.Fatalf("%q %v", s, err)
	}
	// A client trusting another CA refuses the server.
	_, otherPool := selfSigned(t)
	cfg.TLSConfig = &tls.Config{RootCAs: otherPool, ServerName: "127.0.0.1"}
	if _, err := pgx.ConnectConfig(ctx, cfg); err == nil {
		t.Fatal("connected while trusting another CA")
	}
}

func psqlPath(t *testing.T) string {
	p, err := exec.LookPath("psql")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("psql is not installed (apt-get install postgresql-client); required under CI=true")
		}
		t.Skip("psql is not installed")
	}
	return p
}

func TestPsql(t *testing.T) {
	psql := psqlPath(t)
	ts := startServer(t, Config{})
	host, port, _ := net.SplitHostPort(ts.addr)
	script := `CREATE TABLE trades (symbol VARCHAR, shares BIGINT, price DECIMAL(10,2), at TIMESTAMP);
INSERT INTO trades VALUES ('AAPL', 10, 187.50, '2024-05-01 09:30:00'), ('MSFT', 5, 410.25, '2024-05-01 09:31:00');
\dt
\d trades
SELECT symbol, shares * price AS value FROM trades ORDER BY symbol;
SELECT 1/0;
`
	cmd := exec.Command(psql, "-X", "-h", host, "-p", port, "-U", "tester", "-d", "db", "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	cmd.Env = append(os.Environ(), "PGSSLMODE=disable", "PGCONNECT_TIMEOUT=5")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	want := `CREATE TABLE
INSERT 0 2
        List of relations
 Schema |  Name  | Type  | Owner  
--------+--------+-------+--------
 public | trades | table | tester
(1 row)

                        Table "public.trades"
 Column |            Type             | Collation | Nullable | Default 
--------+-----------------------------+-----------+----------+---------
 symbol | character varying           |           |          | 
 shares | bigint                      |           |          | 
 price  | numeric(10,2)               |           |          | 
 at     | timestamp without time zone |           |          | 

 symbol |  value  
--------+---------
 AAPL   | 1875.00
 MSFT   | 2051.25
(2 rows)

psql:<stdin>:6: ERROR:  division by zero
DETAIL:  at line 1, column 9:
  SELECT 1/0;
          ^
`
	if normalize(string(out)) != normalize(want) {
		t.Fatalf("psql output:\n%s\nwant:\n%s", out, want)
	}
}

func TestMalformedBindClosesOnlyThatConnection(t *testing.T) {
	ts := startServer(t, Config{})
	c := connect(t, ts.url(""))
	// Bind: portal "", statement "", no format codes, one parameter of length -2.
	msg := []byte{'B', 0, 0, 0, 16, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe, 0, 0}
	c.PgConn().Conn().Write(msg)
	waitFor(t, func() bool { return ts.srv.active.Load() == 0 })
	c2 := connect(t, ts.url(""))
	var one int64
	if err := c2.QueryRow(context.Background(), "SELECT 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
}

// normalize trims each line: psql centres titles by terminal width rules that vary by version.
func normalize(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.Join(lines, "\n")
}

func TestBadClientsDoNotHurtOthers(t *testing.T) {
	ts := startServer(t, Config{HandshakeTimeout: 2 * time.Second})
	good := connect(t, ts.url(""))
	ctx := context.Background()
	if _, err := good.Exec(ctx, bigRows); err != nil {
		t.Fatal(err)
	}
	base := runtime.NumGoroutine()

	// Garbage instead of a startup message, and a startup message cut short.
	for _, junk := range [][]byte{
		[]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		{0, 0, 0, 8, 4, 210, 22, 47},            // SSLRequest, then nothing
		{0, 0, 0, 100, 0, 3, 0, 0, 'u', 's'},    // truncated startup
		{0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5}, // absurd length
	} {
		nc, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		nc.Write(junk)
		nc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		io.Copy(io.Discard, nc)
		nc.Close()
	}
	// Garbage after a valid startup: unknown message types get an error, the session survives.
	gc := connect(t, ts.url(""))
	gc.PgConn().Conn().Write([]byte{'?', 0, 0, 0, 4})
	gc.Close(ctx)

	// A client that disconnects in the middle of a large result.
	start := time.Now()
	for range 2 {
		c := connect(t, ts.url(""))
		rows, err := c.Query(ctx, "SELECT a.v, b.v FROM many a CROSS JOIN many b")
		if err != nil {
			t.Fatal(err)
		}
		rows.Next()
		c.PgConn().Conn().Close()
	}
	t.Logf("mid-result disconnects: %v", time.Since(start))
	start = time.Now()

	// 10,000 connections opened and dropped, some mid-handshake.
	for i := range 10000 {
		nc, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		if i%2 == 0 {
			nc.Write([]byte{0, 0, 0, 8, 4, 210, 22, 47})
		}
		nc.Close()
	}

	flood := time.Since(start)
	t.Logf("10000 connections: %v", flood)
	// The server notices the dropped connections after the client has dropped them, at a rate
	// that depends on the machine's load as much as the flood did: three times the flood's
	// duration (at least 5 s) for the slots and goroutines to come back.
	drain := max(5*time.Second, 3*flood)
	var n int64
	if err := good.QueryRow(ctx, "SELECT count(*) FROM many").Scan(&n); err != nil || n != 500 {
		t.Fatalf("the good client: %d %v", n, err)
	}
	// The dropped connections free their slots as the server notices them (a few milliseconds
	// each); meanwhile a new client may be told "too many connections", which is the limit doing
	// its job. It must get in once the flood has drained.
	start = time.Now()
	waitForWithin(t, drain, "the flood's connections to close", func() bool { return ts.srv.active.Load() <= 2 })
	t.Logf("drained in %v (bound %v)", time.Since(start), drain)
	fresh := connect(t, ts.url(""))
	if err := fresh.QueryRow(ctx, "SELECT count(*) FROM many").Scan(&n); err != nil || n != 500 {
		t.Fatalf("a new client: %d %v", n, err)
	}
	fresh.Close(ctx)
	waitForWithin(t, drain, "one connection and no leftover goroutines", func() bool { return ts.srv.active.Load() == 1 && runtime.NumGoroutine() <= base+2 })
}

// bigRows creates "many": 500 rows, 250,000 in a self cross join (megabytes on the wire, more
// than the socket buffers hold).
var bigRows = "CREATE TABLE many (v BIGINT); INSERT INTO many VALUES (1)" + strings.Repeat(", (1)", 499)

// TestJDBC runs testdata/JdbcSmoke.java with the PostgreSQL JDBC driver (Debian's
// libpostgresql-jdbc-java). It is skipped when java or the driver is not installed.
func TestJDBC(t *testing.T) {
	java, err := exec.LookPath("java")
	jar := "/usr/share/java/postgresql.jar"
	if _, jerr := os.Stat(jar); err != nil || jerr != nil {
		t.Skip("java or the PostgreSQL JDBC driver (libpostgresql-jdbc-java) is not installed")
	}
	ts := startServer(t, Config{ProductVersion: "9.9.9"})
	host, port, _ := net.SplitHostPort(ts.addr)
	cmd := exec.Command(java, "-Duser.timezone=Asia/Kolkata", "-cp", jar, "testdata/JdbcSmoke.java", "jdbc:postgresql://"+host+":"+port+"/db?sslmode=disable")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("java: %v\n%s", err, out)
	}
	want := `insert 1
insert 1
insert 1
2|n'2|2.25|2024-05-02 10:00:00.0|t=true|0.5
3|n'3|3.25|2024-05-03 10:00:00.0|f=false|0.75
error 22012
date 2024-02-03 2024-02-03 04:05:06.789
cursor 1 2 3
server 17.0 (streamsql 9.9.9) major 17 minor 0
`
	if string(out) != want {
		t.Fatalf("JDBC output:\n%s\nwant:\n%s", out, want)
	}
}

// TestHugeStatementIsRefused: a 100 MB query string is refused with a clear error; the server
// keeps serving another client and holds no memory for it afterwards.
func TestHugeStatementIsRefused(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := context.Background()
	good := connect(t, ts.url(""))
	defer good.Close(ctx)
	base := runtime.NumGoroutine()
	huge := connect(t, ts.url(""))
	qctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	_, err := huge.Exec(qctx, "SELECT '"+strings.Repeat("x", 100<<20)+"'")
	if err == nil {
		t.Fatal("a 100 MB statement was accepted")
	}
	t.Logf("huge statement: %v", err)
	var n int64
	if err := good.QueryRow(ctx, "SELECT 1 + 1").Scan(&n); err != nil || n != 2 {
		t.Fatalf("the other client: %d %v", n, err)
	}
	waitFor(t, func() bool { return runtime.NumGoroutine() <= base+2 })
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if ms.HeapInuse > 200<<20 {
		t.Fatalf("heap in use %d MB after the refused statement", ms.HeapInuse>>20)
	}
}

// TestStatementMemoryLimitOverTheWire: a statement past the engine's memory budget fails with
// SQLSTATE 53200 and the connection goes on working.
func TestStatementMemoryLimitOverTheWire(t *testing.T) {
	ts := startServerWith(t, Config{}, streamsql.Options{StatementMemoryLimit: 4 << 20})
	ctx := context.Background()
	c := connect(t, ts.url(""))
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE TABLE t (v BIGINT); INSERT INTO t VALUES "+strings.TrimSuffix(strings.Repeat("(1), ", 1000), ", ")); err != nil {
		t.Fatal(err)
	}
	_, err := c.Exec(ctx, "SELECT a.v FROM t a CROSS JOIN t b ORDER BY 1")
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "53200" || !strings.Contains(pgErr.Message, "memory limit") {
		t.Fatalf("over the budget: %v", err)
	}
	var n int64
	if err := c.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 1000 {
		t.Fatalf("after the refusal: %d %v", n, err)
	}
}
