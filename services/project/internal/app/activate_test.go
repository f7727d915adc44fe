package app_test

import (
	"context"
	"testing"

	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/services/project/internal/app"
	"github.com/accrue/accrue/services/project/internal/project"
)

// pendingConversion converts opp while billing is down: the deal is accepted and its project
// waits for its contract, with an activation exception retried automatically.
func pendingConversion(t *testing.T, e *env, opp *projectv1.Opportunity) project.ConversionResult {
	t.Helper()
	e.billing.setDown(true)
	res, err := e.uc.Convert(context.Background(), opp)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != project.OutcomePending || res.Contract.Outcome != project.OutcomePending ||
		res.ProjectStatus != project.PendingFinancialActivation || res.ExceptionID == "" {
		t.Fatalf("conversion with billing down %+v, want PENDING with the project waiting and an exception", res)
	}
	return res
}

// The activation exception is retried: while billing is still down the retry fails and the
// exception stays open; once billing answers, the project becomes ACTIVE with its contract, the
// conversion is done and the exception resolved.
func TestPendingActivationRetriedUntilBillingAnswers(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	pending := pendingConversion(t, e, opportunity("006P", 1))
	if n := e.count(t, `SELECT count(*) FROM exceptions WHERE kind = $1 AND reason = $2 AND next_retry_at IS NOT NULL`,
		app.KindActivation, app.ReasonBillingUnavailable); n != 1 {
		t.Fatalf("%d activation exceptions scheduled for retry, want 1", n)
	}

	ex, err := e.queue.Retry(ctx, pending.ExceptionID, "tester")
	if err != nil || ex.Status != exceptions.StatusOpen || ex.Reason != app.ReasonBillingUnavailable {
		t.Fatalf("retry with billing down: %+v, %v; want the exception still open, BILLING_UNAVAILABLE", ex, err)
	}
	e.billing.setDown(false)
	if ex, err = e.queue.Retry(ctx, pending.ExceptionID, "tester"); err != nil || ex.Status == exceptions.StatusOpen {
		t.Fatalf("retry with billing up: %+v, %v; want the exception resolved", ex, err)
	}
	p, err := e.uc.GetProject(ctx, pending.Project.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != project.Active || p.ContractID == "" || p.Version != 2 {
		t.Fatalf("project %s (contract %q, version %d), want ACTIVE with a contract at version 2", p.Status, p.ContractID, p.Version)
	}
	if n := e.count(t, `SELECT count(*) FROM opportunity_conversions WHERE state = 'ACTIVE' AND contract_id = $1`, p.ContractID); n != 1 {
		t.Fatalf("%d active conversions with the contract, want 1", n)
	}
	for _, typ := range []string{projectv1.EventTypeProjectActivated, projectv1.EventTypeProjectStatusChanged} {
		if n := e.count(t, `SELECT count(*) FROM outbox WHERE event_type = $1 AND subject = $2`, typ, p.ID); n != 1 {
			t.Errorf("%d %s events, want 1", n, typ)
		}
	}
	again, err := e.uc.Convert(ctx, opportunity("006P", 1))
	if err != nil || again.Outcome != project.OutcomeUnchanged || again.Contract.ID != p.ContractID {
		t.Fatalf("redelivery after activation %+v, %v; want UNCHANGED with the contract", again, err)
	}
}

// The same opportunity delivered again once billing is back completes the activation at once:
// the project is UPDATED to ACTIVE and the activation exception resolved.
func TestRedeliveryActivatesPendingProject(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	pending := pendingConversion(t, e, opportunity("006Q", 1))
	e.billing.setDown(false)
	res, err := e.uc.Convert(ctx, opportunity("006Q", 1))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != project.OutcomeUpdated || res.Contract.Outcome != project.OutcomeCreated || res.ProjectStatus != project.Active ||
		res.Project.ID != pending.Project.ID {
		t.Fatalf("redelivery %+v, want the pending project UPDATED to ACTIVE with its contract CREATED", res)
	}
	if n := e.count(t, `SELECT count(*) FROM exceptions WHERE kind = $1 AND status = 'OPEN'`, app.KindActivation); n != 0 {
		t.Fatalf("%d open activation exceptions, want none", n)
	}
}
