package app_test

import (
	"context"
	"fmt"
	"testing"

	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/services/project/internal/app"
	"github.com/accrue/accrue/services/project/internal/project"
)

// A first conversion creates the customer, the contract and an ACTIVE project with a task tree
// per line; delivering it again changes nothing, an older version is ignored, and a newer one
// amends the project (a new line gets its tasks) and the contract.
func TestConversionCreatesOnceThenIgnoresStaleAndAmendsNewer(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	opp := opportunity("006A", 2)
	first, err := e.uc.Convert(ctx, opp)
	if err != nil {
		t.Fatal(err)
	}
	if first.Outcome != project.OutcomeCreated || first.Customer.Outcome != project.OutcomeCreated ||
		first.Contract.Outcome != project.OutcomeCreated || first.ProjectStatus != project.Active {
		t.Fatalf("first conversion %+v, want customer, contract and project created, ACTIVE", first)
	}
	// IMPLEMENTATION: summary + 8 template tasks; TRAINING: summary + 2.
	if first.TaskCount != 12 {
		t.Fatalf("%d tasks, want 12", first.TaskCount)
	}
	p, err := e.uc.GetProject(ctx, first.Project.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.ContractID != first.Contract.ID || p.Budget.Revenue.Format() != "100000.00" || p.Budget.Hours.String() != "520" || p.Tasks[0].Name != "Data platform build" {
		t.Fatalf("project %+v, want contract %s, revenue budget 100000.00, 520 hours, first task named after the line", p, first.Contract.ID)
	}

	again, err := e.uc.Convert(ctx, opp)
	if err != nil || again.Outcome != project.OutcomeUnchanged || again.Project.ID != first.Project.ID {
		t.Fatalf("redelivery %+v, %v; want UNCHANGED on project %s", again, err, first.Project.ID)
	}
	stale, err := e.uc.Convert(ctx, opportunity("006A", 1))
	if err != nil || stale.Outcome != project.OutcomeIgnoredStale || stale.Version != 2 {
		t.Fatalf("older version %+v, %v; want IGNORED_STALE at version 2", stale, err)
	}

	newer := opportunity("006A", 3)
	newer.Amount = usd("110000.00")
	newer.ServiceLines = append(newer.ServiceLines, &projectv1.OpportunityServiceLine{LineKey: "TRN-2", ServiceLine: "TRAINING",
		Description: "Admin training", Amount: usd("10000.00"), BillingMethod: newer.ServiceLines[1].BillingMethod})
	amended, err := e.uc.Convert(ctx, newer)
	if err != nil {
		t.Fatal(err)
	}
	if amended.Outcome != project.OutcomeUpdated || amended.Contract.Outcome != project.OutcomeUpdated || amended.Project.ID != first.Project.ID ||
		amended.TaskCount != 15 || amended.Project.Version != 2 {
		t.Fatalf("newer version %+v, want the project UPDATED to version 2 with 15 tasks and the contract amended", amended)
	}
	if n := e.count(t, `SELECT count(*) FROM projects`); n != 1 {
		t.Fatalf("%d projects, want 1", n)
	}
	if n := e.count(t, `SELECT count(*) FROM outbox WHERE event_type = $1`, projectv1.EventTypeProjectStatusChanged); n != 1 {
		t.Fatalf("%d status events, want the amendment's 1", n)
	}
}

// Every rejected opportunity is refused with a stable reason and field, writes nothing, and is
// recorded as an open conversion exception with that reason.
func TestConversionRejectionsHaveStableReasons(t *testing.T) {
	e := newEnv(t)
	for i, tc := range []struct {
		name, reason, field string
		change              func(o *projectv1.Opportunity)
	}{
		{"ends before it starts", project.ReasonInvalidPeriod, "opportunity.end_date",
			func(o *projectv1.Opportunity) { o.EndDate = date(2026, 5, 1) }},
		{"lines do not sum to the amount", project.ReasonLinesMismatch, "opportunity.service_lines",
			func(o *projectv1.Opportunity) { o.Amount = usd("100000.01") }},
		{"a line key twice", project.ReasonDuplicateLine, "opportunity.service_lines[1].line_key",
			func(o *projectv1.Opportunity) { o.ServiceLines[1].LineKey = "IMPL-1" }},
		{"a line in another currency", project.ReasonCurrencyMismatch, "opportunity.service_lines[1].amount.currency_code",
			func(o *projectv1.Opportunity) { o.ServiceLines[1].Amount.CurrencyCode = "EUR" }},
		{"an account its own parent", project.ReasonHierarchyCycle, "opportunity.parent_accounts[0].account_id",
			func(o *projectv1.Opportunity) { o.ParentAccounts[0].AccountId = o.Account.AccountId }},
		{"a service line without template", project.ReasonUnknownServiceLine, "opportunity.service_lines[1].service_line",
			func(o *projectv1.Opportunity) { o.ServiceLines[1].ServiceLine = "ASTROLOGY" }},
		{"an unknown legal entity", project.ReasonUnknownLegalEntity, "opportunity.legal_entity_code",
			func(o *projectv1.Opportunity) { o.LegalEntityCode = "XX99" }},
		{"no tax profile anywhere", project.ReasonTaxProfileMissing, "opportunity.account.tax_profile",
			func(o *projectv1.Opportunity) { o.Account.TaxProfile = nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opp := opportunity(fmt.Sprintf("006R%d", i), 1)
			tc.change(opp)
			_, err := e.uc.Convert(context.Background(), opp)
			if got := reasonOf(err); got != tc.reason {
				t.Fatalf("reason %q (%v), want %s", got, err, tc.reason)
			}
			if tc.field != "" && !hasField(err, tc.field) {
				t.Errorf("error %v names no field %s", err, tc.field)
			}
			if n := e.count(t, `SELECT count(*) FROM projects`) + e.count(t, `SELECT count(*) FROM opportunity_conversions`); n != 0 {
				t.Errorf("%d rows written, want none", n)
			}
			if n := e.count(t, `SELECT count(*) FROM exceptions WHERE kind = $1 AND reason = $2 AND entity_id = $3 AND status = 'OPEN'`,
				app.KindConversion, tc.reason, "salesforce:"+opp.OpportunityId); n != 1 {
				t.Errorf("%d open conversion exceptions with reason %s, want 1", n, tc.reason)
			}
			if e.billing.calls != 0 {
				t.Errorf("billing called %d times for a rejected deal", e.billing.calls)
			}
		})
	}
}

// The same version sent again with other content is refused (SOURCE_VERSION_REUSED); the next
// successful conversion resolves the exception that recorded it.
func TestReusedVersionIsRefusedUntilANewerOneConverts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.uc.Convert(ctx, opportunity("006V", 1)); err != nil {
		t.Fatal(err)
	}
	changed := opportunity("006V", 1)
	changed.Name = "Initech data platform, phase 2"
	if _, err := e.uc.Convert(ctx, changed); reasonOf(err) != project.ReasonSourceVersionReused {
		t.Fatalf("reused version: %v, want %s", err, project.ReasonSourceVersionReused)
	}
	changed.Version = 2
	res, err := e.uc.Convert(ctx, changed)
	if err != nil || res.Outcome != project.OutcomeUpdated {
		t.Fatalf("newer version %+v, %v; want UPDATED", res, err)
	}
	if n := e.count(t, `SELECT count(*) FROM exceptions WHERE kind = $1 AND status = 'OPEN'`, app.KindConversion); n != 0 {
		t.Fatalf("%d open conversion exceptions, want the refusal resolved", n)
	}
}
