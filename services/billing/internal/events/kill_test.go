package events_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/redistest"
	"github.com/accrue/accrue/internal/platform/redisx"
	"github.com/accrue/accrue/internal/platform/stream"
	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/events"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
)

// Kill -9 of the posting consumer: every entry is posted exactly once across restarts.

const (
	childEnv   = "BILLING_POSTING_CHILD"
	childDB    = "BILLING_POSTING_DB"
	childPfx   = "BILLING_POSTING_PREFIX"
	childKill  = "BILLING_POSTING_KILL"
	childMode  = "BILLING_CHILD_MODE" // "allocation": the supplier cost allocation worker
	childGroup = "billing"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(runChild())
	}
	os.Exit(m.Run())
}

// runChild consumes the posting stream with the real handler until nothing is left, killing
// itself with SIGKILL after the first commit (before XACK) or inside the handler when asked.
func runChild() int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := pg.Connect(ctx, os.Getenv(childDB), 4)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	rdb, err := redisx.Connect(ctx, redistest.Addr())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	_, queue, uc := billingtest.Wire(pool)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	die := func() { _ = syscall.Kill(os.Getpid(), syscall.SIGKILL) }
	cfg := stream.Config{Stream: timeexpensev1.EventStream, Types: events.PostingTypes, Group: childGroup, Consumer: "poster-1", StreamPrefix: os.Getenv(childPfx),
		BatchSize: 2, Block: 50 * time.Millisecond, ClaimMinIdle: time.Hour, ClaimInterval: time.Hour}
	h := events.Postings(uc)
	if os.Getenv(childMode) == "allocation" {
		cfg.Stream, cfg.Types, cfg.Group, cfg.BatchSize = billingv1.EventStream, events.AllocationTypes, events.AllocationGroup, 5
		h = events.Allocations(uc)
	}
	switch os.Getenv(childKill) {
	case "after_commit":
		cfg.AfterCommit = func([]string) { die() }
	case "in_handler":
		inner := h
		h = func(ctx context.Context, msgs []stream.Message) error {
			if err := inner(ctx, msgs); err != nil {
				return err
			}
			die()
			return nil
		}
	}
	c, err := stream.NewConsumer(cfg, rdb, pool, queue, h, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	cctx, stop := context.WithCancel(ctx)
	go func() {
		for cctx.Err() == nil {
			time.Sleep(100 * time.Millisecond)
			info, err := rdb.XInfoGroups(cctx, os.Getenv(childPfx)+cfg.Stream).Result()
			if err == nil && len(info) == 1 && info[0].Pending == 0 && info[0].Lag == 0 {
				stop()
			}
		}
	}()
	if err := c.Run(cctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	return 0
}

func runPoster(t *testing.T, f *billingtest.Env, prefix, kill string, mode ...string) error {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", childDB+"="+f.DB.URL, childPfx+"="+prefix, childKill+"="+kill, childMode+"="+strings.Join(mode, ""))
	cmd.Stderr = os.Stderr
	return cmd.Run()
}

func TestPostsExactlyOnceAcrossKills(t *testing.T) {
	for _, kill := range []string{"after_commit", "in_handler"} {
		t.Run(kill, func(t *testing.T) {
			f := setup(t, legalentity.Reject)
			rdb, prefix := redistest.New(t)
			ctx := context.Background()
			if err := rdb.XGroupCreateMkStream(ctx, prefix+timeexpensev1.EventStream, childGroup, "0").Err(); err != nil {
				t.Fatal(err)
			}
			// Four events of 25 entries each; event 2 is also delivered a second time.
			var envs []*commonv1.EventEnvelope
			for e := 0; e < 4; e++ {
				var list []*timeexpensev1.TimeEntry
				for i := 0; i < 25; i++ {
					list = append(list, entry(fmt.Sprintf("K-%d-%d", e, i), consult, taskBill, "2026-06-10", "1", true))
				}
				envs = append(envs, approved(t, list...))
			}
			envs = append(envs, envs[2])
			for _, env := range envs {
				b, _ := proto.Marshal(env)
				if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: prefix + timeexpensev1.EventStream,
					Values: []any{"event_id", env.GetEventId(), "type", env.GetType(), "envelope", b}}).Err(); err != nil {
					t.Fatal(err)
				}
			}
			err := runPoster(t, f, prefix, kill)
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("the poster should have died of SIGKILL, got %v", err)
			}
			if err := runPoster(t, f, prefix, ""); err != nil {
				t.Fatalf("restart: %v", err)
			}
			if n := billingtest.Scalar[int](f, `SELECT count(*) FROM journal_entries`); n != 100 {
				t.Fatalf("journal entries = %d, want 100 (each entry exactly once)", n)
			}
			if got := account(f, "1200"); got != "5000.00" { // 100 h × 50.00
				t.Fatalf("WIP = %s, want 5000.00", got)
			}
			p, err := rdb.XPending(ctx, prefix+timeexpensev1.EventStream, childGroup).Result()
			if err != nil || p.Count != 0 {
				t.Fatalf("pending after restart = %v (%v)", p, err)
			}
		})
	}
}
