package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/accrue/accrue/e2e/internal/harness"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
)

func eur(amount string) *commonv1.Money { return &commonv1.Money{Amount: amount, CurrencyCode: "EUR"} }

// moneyStr is m as "1100.00 USD" ("<nil>" when absent).
func moneyStr(m *commonv1.Money) string {
	if m == nil {
		return "<nil>"
	}
	return m.GetAmount() + " " + m.GetCurrencyCode()
}

// setEURRate sets the EUR→USD rate of d through REST.
func setEURRate(t testing.TB, env *harness.Env, d *commonv1.Date, rate string) {
	t.Helper()
	in := &billingv1.SetExchangeRateRequest{FromCurrency: "EUR", ToCurrency: "USD", RateDate: d, Rate: rate}
	if st, _, body := env.Do(http.MethodPost, "/v1/exchange-rates", restJSON(t, in), env.Bearer(billingWrite)); st/100 != 2 {
		t.Fatalf("POST /v1/exchange-rates %s: %d %s", rate, st, body)
	}
}

// A deal in EUR signed by a legal entity keeping its books in USD goes through the CRM conversion
// to a EUR contract, and its work is booked in USD:
//   - EUR→USD 1.10 on the work date (2026-06-08), 1.20 on the invoice date (2026-07-01);
//   - 10 h of an architect at 100.00 EUR = 1,000.00 EUR of WIP, booked Dr 1200 / Cr 4000
//     1,100.00 USD (× 1.10); cost 10 h × 70.00 USD = 700.00 (Dr 5000 / Cr 2150);
//   - the invoice of 1,000.00 EUR: Dr 1100 1,200.00 (× 1.20), Cr 1200 1,100.00 (the carrying
//     amount), Cr 4900 100.00 (the FX gain);
//   - trial balance: 1100 1,200.00, 1200 0.00, 4000 −1,100.00, 4900 −100.00, 5000 700.00,
//     2150 −700.00;
//   - the project's financials: budget and forecast revenue in EUR (200,000.00 EUR budget;
//     0.00 EUR forecast, nothing staffed), actual revenue 1,100.00 USD, actual cost 700.00 USD,
//     actual margin 400.00 USD (36.36 %), no forecast margin (EUR less USD).
func TestForeignCurrencyDealThroughTheCRMConversion(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	le := createLegalEntity(t, env, "FX01", billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT)
	if le.GetFunctionalCurrency() != "USD" {
		t.Fatalf("legal entity in %s, want USD", le.GetFunctionalCurrency())
	}
	opp := postingOpportunity("006-fx-"+env.ID(), "001-fx-"+env.ID(), le.GetCode())
	opp.Amount, opp.Account.CurrencyCode, opp.ParentAccounts[0].CurrencyCode = eur("200000.00"), "EUR", "EUR"
	line := opp.ServiceLines[0]
	line.Amount = eur("200000.00")
	line.RateCard = []*billingv1.RateCardEntry{{Role: "ARCHITECT", BillRate: eur("100.00"), EffectiveFrom: date(2026, 1, 1)}}
	fx := newPostingProjectOf(t, env, le, "fx", opp)
	if p := getProject(t, env, fx.projectID); p.GetCurrencyCode() != "EUR" {
		t.Fatalf("project in %q, want EUR", p.GetCurrencyCode())
	}
	if n := env.Count("billing", `SELECT count(*) FROM contracts WHERE id = $1 AND currency_code = 'EUR'`, fx.contractID); n != 1 {
		t.Fatalf("billing has %d EUR contracts with id %s, want 1", n, fx.contractID)
	}

	setEURRate(t, env, date(2026, 6, 8), "1.10")
	setEURRate(t, env, date(2026, 7, 1), "1.20")
	linus := newPostingResource(t, env, le, "Linus Torvalds", "ARCHITECT", architectCostRate)
	resp := mustImport(t, env, timeItem(withRef(timeIn(linus, fx.projectID, fx.billable, date(2026, 6, 8), "10", true), "fx-1-"+env.ID())))
	entryID := resp.GetResults()[0].GetEntryId()
	waitPostingStatus(t, env, stPosted, entryID)
	wip := lineTotals(t, listJournal(t, env, bySource(entryID))...)
	if want := map[string]string{"1200": "1100.00", "4000": "-1100.00", "5000": "700.00", "2150": "-700.00"}; !sameMap(wip, want) {
		t.Fatalf("journal of the 10 h: %v, want %v (1,000.00 EUR at 1.10; cost 10 × 70.00 USD)", wip, want)
	}

	var p1 billingv1.ProposeInvoiceResponse
	inv := proposeOrPost(t, env, "/v1/contracts/"+fx.contractID+"/invoices:propose", "fx-p1", `{"cut_off":{"year":2026,"month":6,"day":30}}`, &p1)
	if moneyStr(inv.GetTotal()) != "1000.00 EUR" || len(inv.GetLines()) != 1 {
		t.Fatalf("proposal %v, want one line, 1000.00 EUR", inv)
	}
	var post billingv1.PostInvoiceResponse
	inv = proposeOrPost(t, env, "/v1/invoices/"+inv.GetInvoiceId()+":post", "fx-post1", `{"issue_date":{"year":2026,"month":7,"day":1}}`, &post)
	if inv.GetStatus() != billingv1.InvoiceStatus_INVOICE_STATUS_POSTED || inv.GetJournalEntryId() == "" {
		t.Fatalf("posted invoice %v, want POSTED with a journal entry", inv)
	}
	got := lineTotals(t, listJournal(t, env, bySource(inv.GetInvoiceId()))...)
	if want := map[string]string{"1100": "1200.00", "1200": "-1100.00", "4900": "-100.00"}; !sameMap(got, want) {
		t.Fatalf("journal of the invoice: %v, want %v (1,000.00 EUR at 1.20; WIP at its carrying 1,100.00; FX gain 100.00)", got, want)
	}
	tb := trialBalance(t, env, le.GetLegalEntityId(), "")
	if b := balances(tb); !tb.GetBalanced() || b["1100"] != "1200.00" || (b["1200"] != "0.00" && b["1200"] != "") ||
		b["4000"] != "-1100.00" || b["4900"] != "-100.00" || b["5000"] != "700.00" || b["2150"] != "-700.00" {
		t.Fatalf("trial balance %v (balanced %v), want 1100 1200.00, 1200 0.00, 4000 -1100.00, 4900 -100.00, 5000 700.00, 2150 -700.00",
			b, tb.GetBalanced())
	}

	want := map[string]string{
		"budget revenue": "200000.00 EUR", "forecast revenue": "0.00 EUR", "forecast margin": "<nil>", "forecast margin %": "",
		"actual revenue": "1100.00 USD", "actual cost": "700.00 USD", "actual margin": "400.00 USD", "actual margin %": "36.36",
		"actual hours": "10.00", "currency": "EUR",
	}
	var f *projectv1.ProjectFinancials
	figures := func() map[string]string {
		return map[string]string{
			"budget revenue": moneyStr(f.GetBudget().GetRevenue()), "forecast revenue": moneyStr(f.GetForecastRevenue()),
			"forecast margin": moneyStr(f.GetForecastMargin()), "forecast margin %": f.GetForecastMarginPercent(),
			"actual revenue": moneyStr(f.GetActualRevenue()), "actual cost": moneyStr(f.GetActualCost()),
			"actual margin": moneyStr(f.GetActualMargin()), "actual margin %": f.GetActualMarginPercent(),
			"actual hours": f.GetActualHours(), "currency": f.GetCurrencyCode(),
		}
	}
	harness.Eventually(t, 15*time.Second, 50*time.Millisecond, func() error {
		f = getFinancials(t, env, fx.projectID)
		if got := figures(); !sameMap(got, want) {
			return fmt.Errorf("financials %v, want %v", got, want)
		}
		return nil
	})
	// REST spells the missing forecast margin as null, not as a zero in some currency.
	st, _, body := env.Do(http.MethodGet, "/v1/projects/"+fx.projectID+"/financials", nil, env.Bearer(projectsReadCost))
	if st != http.StatusOK || !jsonFieldAbsentOrNull(t, body, "financials", "forecast_margin") {
		t.Errorf("GET financials: %d %s, want forecast_margin null or absent", st, body)
	}
}

// jsonFieldAbsentOrNull reports whether body's object at path is null or absent.
func jsonFieldAbsentOrNull(t testing.TB, body []byte, path ...string) bool {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if v, ok = m[k]; !ok {
			return true
		}
	}
	return v == nil
}
