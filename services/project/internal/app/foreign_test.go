package app_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/services/project/internal/financials"
	"github.com/accrue/accrue/services/project/internal/project"
	"github.com/accrue/accrue/services/project/internal/wire"
)

func eur(s string) *commonv1.Money { return &commonv1.Money{Amount: s, CurrencyCode: "EUR"} }

// euroOpportunity is opportunity(oppID) in EUR throughout (amount, lines, rate card, accounts),
// still booked by US01, which keeps its books in USD.
func euroOpportunity(oppID string) *projectv1.Opportunity {
	o := opportunity(oppID, 1)
	o.Amount, o.Account.CurrencyCode, o.ParentAccounts[0].CurrencyCode = eur("100000.00"), "EUR", "EUR"
	for _, l := range o.ServiceLines {
		l.Amount.CurrencyCode = "EUR"
		for _, r := range l.RateCard {
			r.BillRate.CurrencyCode = "EUR"
		}
	}
	return o
}

func moneyOf(m *commonv1.Money) string {
	if m == nil {
		return "<nil>"
	}
	return m.GetAmount() + " " + m.GetCurrencyCode()
}

// A EUR deal booked by a USD legal entity converts: billing is asked for a EUR contract of US01
// and the project is in EUR. Its financials keep each figure in its own currency: budget and
// forecast revenue in EUR (40 h × 150.00 EUR + the 20,000.00 EUR fee = 26,000.00 EUR); planned
// cost (cost rates) and actuals (billing's postings) in USD; the actual margin in USD
// (1,650.00 − 800.00 = 850.00, 51.52 %); no forecast margin (EUR less USD). In the portfolio,
// whose order is lowest forecast margin first, it comes after a USD project although its
// 26,000 − 30,000 would be the lowest number.
func TestForeignCurrencyDealConvertsAndKeepsEachFigureInItsCurrency(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	conv, err := e.uc.Convert(ctx, euroOpportunity("006FX"))
	if err != nil {
		t.Fatalf("EUR deal under US01: %v, want converted", err)
	}
	if conv.Outcome != project.OutcomeCreated || conv.Contract.Outcome != project.OutcomeCreated || conv.ProjectStatus != project.Active {
		t.Fatalf("conversion %+v, want project and contract created, ACTIVE", conv)
	}
	var us01 string
	if err := e.db.Pool.QueryRow(ctx, `SELECT legal_entity_id::text FROM legal_entities WHERE code = 'US01'`).Scan(&us01); err != nil {
		t.Fatal(err)
	}
	req := e.billing.requests["006FX"].GetContract()
	if req.GetCurrencyCode() != "EUR" || req.GetLegalEntityId() != us01 || len(req.GetLines()) != 2 ||
		moneyOf(req.GetLines()[0].GetAmount()) != "80000.00 EUR" || moneyOf(req.GetLines()[0].GetRateCard()[0].GetBillRate()) != "150.00 EUR" {
		t.Fatalf("contract request %v, want EUR for legal entity %s, line IMPL-1 80000.00 EUR at 150.00 EUR", req, us01)
	}
	p, err := e.uc.GetProject(ctx, conv.Project.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Currency != "EUR" || p.Budget.Revenue.Currency != "EUR" || p.Budget.Revenue.Format() != "100000.00" {
		t.Fatalf("project in %s with revenue budget %+v, want EUR and 100000.00 EUR", p.Currency, p.Budget.Revenue)
	}

	euroContract := contract(p.ContractID, 1, "150.00")
	for i := range euroContract.Lines {
		euroContract.Lines[i].Currency = "EUR"
	}
	if err := e.uc.ApplyContract(ctx, euroContract); err != nil {
		t.Fatal(err)
	}
	pl := plan(uuid.NewString(), p.ID, taskNamed(t, p, "Design"), "CONSULTANT", 1, "2026-06-01", "2026-06-05", "8", "40")
	cost := dec("30000.00")
	pl.PlannedCost, pl.CostCurrency = &cost, "USD"
	if err := e.uc.ApplyPlan(ctx, pl); err != nil {
		t.Fatal(err)
	}
	// 10 h posted: cost 800.00 USD, WIP 10 × 150.00 EUR at 1.10 = 1,650.00 USD.
	if err := e.uc.AddActuals(ctx, []financials.Posting{{ProjectID: p.ID, Hours: dec("10"), Cost: dec("800.00"), Revenue: dec("1650.00")}}); err != nil {
		t.Fatal(err)
	}

	econ := economics(t, e, p.ID)
	if econ.Currency != "EUR" || econ.FunctionalCurrency != "USD" || !econ.ForecastRevenue.Equal(dec("26000")) {
		t.Fatalf("economics in %s / %s, forecast %s; want EUR / USD, 26000", econ.Currency, econ.FunctionalCurrency, econ.ForecastRevenue)
	}
	f := wire.Financials(econ)
	for name, got := range map[string]string{
		"currency":         f.GetCurrencyCode(),
		"budget revenue":   moneyOf(f.GetBudget().GetRevenue()),
		"forecast revenue": moneyOf(f.GetForecastRevenue()),
		"planned cost":     moneyOf(f.GetPlannedCost()),
		"actual revenue":   moneyOf(f.GetActualRevenue()),
		"actual cost":      moneyOf(f.GetActualCost()),
		"subcontractor":    moneyOf(f.GetActualSubcontractorCost()),
		"recognized":       moneyOf(f.GetRecognizedRevenue()),
		"actual margin":    moneyOf(f.GetActualMargin()),
		"actual margin %":  f.GetActualMarginPercent(),
		"forecast margin":  moneyOf(f.GetForecastMargin()),
		"forecast margin%": f.GetForecastMarginPercent(),
	} {
		want := map[string]string{
			"currency": "EUR", "budget revenue": "100000.00 EUR", "forecast revenue": "26000.00 EUR",
			"planned cost": "30000.00 USD", "actual revenue": "1650.00 USD", "actual cost": "800.00 USD",
			"subcontractor": "0.00 USD", "recognized": "0.00 USD", "actual margin": "850.00 USD", "actual margin %": "51.52",
			"forecast margin": "<nil>", "forecast margin%": "",
		}[name]
		if got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}

	// A USD project with a forecast margin of 0.00 (no contract replica, nothing planned).
	usdConv, err := e.uc.Convert(ctx, opportunity("006US", 1))
	if err != nil {
		t.Fatal(err)
	}
	pf, err := e.uc.Portfolio(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(pf) != 2 || pf[0].ProjectID != usdConv.Project.ID || pf[1].ProjectID != p.ID {
		t.Fatalf("portfolio %d projects, first %v; want the USD project %s then the EUR one %s", len(pf), ids(pf), usdConv.Project.ID, p.ID)
	}
	if _, _, ok := pf[0].ForecastMargin(); !ok || pf[0].Foreign() {
		t.Errorf("the USD project: forecast margin known %v, foreign %v; want known, not foreign", ok, pf[0].Foreign())
	}
}

func ids(es []financials.Economics) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ProjectID
	}
	return out
}
