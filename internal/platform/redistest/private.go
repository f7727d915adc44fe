package redistest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accrue/accrue/internal/platform/childproc"

	"github.com/redis/go-redis/v9"

	"github.com/accrue/accrue/internal/platform/redisx"
)

// Server is a redis-server of the test's own, on a unix socket in a private directory, for tests
// that restart, flush or otherwise break the broker: never the shared server other tests use.
type Server struct {
	// Addr is the path of the server's unix socket (redisx.Connect accepts it).
	Addr string
	// AppendOnly: the server keeps an append-only file in its directory and reloads it when
	// restarted; without it a restart comes back empty (no persistence at all).
	AppendOnly bool
	// Args are extra redis-server arguments (ACL users, a TLS port), e.g. "--user", "app",
	// "on", ">secret", "~*", "&*", "+@all".
	Args []string

	t   testing.TB
	dir string
	cmd *exec.Cmd
}

// Private starts a private redis-server (the redis-server binary must be installed) and stops it
// when the test ends.
func Private(t testing.TB, appendOnly bool) *Server {
	t.Helper()
	return PrivateWith(t, appendOnly)
}

// PrivateWith is Private with extra redis-server arguments (see Server.Args). The readiness
// check uses the unix socket, so a server whose default user needs a password still counts as up.
func PrivateWith(t testing.TB, appendOnly bool, args ...string) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redistest: redis-server is not installed")
	}
	dir, err := os.MkdirTemp("", "redis") // short: a unix socket path has at most 107 bytes
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: filepath.Join(dir, "redis.sock"), AppendOnly: appendOnly, Args: args, t: t, dir: dir}
	t.Cleanup(func() {
		s.Stop()
		_ = os.RemoveAll(dir)
	})
	s.Start()
	return s
}

// Start starts the server (again) on the same socket and directory, and waits until it answers.
func (s *Server) Start() {
	s.t.Helper()
	aof := "no"
	if s.AppendOnly {
		aof = "yes"
	}
	s.cmd = exec.Command("redis-server", "--port", "0", "--unixsocket", s.Addr, "--unixsocketperm", "700",
		"--dir", s.dir, "--save", "", "--appendonly", aof, "--appendfsync", "always", "--logfile", filepath.Join(s.dir, "redis.log"))
	s.cmd.Args = append(s.cmd.Args, s.Args...)
	if err := childproc.Start(s.cmd); err != nil {
		s.t.Fatalf("redistest: start redis-server: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		rdb := redis.NewClient(&redis.Options{Network: "unix", Addr: s.Addr, MaxRetries: -1})
		err := rdb.Ping(context.Background()).Err()
		_ = rdb.Close()
		if err == nil || strings.HasPrefix(err.Error(), "NOAUTH") {
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			s.t.Fatalf("redistest: private redis-server does not answer: %v\n%s", err, log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Stop shuts the server down (SIGTERM: it writes nothing beyond its append-only file, if any)
// and waits for it to exit.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}

// Restart stops and starts the server: it comes back empty, or with what its append-only file
// holds.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.Start()
}

// Dir is the server's private directory (its socket, log and any files a test puts there).
func (s *Server) Dir() string { return s.dir }

// Client returns a client of the server, closed when the test ends. It keeps working across
// restarts (it reconnects).
func (s *Server) Client() *redis.Client {
	s.t.Helper()
	rdb, err := redisx.Connect(context.Background(), s.Addr)
	if err != nil {
		s.t.Fatalf("redistest: %v", err)
	}
	s.t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}
