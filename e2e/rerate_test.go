package e2e

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/accrue/accrue/e2e/internal/harness"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
)

// A bill-rate amendment through the gateway re-rates the billable time not yet invoiced and lists
// the invoiced time for a rebill decision.
//
// An architect books 10.5 h on June 10 (10.5 × 90.00 = 945.00) and 2 h on June 11 (180.00); the
// second is invoiced (the candidate's status: there is no invoice module yet). The contract is
// amended (POST /v1/contracts/{id}:amend) to 100.00 an hour for architects: the open candidate
// becomes 1,050.00 with a WIP delta of +105.00 dated June 10 (the original entry untouched), the
// invoiced one stays 180.00 and GET /v1/rebill-decisions lists it with +20.00. Project revenue
// actuals follow: 945.00 + 180.00 + 105.00 = 1,230.00. The same amendment again re-rates nothing.
func TestBillRateAmendmentReratesThroughTheGateway(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	le := createLegalEntity(t, env, "US01", billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT)
	fx := newPostingProject(t, env, le, "rerate")
	grace := newPostingResource(t, env, le, "Grace Hopper", "ARCHITECT", architectCostRate)

	open := mustRecordTime(t, env, timeIn(grace, fx.projectID, fx.billable, date(2026, 6, 10), "10.5", true))
	invoiced := mustRecordTime(t, env, timeIn(grace, fx.projectID, fx.billable, date(2026, 6, 11), "2", true))
	submitTimesheet(t, env, open.GetTimesheetId())
	approveTimesheet(t, env, open.GetTimesheetId())
	waitPostingStatus(t, env, stPosted, open.GetEntryId(), invoiced.GetEntryId())
	if _, err := env.DB("billing").Exec(t.Context(), `UPDATE invoice_candidates SET status = 'INVOICED' WHERE source_id = $1`, invoiced.GetEntryId()); err != nil {
		t.Fatal(err)
	}

	c := getContract(t, env, fx.contractID)
	for _, r := range c.GetLines()[0].GetRateCard() {
		if r.GetRole() == "ARCHITECT" {
			r.BillRate = usd("100.00")
		}
	}
	amend := &billingv1.AmendContractRequest{ContractId: c.GetContractId(), ExpectedVersion: c.GetVersion(), Reason: "architect rate 100.00 from January",
		Contract: &billingv1.ContractInput{CustomerId: c.GetCustomerId(), LegalEntityId: c.GetLegalEntityId(), Name: c.GetName(),
			CurrencyCode: c.GetCurrencyCode(), StartDate: c.GetStartDate(), EndDate: c.GetEndDate(), Lines: c.GetLines()}}
	for range 2 { // the same amendment twice (a retry with its key): re-rated once
		st, _, body := env.Do(http.MethodPost, "/v1/contracts/"+c.GetContractId()+":amend", restJSON(t, amend),
			env.Bearer(billingWrite, "Idempotency-Key", "amend-rate-"+env.ID()))
		if st != http.StatusOK {
			t.Fatalf("POST /v1/contracts/%s:amend: %d: %s", c.GetContractId(), st, body)
		}
	}

	cands := map[string]*billingv1.InvoiceCandidate{}
	for _, cand := range listCandidates(t, env, byProject(fx.projectID)) {
		cands[cand.GetSourceId()] = cand
	}
	if got := cands[open.GetEntryId()]; got == nil || got.GetStatus() != billingv1.CandidateStatus_CANDIDATE_STATUS_OPEN ||
		!moneyIs(got.GetUnitPrice(), "100.00") || !moneyIs(got.GetAmount(), "1050.00") {
		t.Errorf("open candidate %v, want 10.5 × 100.00 = 1050.00 OPEN", got)
	}
	if got := cands[invoiced.GetEntryId()]; got == nil || got.GetStatus() != billingv1.CandidateStatus_CANDIDATE_STATUS_INVOICED ||
		!moneyIs(got.GetAmount(), "180.00") {
		t.Errorf("invoiced candidate %v, want 180.00 INVOICED untouched", got)
	}
	js := listJournal(t, env, bySource(open.GetEntryId()))
	var adjustments int
	for _, e := range js {
		switch e.GetSourceType() {
		case "time_entry":
			if got := lineTotals(t, e); got["1200"] != "945.00" {
				t.Errorf("original entry's WIP %s, want 945.00 untouched", got["1200"])
			}
		case "bill_adjustment":
			adjustments++
			if got := lineTotals(t, e); got["1200"] != "105.00" || got["4000"] != "-105.00" || !sameDate(e.GetPostingDate(), 2026, 6, 10) ||
				e.GetSourceVersion() != c.GetVersion()+1 {
				t.Errorf("bill adjustment %v: lines %v, want +105.00 WIP dated 2026-06-10 for contract version %d", e, got, c.GetVersion()+1)
			}
		}
	}
	if adjustments != 1 {
		t.Errorf("%d bill adjustments of the open entry, want 1", adjustments)
	}
	if js := listJournal(t, env, bySource(invoiced.GetEntryId())); len(js) != 1 {
		t.Errorf("%d journal entries of the invoiced entry, want its original only", len(js))
	}

	st, _, body := env.Do(http.MethodGet, "/v1/rebill-decisions?contract_id="+c.GetContractId(), nil, env.Bearer(billingRead))
	if st != http.StatusOK {
		t.Fatalf("GET /v1/rebill-decisions: %d: %s", st, body)
	}
	var rebills billingv1.ListRebillDecisionsResponse
	decode(t, body, &rebills)
	if d := rebills.GetDecisions(); len(d) != 1 || d[0].GetSourceId() != invoiced.GetEntryId() || !moneyIs(d[0].GetInvoicedAmount(), "180.00") ||
		!moneyIs(d[0].GetReratedAmount(), "200.00") || !moneyIs(d[0].GetDelta(), "20.00") || d[0].GetContractVersion() != c.GetVersion()+1 {
		t.Errorf("rebill decisions %v, want the invoiced entry: 180.00 → 200.00, +20.00", d)
	}
	if k := billingKpis(t, env); len(k.GetUnbilledTime()) != 1 || !moneyIs(k.GetUnbilledTime()[0], "1050.00") {
		t.Errorf("unbilled time %v, want 1050.00 USD (the open candidate re-rated)", k.GetUnbilledTime())
	}
	waitForFinancials(t, env, fx.projectID, func(f *projectv1.ProjectFinancials) error {
		if !moneyIs(f.GetActualRevenue(), "1230.00") || !sameDecimal(f.GetActualHours(), "12.5") {
			return fmt.Errorf("actual revenue %v, hours %s; want 1230.00 (945.00 + 180.00 + 105.00) and 12.5 h", f.GetActualRevenue(), f.GetActualHours())
		}
		return nil
	})
}
