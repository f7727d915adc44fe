package harness

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/pgtest"
	"github.com/accrue/accrue/internal/platform/redistest"
	"github.com/accrue/accrue/internal/platform/redisx"
)

// Services are the five domain services, in start order.
var Services = []string{"customer", "project", "resource", "timeexpense", "billing"}

// Gateway is the process name of the REST gateway.
const Gateway = "gateway"

// Dispatcher is the process name of the outbound webhook dispatcher (gateway/cmd/dispatcher), run
// like a service: its own database, gRPC and metrics addresses, certificate and event key.
const Dispatcher = "dispatcher"

// binDir holds the binaries Main built.
var binDir string

// Main builds the binaries, checks that Postgres and Redis answer, runs the tests and removes
// the binaries. Call it from TestMain: func TestMain(m *testing.M) { harness.Main(m) }.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	flag.Parse() // TestMain may parse flags early; testing.Verbose needs them
	// ACCRUE_E2E_BIN_DIR keeps the binaries between runs: go build then relinks only what changed.
	dir := os.Getenv("ACCRUE_E2E_BIN_DIR")
	if dir == "" {
		tmp, err := os.MkdirTemp("", "accrue-e2e-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	start := time.Now()
	if err := Build(dir); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	if testing.Verbose() {
		fmt.Printf("e2e: built the binaries in %s\n", time.Since(start).Round(time.Millisecond))
	}
	// ACCRUE_E2E_SHARED=0: the tests run start their own servers (make chaos); the shared ones
	// need not run.
	if os.Getenv("ACCRUE_E2E_SHARED") == "0" {
		binDir = dir
		return m.Run()
	}
	if err := checkDependencies(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err, "(`make deps` starts Postgres and Redis)")
		return 1
	}
	binDir = dir
	return m.Run()
}

// Build compiles every Accrue binary into dir (as `make build` does into bin/), from the
// repository root in workspace mode.
func Build(dir string) error {
	root, err := RepoRoot()
	if err != nil {
		return err
	}
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	if os.Getenv("ACCRUE_E2E_RACE") == "1" {
		args = append(args, "-race")
	}
	for _, s := range Services {
		args = append(args, "./services/"+s+"/cmd/"+s)
	}
	args = append(args, "./gateway/cmd/gateway", "./gateway/cmd/dispatcher", "./gateway/cmd/accruectl")
	cmd := exec.Command(goTool(), args...)
	cmd.Dir = root
	// Build in the repository's workspace whatever the caller's GOWORK/GOFLAGS (`go mod tidy`
	// habits such as GOFLAGS=-mod=mod are refused in workspace mode).
	cmd.Env = append(withoutVars(os.Environ(), "GOWORK=", "GOFLAGS="), "GOWORK="+filepath.Join(root, "go.work"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// RepoRoot returns the repository root: the nearest directory above the working directory that
// holds go.work, else what git says.
func RepoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return "", errors.New("cannot find the repository root (no go.work above the working directory, and git failed)")
	}
	return strings.TrimSpace(string(out)), nil
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(os.Getenv("GOROOT"), "bin", "go")
}

// withoutVars returns env without the entries starting with any of prefixes.
func withoutVars(env []string, prefixes ...string) []string {
	out := env[:0:0]
next:
	for _, kv := range env {
		for _, p := range prefixes {
			if strings.HasPrefix(kv, p) {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}

func checkDependencies() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgtest.AdminURL())
	if err != nil {
		return fmt.Errorf("postgres at %s: %w", pgtest.AdminURL(), err)
	}
	_ = conn.Close(ctx)
	rdb, err := redisx.Connect(ctx, redistest.Addr())
	if err != nil {
		return err
	}
	return rdb.Close()
}
