package app_test

import (
	"context"
	"testing"
	"time"

	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pgstore"
	"github.com/accrue/accrue/internal/platform/streamtest"
	"github.com/accrue/accrue/services/project/internal/app"
	"github.com/accrue/accrue/services/project/internal/store"
)

func published(t *testing.T, e *env, typ string) []*projectMessage {
	t.Helper()
	msgs, err := streamtest.Published(context.Background(), e.db.Pool, typ)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*projectMessage, len(msgs))
	for i, m := range msgs {
		out[i] = &projectMessage{subject: m.Envelope.GetSubject(), payload: m.Payload}
	}
	return out
}

type projectMessage struct {
	subject string
	payload any
}

// A converted deal's project.activated names the project (subject) and carries the ids a CRM or
// PSA matches it on: the Accrue customer, project, contract and legal entity, and the CRM
// opportunity and account it came from.
func TestProjectActivatedCarriesCrossSystemIds(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	conv, err := e.uc.Convert(ctx, opportunity("006X1", 1))
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.uc.GetProject(ctx, conv.Project.ID)
	if err != nil {
		t.Fatal(err)
	}
	evs := published(t, e, projectv1.EventTypeProjectActivated)
	if len(evs) != 1 || evs[0].subject != p.ID {
		t.Fatalf("%d project.activated events (subject %v), want 1 about %s", len(evs), evs, p.ID)
	}
	ids := evs[0].payload.(*projectv1.ProjectActivated).GetCrossIds()
	if ids.GetProjectId() != p.ID || ids.GetCustomerId() != p.CustomerID || ids.GetContractId() != p.ContractID ||
		ids.GetLegalEntityId() != p.LegalEntityID || ids.GetCrmSystem() != "salesforce" ||
		ids.GetCrmOpportunityId() != "006X1" || ids.GetCrmAccountId() != "ACC-006X1" {
		t.Fatalf("cross ids %v; want project %s, customer %s, contract %s, salesforce opportunity 006X1, account ACC-006X1",
			ids, p.ID, p.CustomerID, p.ContractID)
	}
}

// Five staffing changes of one project inside the debounce window give one
// project.financials_changed, published once the window has passed, with the latest figures
// (the fifth plan's hours and the forecast at the contract's rate) and the changes it folds.
// Nothing goes out before the window ends, and nothing again after.
func TestFinancialsChangedIsDebouncedToOneEventWithTheLatestFigures(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	st := store.New(pgstore.New(e.db.Pool, outbox.Writer{Producer: "project"}, e.queue))
	uc := app.New(st, app.Deps{Customers: e.customers, Contracts: e.billing, Log: e.log, FinancialsEventWindow: time.Hour})
	conv, err := uc.Convert(ctx, opportunity("006D1", 1))
	if err != nil {
		t.Fatal(err)
	}
	p, err := uc.GetProject(ctx, conv.Project.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := uc.ApplyContract(ctx, contract(p.ContractID, 1, "150.00")); err != nil {
		t.Fatal(err)
	}
	// Whatever conversion and the contract scheduled goes out first, so the count below is the
	// five staffing changes alone.
	if _, err := uc.PublishDueFinancials(ctx, time.Now().Add(2*time.Hour), 100); err != nil {
		t.Fatal(err)
	}
	before := len(published(t, e, projectv1.EventTypeProjectFinancialsChanged))
	build := taskNamed(t, p, "Build")
	for v := int64(1); v <= 5; v++ {
		// 8h a day on 2026-06-01..05 (5 working days), then 6, 4 ...: the last plan is 2h a day.
		hpd := []string{"8", "6", "4", "3", "2"}[v-1]
		planned := []string{"40", "30", "20", "15", "10"}[v-1]
		if err := uc.ApplyPlan(ctx, plan("0190a000-0000-7000-8000-0000000000a1", p.ID, build, "CONSULTANT", v,
			"2026-06-01", "2026-06-05", hpd, planned)); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := uc.PublishDueFinancials(ctx, time.Now(), 100); err != nil || n != 0 {
		t.Fatalf("inside the window: %d events published (%v), want 0", n, err)
	}
	if n, err := uc.PublishDueFinancials(ctx, time.Now().Add(61*time.Minute), 100); err != nil || n != 1 {
		t.Fatalf("after the window: %d events published (%v), want 1", n, err)
	}
	if n, err := uc.PublishDueFinancials(ctx, time.Now().Add(3*time.Hour), 100); err != nil || n != 0 {
		t.Fatalf("nothing changed since: %d events published (%v), want 0", n, err)
	}
	evs := published(t, e, projectv1.EventTypeProjectFinancialsChanged)
	if len(evs) != before+1 {
		t.Fatalf("%d project.financials_changed events after five changes, want %d", len(evs), before+1)
	}
	last := evs[len(evs)-1]
	ev := last.payload.(*projectv1.ProjectFinancialsChanged)
	f := ev.GetFinancials()
	if last.subject != p.ID || ev.GetChanges() != 5 || f.GetPlannedHours() != "10.00" ||
		f.GetPlannedBillableHours() != "10.00" || f.GetForecastRevenue().GetAmount() != "21500.00" {
		t.Fatalf("event about %s folding %d changes: planned %s h (billable %s), forecast revenue %s; want %s, 5 changes, 10.00 h, 10.00 h, 21500.00 (10h × 150.00 + 20,000.00 fixed fee)",
			last.subject, ev.GetChanges(), f.GetPlannedHours(), f.GetPlannedBillableHours(), f.GetForecastRevenue().GetAmount(), p.ID)
	}
	if ids := ev.GetCrossIds(); ids.GetCrmOpportunityId() != "006D1" || ids.GetProjectId() != p.ID || ids.GetCrmAccountId() != "ACC-006D1" {
		t.Fatalf("cross ids %v, want opportunity 006D1, account ACC-006D1, project %s", ids, p.ID)
	}
}

// A deal converted while billing is down opens an activation exception, and with it
// exception.opened (stream ops.events) about the exception, naming the project service and the
// project; the same failure again (redelivery) counts an attempt and announces nothing new.
func TestOpenedExceptionIsAnnounced(t *testing.T) {
	e := newEnv(t)
	e.queue.OnOpened(outbox.ExceptionOpened(outbox.Writer{Producer: "project"}, "project"))
	pending := pendingConversion(t, e, opportunity("006E1", 1))
	if _, err := e.uc.Convert(context.Background(), opportunity("006E1", 1)); err != nil {
		t.Fatal(err)
	}
	msgs, err := streamtest.Published(context.Background(), e.db.Pool, opsv1.EventTypeExceptionOpened)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Envelope.GetSubject() != pending.ExceptionID || msgs[0].Envelope.GetProducer() != "project" {
		t.Fatalf("%d exception.opened events, want 1 about exception %s from project", len(msgs), pending.ExceptionID)
	}
	ev := msgs[0].Payload.(*opsv1.ExceptionOpened)
	if ev.GetService() != "project" || ev.GetException().GetReason() != app.ReasonBillingUnavailable ||
		ev.GetException().GetEntityId() != pending.Project.ID || ev.GetCrossIds().GetProjectId() != pending.Project.ID {
		t.Fatalf("exception.opened %v; want service project, reason %s, project %s", ev, app.ReasonBillingUnavailable, pending.Project.ID)
	}
}
