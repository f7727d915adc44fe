package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/redistest"
)

// The fault harness's own servers: a Postgres cluster (initdb into a temporary directory,
// pg_ctl on a private port) and a redis-server with an append-only file (redistest.Private, on
// a unix socket in a private directory). Faults restart, crash and flush these, never the
// machine's shared Postgres and Redis that other tests use.

// chaosPostgresPort is the port the private cluster asks for first (CHAOS_PG_PORT); when it is
// taken, any free port.
const chaosPostgresPort = 55432

// pgServer is a private Postgres cluster.
type pgServer struct {
	t       testing.TB
	bin     string // directory of initdb, pg_ctl
	dir     string // work directory: data/, the log, the socket
	port    int
	asUser  string // the cluster runs as this user (initdb refuses root)
	logPath string
}

// startPrivatePostgres initialises and starts a cluster, and stops it (immediately) and removes
// it when the test ends. It skips the test when no Postgres server binaries are installed.
func startPrivatePostgres(t testing.TB) *pgServer {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(bins) == 0 {
		t.Skip("chaos: no Postgres server binaries under /usr/lib/postgresql/*/bin")
	}
	sort.Strings(bins)
	dir, err := os.MkdirTemp("", "accrue-chaos-pg-")
	if err != nil {
		t.Fatal(err)
	}
	s := &pgServer{t: t, bin: filepath.Dir(bins[len(bins)-1]), dir: dir, logPath: filepath.Join(dir, "postgres.log")}
	if os.Geteuid() == 0 {
		s.asUser = "postgres"
		u, err := user.Lookup(s.asUser)
		if err != nil {
			t.Skip("chaos: running as root and there is no postgres user to run a cluster as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		_ = s.pgctl("stop", "-m", "immediate")
		_ = os.RemoveAll(dir)
	})
	s.port = freePortNear(envInt("CHAOS_PG_PORT", chaosPostgresPort))
	if out, err := s.command(filepath.Join(s.bin, "initdb"), "-D", s.data(), "-U", "postgres", "-A", "trust",
		"--no-sync", "-E", "UTF8", "--locale", "C").CombinedOutput(); err != nil {
		t.Fatalf("chaos: initdb: %v\n%s", err, out)
	}
	s.Start()
	return s
}

func (s *pgServer) data() string { return filepath.Join(s.dir, "data") }

// URL is the administration DSN of the cluster (what ACCRUE_TEST_DATABASE_URL names).
func (s *pgServer) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

func (s *pgServer) command(name string, args ...string) *exec.Cmd {
	if s.asUser == "" {
		return exec.Command(name, args...)
	}
	return exec.Command("runuser", append([]string{"-u", s.asUser, "--", name}, args...)...)
}

func (s *pgServer) pgctl(args ...string) error {
	args = append([]string{"-D", s.data()}, args...)
	out, err := s.command(filepath.Join(s.bin, "pg_ctl"), args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl %v: %v: %s", args, err, out)
	}
	return nil
}

// Start starts the cluster and waits until it accepts connections. fsync is off (a crash here
// is a killed process, not a lost machine: the kernel keeps what was written), synchronous
// commit stays on, so a committed transaction survives an immediate shutdown.
func (s *pgServer) Start() {
	s.t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c full_page_writes=off",
		s.port, s.dir)
	if err := s.pgctl("start", "-w", "-t", "60", "-l", s.logPath, "-o", opts); err != nil {
		log, _ := os.ReadFile(s.logPath)
		s.t.Fatalf("chaos: start the private Postgres: %v\n%s", err, log)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, s.URL())
		if err == nil {
			_ = conn.Close(ctx)
			cancel()
			return
		}
		cancel()
		if time.Now().After(deadline) {
			s.t.Fatalf("chaos: the private Postgres does not answer: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// StopImmediate stops the cluster the way a crash does (pg_ctl stop -m immediate: no checkpoint,
// every connection cut; the next start runs crash recovery).
func (s *pgServer) StopImmediate() {
	s.t.Helper()
	if err := s.pgctl("stop", "-m", "immediate", "-w"); err != nil {
		s.t.Fatalf("chaos: %v", err)
	}
}

// freePortNear returns port when 127.0.0.1:port is free, else any free port.
func freePortNear(port int) int {
	if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
		_ = l.Close()
		return port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return port
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// privateServers starts the fault harness's own Postgres and Redis (with an append-only file)
// and points the harness at them (ACCRUE_TEST_DATABASE_URL, ACCRUE_TEST_REDIS_ADDR) for the rest
// of the test. The test must not be parallel: the environment is the process's.
func privateServers(t *testing.T) (*pgServer, *redistest.Server) {
	t.Helper()
	pg := startPrivatePostgres(t)
	rs := redistest.Private(t, true)
	t.Setenv("ACCRUE_TEST_DATABASE_URL", pg.URL())
	t.Setenv("ACCRUE_TEST_REDIS_ADDR", rs.Addr)
	t.Logf("chaos: private Postgres at %s (%s), private Redis with AOF at %s", pg.URL(), pg.bin, rs.Addr)
	return pg, rs
}
