package app_test

import (
	"testing"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
)

func TestTimePostsAtCostAndBillRate(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	e.WithProject(e.Terms(billingtest.StandardCard()...))
	nonBillable := hours("T-3", billingtest.Consult, billingtest.TaskPM, "2026-06-10", "3")
	nonBillable.Billable = false
	got := e.post(
		hours("T-1", billingtest.Consult, billingtest.TaskBill, "2026-06-10", "2"),      // 2 h × 20 / 2 h × 50
		hours("T-2", billingtest.Architect, billingtest.TaskBill, "2026-06-10", "10.5"), // 10.5 h × 70 / 10.5 h × 90
		nonBillable, // cost only
		expense("X-1", "2026-06-11", billingtest.USD("120.00")), // rebilled with 10 % markup
	)
	for id, want := range map[string][2]string{
		"T-1": {"40.00 USD", "100.00 USD"}, "T-2": {"735.00 USD", "945.00 USD"},
		"T-3": {"60.00 USD", "0.00 USD"}, "X-1": {"120.00 USD", "132.00 USD"},
	} {
		r := got[id]
		if r.Outcome != ledger.Posted {
			t.Fatalf("%s: outcome %s (%s), want POSTED", id, r.Outcome, r.Reason)
		}
		wantMoney(t, id+" cost", r.Cost, want[0])
		wantMoney(t, id+" revenue", r.Revenue, want[1])
	}
	if c := got["T-2"].Candidate; c == nil || c.UnitPrice.String() != "90.00 USD" || c.Amount.String() != "945.00 USD" {
		t.Fatalf("architect's candidate = %+v, want 10.5 h at 90.00 = 945.00", c)
	}
	if got["T-3"].Candidate != nil {
		t.Fatal("non-billable time made an invoice candidate")
	}
	tb, err := e.UC.TrialBalance(e.Ctx, e.LE.ID, "2026-06")
	if err != nil {
		t.Fatal(err)
	}
	if debit, _, balanced := tb.Totals(); !balanced || debit.StringFixed(2) != "2132.00" {
		t.Fatalf("trial balance: debits %s balanced %v, want 2132.00 balanced", debit, balanced)
	}
}

// The bill rate is the rate-card entry of the resource's role in effect on the work date, and an
// amendment of the rate card prices later work only.
func TestBillRateIsTheOneInEffectOnTheWorkDate(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	c := e.WithProject(e.Terms(billingtest.Rate("CONSULTANT", "50.00", "2026-01-01", "2026-06-30"), billingtest.Rate("CONSULTANT", "55.00", "2026-07-01", "")))
	got := e.post(hours("T-1", billingtest.Consult, billingtest.TaskBill, "2026-06-30", "2"), hours("T-2", billingtest.Consult, billingtest.TaskBill, "2026-07-01", "2"))
	wantMoney(t, "revenue on 30 June", got["T-1"].Revenue, "100.00 USD")
	wantMoney(t, "revenue on 1 July", got["T-2"].Revenue, "110.00 USD")

	amended := e.Terms(billingtest.Rate("CONSULTANT", "50.00", "2026-01-01", "2026-06-30"), billingtest.Rate("CONSULTANT", "55.00", "2026-07-01", "2026-08-31"),
		billingtest.Rate("CONSULTANT", "60.00", "2026-09-01", ""))
	if _, err := e.UC.AmendContract(e.Ctx, c.ID, 1, "September increase", amended); err != nil {
		t.Fatal(err)
	}
	got = e.post(hours("T-3", billingtest.Consult, billingtest.TaskBill, "2026-08-31", "1"), hours("T-4", billingtest.Consult, billingtest.TaskBill, "2026-09-01", "1"))
	wantMoney(t, "revenue on 31 August", got["T-3"].Revenue, "55.00 USD")
	wantMoney(t, "revenue on 1 September", got["T-4"].Revenue, "60.00 USD")
}

func TestClosedPeriodRejectsOrRollsForward(t *testing.T) {
	for _, c := range []struct {
		policy              legalentity.ClosedPeriodPolicy
		outcome             ledger.Outcome
		reason, postingDate string
	}{
		{legalentity.Reject, ledger.RejectedClosedPeriod, ledger.ReasonPeriodClosed, ""},
		{legalentity.RollForward, ledger.Posted, "", "2026-06-01"},
	} {
		t.Run(string(c.policy), func(t *testing.T) {
			e := newEnv(t, c.policy)
			e.WithProject(e.Terms(billingtest.StandardCard()...))
			if _, err := e.UC.SetPeriod(e.Ctx, e.LE.ID, "2026-05", true); err != nil {
				t.Fatal(err)
			}
			r := e.post(hours("T-1", billingtest.Consult, billingtest.TaskBill, "2026-05-29", "4"))["T-1"]
			if r.Outcome != c.outcome || r.Reason != c.reason {
				t.Fatalf("outcome %s (%q), want %s (%q)", r.Outcome, r.Reason, c.outcome, c.reason)
			}
			if c.postingDate == "" {
				if r.Entry != nil || r.Candidate != nil {
					t.Fatal("a rejected posting wrote an entry or a candidate")
				}
				k, err := e.UC.KPIs(e.Ctx)
				if err != nil || k.EntriesRejectedClosedPeriod != 1 {
					t.Fatalf("KPIs %+v (%v), want 1 entry rejected", k, err)
				}
				return
			}
			if r.PostingDate.String() != c.postingDate || r.Entry.SourceDate.String() != "2026-05-29" {
				t.Fatalf("posted on %s (source %s), want %s keeping the work date", r.PostingDate, r.Entry.SourceDate, c.postingDate)
			}
			wantMoney(t, "revenue rolled forward", r.Revenue, "200.00 USD")
		})
	}
}

// Reopening a period lets its postings through again; a reversal of work in a closed period is
// never refused: it rolls into the next open period whatever the policy.
func TestReopenedPeriodsPostAndReversalsRollForward(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	e.WithProject(e.Terms(billingtest.StandardCard()...))
	e.post(hours("T-1", billingtest.Consult, billingtest.TaskBill, "2026-05-29", "4"))
	if _, err := e.UC.SetPeriod(e.Ctx, e.LE.ID, "2026-05", true); err != nil {
		t.Fatal(err)
	}
	rev := hours("T-1-R", billingtest.Consult, billingtest.TaskBill, "2026-05-29", "-4")
	rev.ReversesID = "T-1"
	r := e.post(rev)["T-1-R"]
	if r.Outcome != ledger.Reversed || r.PostingDate.String() != "2026-06-01" {
		t.Fatalf("reversal: %s on %s, want REVERSED on 2026-06-01", r.Outcome, r.PostingDate)
	}
	wantMoney(t, "reversed revenue", r.Revenue, "-200.00 USD")
	if _, err := e.UC.SetPeriod(e.Ctx, e.LE.ID, "2026-05", false); err != nil {
		t.Fatal(err)
	}
	if r := e.post(hours("T-2", billingtest.Consult, billingtest.TaskBill, "2026-05-28", "1"))["T-2"]; r.Outcome != ledger.Posted || r.PostingDate.String() != "2026-05-28" {
		t.Fatalf("after reopening: %s on %s, want POSTED on 2026-05-28", r.Outcome, r.PostingDate)
	}
}

// Time without a cost rate parks with one open exception for the resource, whatever the number
// of entries; the rate's arrival posts them at that rate and resolves the exception.
func TestParkedUntilTheCostRateArrives(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	e.WithProject(e.Terms(billingtest.StandardCard()...))
	got := e.post(hours("T-1", billingtest.Newcomer, billingtest.TaskBill, "2026-06-10", "2"), hours("T-2", billingtest.Newcomer, billingtest.TaskBill, "2026-06-11", "3"))
	for _, id := range []string{"T-1", "T-2"} {
		if r := got[id]; r.Outcome != ledger.Parked || r.Reason != ledger.ReasonRateMissing || r.Missing.Kind != "cost_rate" {
			t.Fatalf("%s: %s (%s, %+v), want parked for a cost rate", id, r.Outcome, r.Reason, r.Missing)
		}
	}
	if n := e.OpenParked(); n != 1 {
		t.Fatalf("open parked exceptions = %d, want 1 for the resource", n)
	}
	if err := e.UC.ApplyCostRates(e.Ctx, billingtest.Newcomer, "CONSULTANT", 1, []ledger.CostRate{{Rate: billingtest.USD("25.00"), From: billingtest.Day("2026-01-01")}}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"T-1", "T-2"} {
		if outcome := e.outcome(id); outcome != string(ledger.Posted) {
			t.Fatalf("%s after the rate arrived: %s, want POSTED", id, outcome)
		}
	}
	if n := e.OpenParked(); n != 0 {
		t.Fatalf("open parked exceptions = %d, want 0", n)
	}
	k, err := e.UC.KPIs(e.Ctx)
	if err != nil || k.ParkedRateMissing != 0 || len(k.UnbilledTime) != 1 || k.UnbilledTime[0].String() != "250.00 USD" {
		t.Fatalf("KPIs %+v (%v), want nothing parked and 250.00 USD unbilled (5 h × 50.00)", k, err)
	}
}

// Time of a role the rate card lacks parks for the bill rate; the amendment adding it posts it.
func TestParkedUntilTheRateCardHasTheRole(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	c := e.WithProject(e.Terms(billingtest.StandardCard()...))
	r := e.post(hours("T-1", billingtest.Manager, billingtest.TaskBill, "2026-06-10", "2"))["T-1"]
	if r.Outcome != ledger.Parked || r.Missing.Kind != "bill_rate" || r.Missing.Key != c.ID+"/L1/PM" {
		t.Fatalf("%s (%+v), want parked for the bill rate %s/L1/PM", r.Outcome, r.Missing, c.ID)
	}
	card := append(billingtest.StandardCard(), billingtest.Rate("PM", "80.00", "2026-01-01", ""))
	if _, err := e.UC.AmendContract(e.Ctx, c.ID, 1, "PM rate", e.Terms(card...)); err != nil {
		t.Fatal(err)
	}
	if outcome := e.outcome("T-1"); outcome != string(ledger.Posted) {
		t.Fatalf("after the amendment: %s, want POSTED", outcome)
	}
	k, err := e.UC.KPIs(e.Ctx)
	if err != nil || k.UnbilledTime[0].String() != "160.00 USD" { // 2 h × 80.00
		t.Fatalf("unbilled %v (%v), want 160.00 USD", k.UnbilledTime, err)
	}
	if n := e.OpenParked(); n != 0 {
		t.Fatalf("open parked exceptions = %d, want 0", n)
	}
}

// An expense in a currency without an exchange rate parks; setting the rate posts it converted.
func TestParkedUntilTheExchangeRateArrives(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	e.WithProject(e.Terms(billingtest.StandardCard()...))
	r := e.post(expense("X-1", "2026-06-11", billingtest.EUR("100.00")))["X-1"]
	if r.Outcome != ledger.Parked || r.Reason != ledger.ReasonFXMissing {
		t.Fatalf("%s (%s), want parked for the exchange rate", r.Outcome, r.Reason)
	}
	err := e.UC.SetExchangeRate(e.Ctx, ledger.ExchangeRate{From: "EUR", To: "USD", Date: billingtest.Day("2026-06-01"), Rate: decimal.Zero})
	wantReason(t, err, ledger.ReasonInvalidRate)
	if err := e.UC.SetExchangeRate(e.Ctx, ledger.ExchangeRate{From: "EUR", To: "USD", Date: billingtest.Day("2026-06-01"), Rate: decimal.RequireFromString("1.1")}); err != nil {
		t.Fatal(err)
	}
	if outcome := e.outcome("X-1"); outcome != string(ledger.Posted) {
		t.Fatalf("after the rate: %s, want POSTED", outcome)
	}
	entries, err := e.UC.JournalEntries(e.Ctx, ledger.EntryFilter{SourceID: "X-1"}, pageOf(10))
	if err != nil || len(entries) != 1 || entries[0].Lines[0].Debit.StringFixed(2) != "110.00" {
		t.Fatalf("entries %+v (%v), want the expense cost at 110.00 USD", entries, err)
	}
}
