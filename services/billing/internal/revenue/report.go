package revenue

import (
	"bytes"
	"encoding/csv"
	"sort"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/contract"
)

// PnL is a project's or contract's profit and loss over a period range.
type PnL struct {
	ID                                  string
	Revenue, Labor, Subcontractor, Cost decimal.Decimal // Cost: expense cost
}

// Margin is revenue less labor, subcontractor and expense cost.
func (p PnL) Margin() decimal.Decimal {
	return p.Revenue.Sub(p.Labor).Sub(p.Subcontractor).Sub(p.Cost)
}

func (p PnL) add(o PnL) PnL {
	return PnL{ID: p.ID, Revenue: p.Revenue.Add(o.Revenue), Labor: p.Labor.Add(o.Labor), Subcontractor: p.Subcontractor.Add(o.Subcontractor),
		Cost: p.Cost.Add(o.Cost)}
}

// LedgerSlice is the P&L of the journal lines of one project and contract ("" when unknown).
type LedgerSlice struct {
	ProjectID, ContractID string
	PnL
}

// WIP is a contract's unbilled receivables roll-forward over a period range.
type WIP struct {
	ContractID                           string
	Opening, Added, Billed, Reclassified decimal.Decimal
}

// Closing is opening + added − billed + reclassified.
func (w WIP) Closing() decimal.Decimal {
	return w.Opening.Add(w.Added).Sub(w.Billed).Add(w.Reclassified)
}

// ByMethod is revenue recognized by a revenue method over a period range.
type ByMethod struct {
	Method     contract.RevenueMethod
	Recognized decimal.Decimal
}

// Report is the revenue report of a legal entity over a period range.
type Report struct {
	LegalEntityID string
	From, To      string
	Currency      string
	Projects      []PnL
	Contracts     []PnL
	WIP           []WIP
	ByMethod      []ByMethod
}

// BuildReport sums the ledger slices per project and per contract (rows with an id only).
func BuildReport(r Report, slices []LedgerSlice) Report {
	projects, contracts := map[string]PnL{}, map[string]PnL{}
	for _, s := range slices {
		if s.ProjectID != "" {
			projects[s.ProjectID] = projects[s.ProjectID].add(s.PnL)
		}
		if s.ContractID != "" {
			contracts[s.ContractID] = contracts[s.ContractID].add(s.PnL)
		}
	}
	r.Projects, r.Contracts = sorted(projects), sorted(contracts)
	return r
}

func sorted(m map[string]PnL) []PnL {
	out := make([]PnL, 0, len(m))
	for id, p := range m {
		p.ID = id
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// CSV renders the report as CSV: a header, then one row per figure (section, key, measure,
// amount, currency), amounts to the currency's minor unit.
func (r Report) CSV() []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	f := func(v decimal.Decimal) string { return money.Amount{Value: v, Currency: r.Currency}.Round().Format() }
	row := func(section, key, measure string, v decimal.Decimal) {
		_ = w.Write([]string{section, key, measure, f(v), r.Currency})
	}
	_ = w.Write([]string{"section", "key", "measure", "amount", "currency"})
	pnl := func(section string, list []PnL) {
		for _, p := range list {
			row(section, p.ID, "revenue", p.Revenue)
			row(section, p.ID, "labor_cost", p.Labor)
			row(section, p.ID, "subcontractor_cost", p.Subcontractor)
			row(section, p.ID, "expense_cost", p.Cost)
			row(section, p.ID, "margin", p.Margin())
		}
	}
	pnl("project_pnl", r.Projects)
	pnl("contract_pnl", r.Contracts)
	for _, x := range r.WIP {
		row("wip", x.ContractID, "opening", x.Opening)
		row("wip", x.ContractID, "added", x.Added)
		row("wip", x.ContractID, "billed", x.Billed)
		row("wip", x.ContractID, "reclassified", x.Reclassified)
		row("wip", x.ContractID, "closing", x.Closing())
	}
	for _, m := range r.ByMethod {
		row("revenue_by_method", string(m.Method), "recognized", m.Recognized)
	}
	w.Flush()
	return b.Bytes()
}
