package stream_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/redistest"
	"github.com/accrue/accrue/internal/platform/redisx"
	"github.com/accrue/accrue/internal/platform/stream"
)

// The kill -9 tests re-execute this test binary as a child process (TestMain dispatches on
// childEnv) that runs a real Consumer and, depending on childKillEnv, SIGKILLs itself at a
// chosen point. The parent checks what Postgres and Redis hold after the crash and after a
// restart under the same consumer name.
const (
	childEnv       = "PLATFORM_STREAM_CHILD"
	childDBEnv     = "PLATFORM_STREAM_DB_URL"
	childPrefixEnv = "PLATFORM_STREAM_PREFIX"
	childKillEnv   = "PLATFORM_STREAM_KILL"

	killAfterCommit = "after_commit" // after the batch commits, before XACK
	killInHandler   = "in_handler"   // after the handler wrote its effects, before commit

	childConsumer = "worker-1"
)

// runChild is the child process: it consumes until nothing is pending or undelivered for the
// group (or kills itself on the way), and returns the exit code.
func runChild() int {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	fail := func(format string, args ...any) int {
		fmt.Fprintf(os.Stderr, "child: "+format+"\n", args...)
		return 2
	}
	pool, err := pg.Connect(ctx, os.Getenv(childDBEnv), 4)
	if err != nil {
		return fail("%v", err)
	}
	defer pool.Close()
	rdb, err := redisx.Connect(ctx, redistest.Addr())
	if err != nil {
		return fail("%v", err)
	}
	defer rdb.Close()
	prefix := os.Getenv(childPrefixEnv)
	kill := os.Getenv(childKillEnv)
	die := func() { _ = syscall.Kill(os.Getpid(), syscall.SIGKILL) }

	cfg := stream.Config{Stream: testStream, Group: testGroup, Consumer: childConsumer, StreamPrefix: prefix,
		Block: 50 * time.Millisecond, Types: []string{eventType}, Undeclared: true,
		// No claiming: the restarted instance must find its own pending entries by itself.
		ClaimMinIdle: time.Hour, ClaimInterval: time.Hour}
	if kill == killAfterCommit {
		cfg.AfterCommit = func([]string) { die() }
	}
	handler := func(ctx context.Context, msgs []stream.Message) error {
		for _, m := range msgs {
			if err := applyEffects(ctx, m); err != nil {
				return err
			}
		}
		if kill == killInHandler {
			die()
		}
		return nil
	}
	c, err := stream.NewConsumer(cfg, rdb, pool, exceptions.NewQueue(pool, quietLogger()), handler, quietLogger())
	if err != nil {
		return fail("%v", err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(runCtx) }()
	for {
		g, err := rdb.XInfoGroups(ctx, prefix+testStream).Result()
		if err == nil && len(g) == 1 && g[0].Pending == 0 && g[0].Lag == 0 {
			break
		}
		select {
		case <-ctx.Done():
			stop()
			return fail("timed out; groups %+v, %v", g, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	stop()
	if err := <-done; err != nil {
		return fail("run: %v", err)
	}
	return 0
}

// startChild runs the child to completion and returns how it ended.
func startChild(t *testing.T, e env, kill string) (*os.ProcessState, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", childDBEnv+"="+e.db.URL, childPrefixEnv+"="+e.prefix, childKillEnv+"="+kill)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("child: %v", err)
	}
	return cmd.ProcessState, out.String()
}

func killedBySIGKILL(ps *os.ProcessState) bool {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

func inbox(t *testing.T, e env, eventID string) int {
	t.Helper()
	var n int
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM stream_inbox WHERE consumer_group = $1 AND event_id = $2`,
		testGroup, eventID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func pendingOf(t *testing.T, e env) *redis.XPending {
	t.Helper()
	p, err := e.rdb.XPending(context.Background(), e.stream(), testGroup).Result()
	if err != nil {
		t.Fatalf("XPENDING: %v", err)
	}
	return p
}

func testKillAndRestart(t *testing.T, kill string, effectsAfterCrash int) {
	e := newEnv(t)
	first := newEnvelope(t, "entry-1", "8h", "corr-crash")
	entryID := xadd(t, e.rdb, e.stream(), first)

	ps, out := startChild(t, e, kill)
	if !killedBySIGKILL(ps) {
		t.Fatalf("child was not killed by SIGKILL (%v); output:\n%s", ps, out)
	}

	// The crash left the entry pending for the dead instance ...
	p := pendingOf(t, e)
	if p.Count != 1 || p.Lower != entryID || p.Consumers[childConsumer] != 1 {
		t.Fatalf("pending after the crash = %+v, want entry %s pending for %s", p, entryID, childConsumer)
	}
	// ... with the effects committed (after commit) or rolled back (in the handler).
	if got := effects(t, e.db, first.GetEventId()); got != effectsAfterCrash {
		t.Fatalf("effects after the crash = %d, want %d", got, effectsAfterCrash)
	}
	if got := inbox(t, e, first.GetEventId()); got != effectsAfterCrash {
		t.Fatalf("inbox rows after the crash = %d, want %d", got, effectsAfterCrash)
	}

	// Work keeps arriving while the instance is down.
	second := newEnvelope(t, "entry-2", "4h", "corr-after")
	xadd(t, e.rdb, e.stream(), second)

	// Restart under the same name, without the kill hook.
	ps, out = startChild(t, e, "")
	if ps.ExitCode() != 0 {
		t.Fatalf("restarted child exited with %v; output:\n%s", ps, out)
	}
	if got := effects(t, e.db, first.GetEventId()); got != 1 {
		t.Fatalf("effects of the interrupted event after restart = %d, want exactly 1", got)
	}
	if got := effects(t, e.db, second.GetEventId()); got != 1 {
		t.Fatalf("effects of the later event = %d, want 1", got)
	}
	if got := effects(t, e.db, ""); got != 2 {
		t.Fatalf("total effects = %d, want 2", got)
	}
	if p := pendingOf(t, e); p.Count != 0 {
		t.Fatalf("pending after restart = %+v, want none", p)
	}
	var corr string
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT correlation_id FROM effects WHERE event_id = $1`, first.GetEventId()).Scan(&corr); err != nil || corr != "corr-crash" {
		t.Fatalf("effect correlation id = %q, %v", corr, err)
	}
}

// The process dies after the Postgres commit and before XACK: the redelivered entry must be
// recognised by the inbox and only acknowledged.
func TestConsumerKilledAfterCommitAppliesOnce(t *testing.T) {
	t.Parallel()
	testKillAndRestart(t, killAfterCommit, 1)
}

// The process dies inside the handler, before commit: nothing was applied, and the restart
// applies the event exactly once.
func TestConsumerKilledBeforeCommitAppliesOnce(t *testing.T) {
	t.Parallel()
	testKillAndRestart(t, killInHandler, 0)
}
