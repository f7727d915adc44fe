package e2e

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/accrue/accrue/e2e/internal/harness"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
)

// parkedException returns billing's posting.parked exception about a resource's cost rate.
func parkedException(t testing.TB, env *harness.Env, resourceID string) *opsv1.Exception {
	t.Helper()
	return findException(listExceptions(t, env, "billing", "kind=posting.parked"), "posting.parked", resourceID)
}

// getBillingException reads one exception of billing's queue.
func getBillingException(t testing.TB, env *harness.Env, id string) *opsv1.Exception {
	t.Helper()
	st, _, body := env.Do(http.MethodGet, "/v1/ops/billing/exceptions/"+id, nil, env.Bearer(opsRead))
	if st != http.StatusOK {
		t.Fatalf("GET billing exception %s: %d: %s", id, st, body)
	}
	var resp opsv1.GetExceptionResponse
	decode(t, body, &resp)
	return resp.GetException()
}

// An approved entry of a consultant without a cost rate is parked, not lost: the entry shows
// PARKED_RATE_MISSING (RATE_MISSING_FOR_DATE), billing has an OPEN posting.parked exception about
// the resource's cost rate, the KPI counts 1 parked posting, and nothing is in the ledger. When
// the rate (20.00/h) is set — and nothing else is done; the periodic sweep is pushed out to an
// hour — the entry is posted (labor cost 8 × 20.00 = 160.00, WIP 8 × 50.00 = 400.00), the
// exception is resolved and the KPI returns to 0. The same holds for a bill rate: an analyst's
// entry waits (RATE_MISSING_FOR_DATE, a bill_rate exception) until the deal is amended with an
// ANALYST rate, then posts at it.
func TestMissingCostRateParksPostingUntilTheRateArrives(t *testing.T) {
	t.Parallel()
	env := harness.Start(t, harness.WithEnv("billing", "ACCRUE_PARKED_SWEEP_INTERVAL", "1h"))
	le := createLegalEntity(t, env, "US01", billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT)
	fx := newPostingProject(t, env, le, "norate")
	nora := newPostingResource(t, env, le, "Nora Norate", "CONSULTANT", "")
	if n := env.Count("billing", `SELECT count(*) FROM cost_rate_replicas WHERE resource_id = $1`, nora); n != 0 {
		t.Fatalf("billing knows %d cost rates of a resource that has none", n)
	}

	imp := mustImport(t, env, timeItem(withRef(timeIn(nora, fx.projectID, fx.billable, date(2026, 6, 16), "8", true), "NORATE-1")))
	if imp.GetAccepted() != 1 {
		t.Fatalf("import: %v, want the entry accepted (the cost rate is the ledger's concern)", imp.GetResults())
	}
	id := imp.GetResults()[0].GetEntryId()
	if e := waitPostingStatus(t, env, stParked, id)[id]; e.GetPostingReason() != "RATE_MISSING_FOR_DATE" {
		t.Errorf("parked entry: posting reason %q, want RATE_MISSING_FOR_DATE", e.GetPostingReason())
	}
	exc := parkedException(t, env, nora)
	if exc == nil {
		t.Fatalf("no posting.parked exception about resource %s in %v", nora, listExceptions(t, env, "billing", ""))
	}
	if exc.GetStatus() != opsv1.ExceptionStatus_EXCEPTION_STATUS_OPEN || exc.GetReason() != "RATE_MISSING_FOR_DATE" || exc.GetEntityType() != "cost_rate" {
		t.Errorf("parked exception %v, want OPEN RATE_MISSING_FOR_DATE about the cost rate of %s", exc, nora)
	}
	if k := billingKpis(t, env); k.GetPostingsParkedRateMissing() != 1 || k.GetJournalEntries() != 0 {
		t.Errorf("billing KPIs %v; want 1 parked posting and no journal entry", k)
	}
	if js := listJournal(t, env, bySource(id)); len(js) != 0 {
		t.Errorf("the parked entry has %d journal entries, want 0", len(js))
	}
	if cs := listCandidates(t, env, bySource(id)); len(cs) != 0 {
		t.Errorf("the parked entry has %d invoice candidates, want 0", len(cs))
	}

	// The rate arrives; nothing else is done.
	setCostRate(t, env, nora, consultantCostRate, date(2026, 1, 1), nil)
	rateSet := time.Now()
	waitPostingStatus(t, env, stPosted, id)
	t.Logf("posted %s after the cost rate was set", time.Since(rateSet).Round(time.Millisecond))
	js := listJournal(t, env, bySource(id))
	if len(js) != 1 {
		t.Fatalf("%d journal entries for the re-driven entry, want 1", len(js))
	}
	if got, want := lineTotals(t, js[0]), map[string]string{"5000": "160.00", "2150": "-160.00", "1200": "400.00", "4000": "-400.00"}; !sameMap(got, want) {
		t.Errorf("re-driven entry: lines %v, want %v", got, want)
	}
	if cs := listCandidates(t, env, bySource(id)); len(cs) != 1 || !moneyIs(cs[0].GetAmount(), "400.00") {
		t.Errorf("re-driven entry: candidates %v, want one of 400.00", cs)
	}
	if e := getBillingException(t, env, exc.GetExceptionId()); e.GetStatus() != opsv1.ExceptionStatus_EXCEPTION_STATUS_RESOLVED || e.GetResolvedBy() != "system" {
		t.Errorf("parked exception after the rate arrived: %v, want RESOLVED by system", e)
	}
	if k := billingKpis(t, env); k.GetPostingsParkedRateMissing() != 0 || k.GetJournalEntries() != 1 {
		t.Errorf("billing KPIs after the rate arrived %v; want nothing parked and 1 journal entry", k)
	}
	checkTrialBalance(t, "trial balance", trialBalance(t, env, le.GetLegalEntityId(), ""), "560.00",
		map[string]string{"5000": "160.00", "2150": "-160.00", "1200": "400.00", "4000": "-400.00"})

	// A bill rate missing: an analyst (cost 30.00/h) bills 5 h, but the rate card has no ANALYST.
	ana := newPostingResource(t, env, le, "Ana Lyst", "ANALYST", "30.00")
	imp = mustImport(t, env, timeItem(withRef(timeIn(ana, fx.projectID, fx.billable, date(2026, 6, 18), "5", true), "NOBILL-1")))
	id = imp.GetResults()[0].GetEntryId()
	if e := waitPostingStatus(t, env, stParked, id)[id]; e.GetPostingReason() != "RATE_MISSING_FOR_DATE" {
		t.Errorf("entry without a bill rate: posting reason %q, want RATE_MISSING_FOR_DATE", e.GetPostingReason())
	}
	billKey := fx.contractID + "/IMPL-1/ANALYST"
	exc = findException(listExceptions(t, env, "billing", "kind=posting.parked"), "posting.parked", billKey)
	if exc == nil || exc.GetStatus() != opsv1.ExceptionStatus_EXCEPTION_STATUS_OPEN || exc.GetReason() != "RATE_MISSING_FOR_DATE" || exc.GetEntityType() != "bill_rate" {
		t.Fatalf("parked exception about the bill rate %s: %v, want OPEN RATE_MISSING_FOR_DATE", billKey, exc)
	}
	if k := billingKpis(t, env); k.GetPostingsParkedRateMissing() != 1 {
		t.Errorf("parked postings %d, want 1", k.GetPostingsParkedRateMissing())
	}
	// The deal is amended with analysts at 60.00/h: the entry is posted, 5 × 30.00 = 150.00 cost
	// and 5 × 60.00 = 300.00 WIP.
	amended := postingOpportunity("006-norate-"+env.ID(), "001-norate-"+env.ID(), le.GetCode())
	amended.Version = 200
	amended.ServiceLines[0].RateCard = append(amended.ServiceLines[0].RateCard,
		&billingv1.RateCardEntry{Role: "ANALYST", BillRate: usd("60.00"), EffectiveFrom: date(2026, 1, 1)})
	if c := mustConvert(t, env, amended, http.StatusOK); c.GetContract().GetVersion() != 2 {
		t.Fatalf("amendment: contract version %d, want 2", c.GetContract().GetVersion())
	}
	waitPostingStatus(t, env, stPosted, id)
	js = listJournal(t, env, bySource(id))
	if got, want := lineTotals(t, js...), map[string]string{"5000": "150.00", "2150": "-150.00", "1200": "300.00", "4000": "-300.00"}; len(js) != 1 || !sameMap(got, want) {
		t.Errorf("entry posted after the amendment: %d journal entries with %v, want one with %v", len(js), got, want)
	}
	if cs := listCandidates(t, env, bySource(id)); len(cs) != 1 || !moneyIs(cs[0].GetAmount(), "300.00") || !moneyIs(cs[0].GetUnitPrice(), "60.00") {
		t.Errorf("candidates after the amendment %v, want 5 × 60.00 = 300.00", cs)
	}
	if e := getBillingException(t, env, exc.GetExceptionId()); e.GetStatus() != opsv1.ExceptionStatus_EXCEPTION_STATUS_RESOLVED {
		t.Errorf("bill-rate exception after the amendment: %v, want RESOLVED", e)
	}
	if k := billingKpis(t, env); k.GetPostingsParkedRateMissing() != 0 || k.GetJournalEntries() != 2 {
		t.Errorf("billing KPIs after the amendment %v; want nothing parked and 2 journal entries", k)
	}
}

// A correction cancels the posting of a parked original. A consultant without a cost rate has
// two entries approved on a timesheet, 8 h on June 16 and 4 h on June 17: both are parked. The
// 4 h entry is corrected to 2 h (the replacement parks too). When the rate (20.00/h) arrives,
// the 8 h entry and the 2 h replacement are posted — labor cost (8 + 2) × 20.00 = 200.00, WIP
// (8 + 2) × 50.00 = 500.00 — and the cancelled 4 h original is not.
func TestCorrectedParkedEntryIsNotPostedWhenTheRateArrives(t *testing.T) {
	t.Parallel()
	env := harness.Start(t, harness.WithEnv("billing", "ACCRUE_PARKED_SWEEP_INTERVAL", "1h"))
	le := createLegalEntity(t, env, "US01", billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT)
	fx := newPostingProject(t, env, le, "parkfix")
	nora := newPostingResource(t, env, le, "Nora Norate", "CONSULTANT", "")

	e8 := mustRecordTime(t, env, timeIn(nora, fx.projectID, fx.billable, date(2026, 6, 16), "8", true))
	e4 := mustRecordTime(t, env, timeIn(nora, fx.projectID, fx.billable, date(2026, 6, 17), "4", true))
	submitTimesheet(t, env, e8.GetTimesheetId())
	approveTimesheet(t, env, e8.GetTimesheetId())
	waitPostingStatus(t, env, stParked, e8.GetEntryId(), e4.GetEntryId())

	corr := mustCorrect(t, env, e4.GetEntryId(), timeIn(nora, fx.projectID, fx.billable, date(2026, 6, 17), "2", true), "4 h were 2 h")
	replacement := corr.GetReplacement().GetEntryId()
	waitPostingStatus(t, env, stParked, replacement)
	waitPostingStatus(t, env, stReversed, e4.GetEntryId())
	if k := billingKpis(t, env); k.GetPostingsParkedRateMissing() != 2 {
		t.Errorf("parked postings after the correction: %d, want 2 (the 8 h entry and the 2 h replacement; the corrected original no longer waits)",
			k.GetPostingsParkedRateMissing())
	}

	setCostRate(t, env, nora, consultantCostRate, date(2026, 1, 1), nil)
	waitPostingStatus(t, env, stPosted, e8.GetEntryId(), replacement)
	harness.Eventually(t, 10*time.Second, 50*time.Millisecond, func() error {
		if k := billingKpis(t, env); k.GetPostingsParkedRateMissing() != 0 {
			return fmt.Errorf("%d postings still parked", k.GetPostingsParkedRateMissing())
		}
		return nil
	})
	if js := listJournal(t, env, bySource(e4.GetEntryId())); len(js) != 0 {
		t.Errorf("the corrected (cancelled) 4 h original was posted: %d journal entries", len(js))
	}
	if got, want := lineTotals(t, listJournal(t, env, byProject(fx.projectID))...),
		map[string]string{"5000": "200.00", "2150": "-200.00", "1200": "500.00", "4000": "-500.00"}; !sameMap(got, want) {
		t.Errorf("project ledger %v, want %v (8 h + 2 h)", got, want)
	}
	if e := getTimeEntry(t, env, e4.GetEntryId()); e.GetPostingStatus() != stReversed {
		t.Errorf("the corrected original is %s, want REVERSED", e.GetPostingStatus())
	}
}

// mustCorrect corrects an entry (POST /v1/time-entries/{id}:correct, time:approve).
func mustCorrect(t testing.TB, env *harness.Env, id string, in *timeexpensev1.TimeEntryInput, reason string) *timeexpensev1.CorrectTimeEntryResponse {
	t.Helper()
	st, _, body := env.Do(http.MethodPost, "/v1/time-entries/"+id+":correct",
		restJSON(t, &timeexpensev1.CorrectTimeEntryRequest{Entry: in, Reason: reason}), env.Bearer(timeApprove))
	if st != http.StatusCreated {
		t.Fatalf("correct %s: %d, want 201: %s", id, st, body)
	}
	var resp timeexpensev1.CorrectTimeEntryResponse
	decode(t, body, &resp)
	return &resp
}
