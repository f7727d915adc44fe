package gateway

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
)

// kpiDef describes one console KPI: where it comes from, how it reads, and the list API with the
// records behind it.
type kpiDef struct {
	KPI     string `json:"kpi"`
	Label   string `json:"label"`
	Service string `json:"service"`
	// Unit is "count" or "amount" (one value per currency).
	Unit    string `json:"unit"`
	Seed    bool   `json:"seed"`
	Records string `json:"records"`
	Help    string `json:"help"`
}

// consoleKPIs are the seed's five KPIs, then the finance ones.
var consoleKPIs = []kpiDef{
	{"unbilled_time", "Unbilled time", "billing", "amount", true, "/v1/invoice-candidates",
		"Billable time posted and not invoiced yet (open invoice candidates of time)."},
	{"projects_awaiting_financial_activation", "Projects awaiting financial activation", "project", "count", true,
		"/v1/projects?status=PROJECT_STATUS_PENDING_FINANCIAL_ACTIVATION", "Projects waiting for their contract in billing."},
	{"timesheets_rejected_closed_period", "Timesheets rejected for closed periods", "timeexpense", "count", true,
		"/v1/time-entries?posting_status=POSTING_STATUS_REJECTED_CLOSED_PERIOD", "Timesheets with entries refused because their accounting period was closed."},
	{"invoices_blocked_tax", "Invoices blocked by missing tax data", "billing", "count", true, "/v1/legal-entities",
		"Invoice drafts waiting for their customer's tax profile (per legal entity: tax-blocked-invoices)."},
	{"assignments_missing_cost_rates", "Assignments missing cost rates", "resource", "count", true,
		"/v1/assignments?rate_missing_only=true", "Staffed assignments whose resource has no cost rate for their dates."},
	{"unbilled_amount", "Unbilled amount", "billing", "amount", false, "/v1/invoice-candidates",
		"Everything billable not invoiced yet: open invoice candidates of time, expenses and fees."},
	{"wip", "Work in progress (WIP)", "billing", "amount", false, "/v1/journal-entries",
		"Balance of the unbilled receivables account, in each legal entity's functional currency."},
	{"ar_outstanding", "AR outstanding", "billing", "amount", false, "/v1/journal-entries",
		"Balance of accounts receivable: posted invoices not paid yet (payments, once recorded, reduce it)."},
	{"supplier_cost_awaiting_allocation", "Supplier cost awaiting allocation", "billing", "amount", false, "/v1/legal-entities",
		"Supplier bill lines recorded and not allocated to projects yet (per legal entity: supplier-cost-kpis)."},
}

type kpiPoint struct {
	Time     time.Time `json:"time"`
	Value    string    `json:"value"`
	Currency string    `json:"currency_code,omitempty"`
}

type consoleKPI struct {
	kpiDef
	Current []kpiPoint `json:"current"`
	History []kpiPoint `json:"history"`
	Error   string     `json:"error,omitempty"`
}

// consoleKpis: GET /v1/ops/console/kpis[?days=7] — every console KPI with its current value(s)
// and its recorded history.
func (g *Gateway) consoleKpis(w http.ResponseWriter, r *http.Request) {
	if !needScope(w, r, "ops:read") {
		return
	}
	days := 7
	if v, err := strconv.Atoi(r.URL.Query().Get("days")); err == nil && v > 0 && v <= 90 {
		days = v
	}
	ctx := opsContext(r)
	from := timestamppb.New(time.Now().Add(-time.Duration(days) * 24 * time.Hour))
	var svcs []string
	for _, k := range consoleKPIs {
		if !slices.Contains(svcs, k.Service) {
			svcs = append(svcs, k.Service)
		}
	}
	got, errs := fanOut(svcs, func(s string) (*opsv1.ListKpiHistoryResponse, error) {
		return opsv1.NewOpsInsightServiceClient(g.conns[s]).ListKpiHistory(ctx, &opsv1.ListKpiHistoryRequest{Service: s, From: from})
	})
	out := make([]consoleKPI, 0, len(consoleKPIs))
	for _, d := range consoleKPIs {
		k := consoleKPI{kpiDef: d, Current: []kpiPoint{}, History: []kpiPoint{}}
		if err := errs[d.Service]; err != nil {
			k.Error = d.Service + " did not answer: " + status.Convert(err).Message()
		}
		if resp := got[d.Service]; resp != nil {
			for _, c := range resp.GetCurrent() {
				if c.GetKpi() == d.KPI {
					k.Current = append(k.Current, kpiPoint{c.GetRecordTime().AsTime(), c.GetValue(), c.GetCurrencyCode()})
				}
			}
			for _, h := range resp.GetSamples() {
				if h.GetKpi() == d.KPI {
					k.History = append(k.History, kpiPoint{h.GetRecordTime().AsTime(), h.GetValue(), h.GetCurrencyCode()})
				}
			}
		}
		out = append(out, k)
	}
	writeAny(w, map[string]any{"kpis": out, "days": days})
}
