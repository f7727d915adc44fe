package vendorshape

import (
	"github.com/shopspring/decimal"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
)

const psaContentType = "application/json"

// psaUpdate is a PSA project status update (the generic shape PSA tools' project-update
// endpoints take): the project by external id, then what changed.
type psaUpdate struct {
	Project psaProject `json:"project"`
	// Source identifies the Accrue event (dedupe on event_id).
	Source psaSource `json:"source"`
}

type psaProject struct {
	ExternalID      string      `json:"external_id"`
	AccrueProjectID string      `json:"accrue_project_id"`
	Status          string      `json:"status,omitempty"`
	PercentComplete string      `json:"percent_complete,omitempty"`
	Financials      *psaFigures `json:"financials,omitempty"`
	Billing         *psaBilling `json:"billing,omitempty"`
}

// psaFigures are in currency, except that actual_revenue and actual_margin are in
// actual_currency when it is given: a foreign-currency contract, whose actuals are booked in
// the legal entity's functional currency (and which has no forecast margin).
type psaFigures struct {
	Currency        string `json:"currency"`
	PlannedHours    string `json:"planned_hours"`
	ActualHours     string `json:"actual_hours"`
	ForecastRevenue string `json:"forecast_revenue,omitempty"`
	ActualRevenue   string `json:"actual_revenue,omitempty"`
	ForecastMargin  string `json:"forecast_margin,omitempty"`
	ActualMargin    string `json:"actual_margin,omitempty"`
	ActualCurrency  string `json:"actual_currency,omitempty"`
}

type psaBilling struct {
	Currency             string `json:"currency"`
	LastInvoiceNumber    string `json:"last_invoice_number"`
	ContractBilledToDate string `json:"contract_billed_to_date"`
}

type psaSource struct {
	EventID       string `json:"event_id"`
	EventType     string `json:"event_type"`
	OccurredAt    string `json:"occurred_at"`
	CorrelationID string `json:"correlation_id,omitempty"`
}

// psa maps, per event type:
//
//	project.activated          status
//	project.financials_changed status, percent_complete (actual ÷ planned hours, capped at
//	                           100), financials (hours, revenue; margins unless cost_redacted;
//	                           actual_currency when the actuals are in another currency)
//	invoice.posted             billing (last invoice number, the contract's billed to date)
//
// keyed by cross_ids.psa_project_id, else the Accrue project id (PSAs that imported the project
// from Accrue know it by that id). An event about no project is not applicable.
func psa(ev Event) (string, []byte, error) {
	p, err := decode(ev)
	if err != nil {
		return "", nil, err
	}
	projectID := p.CrossIDs.ProjectID
	up := psaUpdate{Source: psaSource{EventID: ev.ID, EventType: ev.Type, OccurredAt: ev.Time.UTC().Format("2006-01-02T15:04:05Z"),
		CorrelationID: ev.CorrelationID}}
	switch ev.Type {
	case projectv1.EventTypeProjectActivated:
		if p.Project == nil {
			return "", nil, notApplicable(PSA, ev, "no project")
		}
		if projectID == "" {
			projectID = p.Project.ProjectID
		}
		up.Project.Status = projectStatus(p.Project.Status)
	case projectv1.EventTypeProjectFinancialsChanged:
		f := p.Financials
		if f == nil {
			return "", nil, notApplicable(PSA, ev, "no financials")
		}
		if projectID == "" {
			projectID = f.ProjectID
		}
		up.Project.Status = projectStatus(f.Status)
		up.Project.PercentComplete = percentComplete(f.ActualHours, f.PlannedHours)
		fig := &psaFigures{PlannedHours: f.PlannedHours, ActualHours: f.ActualHours}
		if f.ForecastRevenue.known() {
			fig.Currency, fig.ForecastRevenue = f.ForecastRevenue.CurrencyCode, f.ForecastRevenue.Amount
		}
		if f.ActualRevenue.known() {
			fig.ActualRevenue = f.ActualRevenue.Amount
			switch fig.Currency {
			case "":
				fig.Currency = f.ActualRevenue.CurrencyCode
			case f.ActualRevenue.CurrencyCode:
			default:
				fig.ActualCurrency = f.ActualRevenue.CurrencyCode
			}
		}
		if !f.CostRedacted && f.ForecastMargin.known() {
			fig.ForecastMargin = f.ForecastMargin.Amount
		}
		if !f.CostRedacted && f.ActualMargin.known() {
			fig.ActualMargin = f.ActualMargin.Amount
		}
		up.Project.Financials = fig
	case billingv1.EventTypeInvoicePosted:
		if p.Invoice == nil || !p.ContractBilledToDate.known() {
			return "", nil, notApplicable(PSA, ev, "no contract billed-to-date")
		}
		up.Project.Billing = &psaBilling{Currency: p.ContractBilledToDate.CurrencyCode, LastInvoiceNumber: p.Invoice.Number,
			ContractBilledToDate: p.ContractBilledToDate.Amount}
	default:
		return "", nil, notApplicable(PSA, ev, "no PSA mapping for this event type")
	}
	if projectID == "" {
		return "", nil, notApplicable(PSA, ev, "the event names no project")
	}
	up.Project.AccrueProjectID = projectID
	up.Project.ExternalID = projectID
	if p.CrossIDs.PSAProjectID != "" {
		up.Project.ExternalID = p.CrossIDs.PSAProjectID
	}
	b, err := marshal(up)
	return psaContentType, b, err
}

// percentComplete is actual ÷ planned hours in percent, two decimals, capped at 100; "" when
// nothing is planned or a figure is not a decimal.
func percentComplete(actual, planned string) string {
	a, err1 := decimal.NewFromString(actual)
	p, err2 := decimal.NewFromString(planned)
	if err1 != nil || err2 != nil || !p.IsPositive() {
		return ""
	}
	pc := a.Mul(decimal.NewFromInt(100)).Div(p).Round(2)
	if pc.GreaterThan(decimal.NewFromInt(100)) {
		pc = decimal.NewFromInt(100)
	}
	return pc.StringFixed(2)
}
