package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/accrue/accrue/e2e/internal/harness"
)

// A failed apply caused by a 2-second Postgres outage is posted within 5 s of Postgres returning
// (issue 11). Billing is paused (SIGSTOP) while one approved entry is imported and its event
// reaches the stream; the harness's own Postgres then stops (-m immediate) and billing resumes:
// it reads the event and its apply fails, since its database is gone. Postgres comes back 2 s
// after it stopped; the entry must be posted, once, within 5 s of that. The figure is printed.
func TestFailedApplyPostedWithin5sOfPostgresReturning(t *testing.T) {
	pg, _ := privateServers(t)
	env := harness.Start(t, harness.WithEnvAll("ACCRUE_LOG_LEVEL", "info"))
	for _, s := range harness.Services {
		env.DB(s)
	}
	fx := setupChaos(t, env, 1, 1)
	rdb, prefix := env.Redis()
	ctx := context.Background()
	stream := prefix + "timeexpense.events"
	before, err := rdb.XLen(ctx, stream).Result()
	if err != nil {
		t.Fatal(err)
	}

	env.Signal("billing", syscall.SIGSTOP)
	stopped := true
	t.Cleanup(func() {
		if stopped {
			env.Signal("billing", syscall.SIGCONT)
		}
	})
	it := chaosItem{ext: "OUTAGE-1", resource: fx.resources[0], project: fx.projects[0], date: "2026-06-01", hours: "7.25"}
	st, _, body := env.Do(http.MethodPost, "/v1/time-entries:importApproved", `{"items":[`+it.json()+`]}`, env.Bearer(timeApprove))
	if st != http.StatusOK || !strings.Contains(string(body), "IMPORT_OUTCOME_ACCEPTED") {
		t.Fatalf("import: %d %s", st, body)
	}
	harness.Eventually(t, 10*time.Second, 10*time.Millisecond, func() error {
		if n, err := rdb.XLen(ctx, stream).Result(); err != nil || n <= before {
			return fmt.Errorf("the approval is not in %s yet (%d entries, %v)", stream, n, err)
		}
		return nil
	})
	var entryID string
	if err := env.DB("timeexpense").QueryRow(ctx, `SELECT id::text FROM time_entries WHERE ext_id = 'OUTAGE-1'`).Scan(&entryID); err != nil {
		t.Fatal(err)
	}

	pg.StopImmediate()
	down := time.Now()
	env.Signal("billing", syscall.SIGCONT)
	stopped = false
	time.Sleep(time.Until(down.Add(2 * time.Second)))
	pg.Start()
	back := time.Now()
	t.Logf("chaos: Postgres down for %s", back.Sub(down).Round(time.Millisecond))

	var took time.Duration
	for {
		var n int
		err := env.DB("billing").QueryRow(ctx, `SELECT count(*) FROM posting_results WHERE source_id = $1 AND outcome = 'POSTED'`, entryID).Scan(&n)
		if err == nil && n == 1 {
			took = time.Since(back)
			break
		}
		if time.Since(back) > 60*time.Second {
			t.Fatalf("chaos: entry %s not posted 60 s after Postgres returned (last error %v)", entryID, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	failures := len(logLines(env.Logs("billing"), "msg", "stream: event failed, will be redelivered")) +
		len(logLines(env.Logs("billing"), "msg", "stream: event dead-lettered"))
	t.Logf("chaos: the entry whose apply failed during the 2 s outage (%d failed deliveries logged) was posted %s after Postgres returned",
		failures, took.Round(time.Millisecond))
	if failures == 0 {
		t.Errorf("billing logged no failed apply: the outage did not hit an apply")
	}
	// The bound is a figure, checked by make chaos (CHAOS_CHECK_BOUNDS=1); make test only prints it.
	if took > 5*time.Second {
		if os.Getenv("CHAOS_CHECK_BOUNDS") == "1" {
			t.Errorf("posted %s after Postgres returned, want within 5 s", took.Round(time.Millisecond))
		} else {
			t.Logf("chaos: note: over the 5 s the issue asks for")
		}
	}
	waitPostingStatus(t, env, stPosted, entryID)
	if n := env.Count("billing", `SELECT count(*) FROM journal_entries WHERE source_id = $1`, entryID); n != 1 {
		t.Errorf("%d journal entries for the entry, want 1", n)
	}
	checkTrialBalance(t, "trial balance after the outage", trialBalance(t, env, fx.leID, ""), "1015.00", map[string]string{
		"1200": "725.00", "4000": "-725.00", "5000": "290.00", "2150": "-290.00",
	})
}
