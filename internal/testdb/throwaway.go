package testdb

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// dirPrefix names throwaway data directories: streamsql-testdb-<kind>-<pid>-<random>. The pid lets a
// later start remove the directories of test binaries that died without StopThrowaway.
const dirPrefix = "streamsql-testdb-"

// instance is one running throwaway server.
type instance struct {
	cmd  *exec.Cmd
	dir  string
	stop syscall.Signal // the signal that asks the server for a fast clean shutdown
	done chan struct{}  // closed when cmd.Wait returned
}

var (
	instancesMu sync.Mutex
	instances   []*instance
)

// StopThrowaway stops every throwaway server this process started and removes its data directory.
// Call it from TestMain after m.Run; without it the servers die with the process (parent-death
// signal) and their directories are removed by the next start. Safe to call more than once, but
// not concurrently with Postgres or MySQL; a later Postgres/MySQL call discovers afresh.
func StopThrowaway() {
	instancesMu.Lock()
	list := instances
	instances = nil
	instancesMu.Unlock()
	for _, in := range list {
		_ = in.cmd.Process.Signal(in.stop)
		select {
		case <-in.done:
		case <-time.After(15 * time.Second):
			_ = in.cmd.Process.Kill()
			<-in.done
		}
		_ = os.RemoveAll(in.dir)
	}
	for _, k := range []*kind{postgresKind, mysqlKind} {
		if k.addr != "" && k.addr == k.throwawayAddr {
			k.once = sync.Once{}
			k.addr, k.err = "", nil
		}
		k.throwawayOnce = sync.Once{}
		k.throwawayAddr, k.throwawayErr = "", nil
	}
}

// serverUser returns the credential a server must drop to: the named system user when running as
// root (PostgreSQL refuses to run as root), nil otherwise.
func serverUser(name string) (*syscall.Credential, int, int, error) {
	if os.Geteuid() != 0 {
		return nil, os.Getuid(), os.Getgid(), nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("running as root and no %q system user to run the server as: %w", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, uid, gid, nil
}

// freePort asks the kernel for an unused loopback TCP port. The port is free when this returns; a
// race with another process is possible and surfaces as a server that fails to start.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// newDataDir sweeps directories of dead test binaries and makes a fresh one owned by uid:gid.
func newDataDir(kindName string, uid, gid int) (string, error) {
	old, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, d := range old {
		parts := strings.Split(filepath.Base(d), "-")
		if len(parts) < 5 {
			continue
		}
		pid, err := strconv.Atoi(parts[3])
		if err != nil || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = os.RemoveAll(d)
		}
	}
	dir, err := os.MkdirTemp("", fmt.Sprintf("%s%s-%d-", dirPrefix, kindName, os.Getpid()))
	if err != nil {
		return "", err
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// runAs runs a setup command (initdb, mariadb-install-db) as cred and returns its output on error.
func runAs(cred *syscall.Credential, dir string, name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", filepath.Base(name), err, tail(out, 800))
	}
	return nil
}

// launch starts a long-running server as cred with a parent-death signal and records it for
// StopThrowaway. Its output goes to dir/server.log.
func launch(cred *syscall.Credential, dir string, stop syscall.Signal, name string, args ...string) (*instance, error) {
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	in := &instance{cmd: cmd, dir: dir, stop: stop, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(in.done)
	}()
	instancesMu.Lock()
	instances = append(instances, in)
	instancesMu.Unlock()
	return in, nil
}

// waitReady polls ensure until it succeeds, the server exits or startTimeout passes.
func waitReady(in *instance, ensure func(context.Context, string) error, addr string) error {
	deadline := time.Now().Add(startTimeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-in.done:
			log, _ := os.ReadFile(filepath.Join(in.dir, "server.log"))
			return fmt.Errorf("server exited during start-up: %s", tail(log, 800))
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		last = ensure(ctx, addr)
		cancel()
		if last == nil {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("server did not accept connections within %v: %v", startTimeout, last)
}

// startPostgres initializes a cluster with trust auth for user postgres and runs it on a free
// loopback port with durability off (test data only).
func startPostgres() (string, error) {
	bin, err := postgresBinDir()
	if err != nil {
		return "", err
	}
	cred, uid, gid, err := serverUser("postgres")
	if err != nil {
		return "", err
	}
	dir, err := newDataDir("pg", uid, gid)
	if err != nil {
		return "", err
	}
	data := filepath.Join(dir, "data")
	if err := runAs(cred, dir, filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres",
		"--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	// SIGINT is PostgreSQL's "fast" shutdown.
	in, err := launch(cred, dir, syscall.SIGINT, filepath.Join(bin, "postgres"), "-D", data,
		"-p", strconv.Itoa(port), "-k", dir, "-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	if err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	addr := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/test?sslmode=disable", port)
	if err := waitReady(in, ensurePostgres, addr); err != nil {
		return "", fmt.Errorf("postgres in %s: %w", dir, err)
	}
	return addr, nil
}

// startMariaDB initializes a data directory whose root user has an empty password and runs
// mariadbd on a free loopback port.
func startMariaDB() (string, error) {
	server, err := lookBinary("mariadbd")
	if err != nil {
		return "", err
	}
	install, err := lookBinary("mariadb-install-db")
	if err != nil {
		return "", err
	}
	osUser := "root"
	var cred *syscall.Credential
	uid, gid := 0, 0
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			return "", err
		}
		osUser, uid, gid = u.Username, os.Getuid(), os.Getgid()
	}
	dir, err := newDataDir("mysql", uid, gid)
	if err != nil {
		return "", err
	}
	data := filepath.Join(dir, "data")
	if err := runAs(cred, dir, install, "--no-defaults", "--datadir="+data, "--user="+osUser,
		"--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve"); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	in, err := launch(cred, dir, syscall.SIGTERM, server, "--no-defaults", "--datadir="+data,
		"--user="+osUser, "--port="+strconv.Itoa(port), "--bind-address=127.0.0.1",
		"--socket="+filepath.Join(dir, "mysqld.sock"), "--pid-file="+filepath.Join(dir, "mysqld.pid"),
		"--skip-name-resolve", "--skip-log-bin", "--innodb-flush-log-at-trx-commit=0")
	if err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	addr := fmt.Sprintf("root:@tcp(127.0.0.1:%d)/test", port)
	if err := waitReady(in, ensureMySQL, addr); err != nil {
		return "", fmt.Errorf("mariadbd in %s: %w", dir, err)
	}
	return addr, nil
}
