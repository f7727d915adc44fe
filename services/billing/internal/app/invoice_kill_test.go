package app_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
)

// Kill -9 of billing in the middle of posting an invoice: the number it had taken is not lost.

const (
	postChildEnv = "BILLING_INVOICE_POST_CHILD"
	postChildDB  = "BILLING_INVOICE_POST_DB"
	postChildID  = "BILLING_INVOICE_POST_ID"
)

func TestMain(m *testing.M) {
	if os.Getenv(postChildEnv) == "1" {
		os.Exit(runPostChild())
	}
	os.Exit(m.Run())
}

// runPostChild posts one invoice on 2026-06-30 with billing's real wiring (the parent kills it
// while it waits).
func runPostChild() int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := pg.Connect(ctx, os.Getenv(postChildDB), 2)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	_, _, uc := billingtest.Wire(pool)
	if _, err := uc.PostInvoice(ctx, os.Getenv(postChildID), billingtest.Day("2026-06-30")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	return 0
}

// The child takes number 2 and is killed while its posting waits on a balance row the test
// holds; the number comes back: the next postings are 2 and 3, no gap.
func TestInvoiceNumberSurvivesAKillMidPost(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	c := e.WithProject(e.Terms(billingtest.StandardCard()...))
	var drafts []string
	for _, d := range []string{"2026-06-01", "2026-06-02", "2026-06-03"} {
		e.post(hours("T-"+d, billingtest.Consult, billingtest.TaskBill, d, "1"))
		drafts = append(drafts, e.propose(c.ID, d).ID)
	}
	e.postInvoice(drafts[0], "2026-06-30")

	hold, err := e.DB.Pool.Begin(e.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = hold.Rollback(e.Ctx) }()
	if _, err := hold.Exec(e.Ctx, `SELECT 1 FROM account_balances WHERE legal_entity_id = $1 AND account_code = '1100' AND period = '2026-06' FOR UPDATE`,
		e.LE.ID); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), postChildEnv+"=1", postChildDB+"="+e.DB.URL, postChildID+"="+drafts[1])
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the child has taken its number and waits on the held row, then kill it.
	for i := 0; ; i++ {
		var waiting int64
		if err := e.DB.Pool.QueryRow(e.Ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND wait_event_type = 'Lock' AND query LIKE '%account_balances%'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if i > 600 {
			_ = cmd.Process.Kill()
			t.Fatal("the child never reached the held row")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatal("the child finished its posting; it should have died waiting")
	}
	if err := hold.Rollback(e.Ctx); err != nil {
		t.Fatal(err)
	}
	second, third := e.postInvoice(drafts[1], "2026-06-30"), e.postInvoice(drafts[2], "2026-06-30")
	if second.Number != "US01-2026-000002" || third.Number != "US01-2026-000003" {
		t.Fatalf("after the kill: %s and %s, want US01-2026-000002 and US01-2026-000003", second.Number, third.Number)
	}
	if n := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM journal_entries WHERE source_type = 'invoice'`); n != 3 {
		t.Fatalf("%d invoice journal entries, want 3", n)
	}
}
