package wire

import (
	"github.com/shopspring/decimal"
	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/civil/civilpb"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/periodclose"
	"github.com/accrue/accrue/services/billing/internal/revenue"
)

// LineRecognition converts what a line recognized for a period (API and revenue.recognized).
func LineRecognition(r revenue.Recorded) *billingv1.LineRecognition {
	c := r.Currency
	p := &billingv1.LineRecognition{ContractId: r.ContractID, LineKey: r.LineKey, Period: r.Period, Method: revenueMethods[r.Method],
		RecognizedToDate: m(r.ToDate, c), Recognized: m(r.Amount, c), CostToDate: m(r.CostToDate, c), LossContract: r.LossContract,
		LossProvision: m(r.LossProvision, c), Loss: m(r.LossAmount, c), JournalEntryId: r.JournalEntryID, SkippedReason: r.Skipped}
	if r.EstimateTotal != nil {
		p.EstimateAtCompletion = m(*r.EstimateTotal, c)
	}
	if r.Progress != nil {
		p.Progress = &commonv1.Decimal{Value: r.Progress.Round(6).String()}
	}
	return p
}

// ContractPosition converts a contract's asset / liability.
func ContractPosition(p revenue.ContractPosition) *billingv1.ContractPosition {
	c := p.Currency
	return &billingv1.ContractPosition{ContractId: p.ContractID, LegalEntityId: p.LegalEntityID, AsOf: civilpb.To(p.AsOf),
		Recognized: m(p.Recognized, c), Billed: m(p.Billed, c), ContractAsset: m(p.Asset, c), ContractLiability: m(p.Liability, c),
		Reclassified: m(p.Reclassified, c), JournalEntryId: p.JournalEntryID, LedgerUnbilledReceivables: m(p.LedgerUnbilled, c),
		LedgerDeferredRevenue: m(p.LedgerDeferred, c)}
}

// RecognizeRevenueResponse converts a run and its entries.
func RecognizeRevenueResponse(r revenue.Run, entries []ledger.Entry) *billingv1.RecognizeRevenueResponse {
	c := r.Currency
	run := &billingv1.RecognitionRun{RunId: r.ID, LegalEntityId: r.LegalEntityID, Period: r.Period, DryRun: r.DryRun,
		RunTime: timestamppb.New(r.RunAt), RunBy: r.RunBy, Recognized: m(r.Recognized, c), Loss: m(r.Loss, c),
		Reclassified: m(r.Reclassified, c), Lines: Each(r.Lines, LineRecognition), Positions: Each(r.Positions, ContractPosition),
		LossContractIds: r.LossContracts}
	return &billingv1.RecognizeRevenueResponse{Run: run, Entries: Each(entries, JournalEntry)}
}

// RevenueEstimate reads a SetRevenueEstimate request.
func RevenueEstimate(req *billingv1.SetRevenueEstimateRequest) (revenue.Estimate, error) {
	a, err := amount(req.GetEstimateToComplete(), "estimate_to_complete")
	if err != nil {
		return revenue.Estimate{}, err
	}
	return revenue.Estimate{ContractID: req.GetContractId(), LineKey: req.GetLineKey(), EffectivePeriod: req.GetEffectivePeriod(),
		EstimateToComplete: a, Note: req.GetNote()}, nil
}

// SetRevenueEstimateResponse converts a stored estimate.
func SetRevenueEstimateResponse(e revenue.Estimate) *billingv1.SetRevenueEstimateResponse {
	return &billingv1.SetRevenueEstimateResponse{Estimate: &billingv1.RevenueEstimate{ContractId: e.ContractID, LineKey: e.LineKey,
		EffectivePeriod: e.EffectivePeriod, EstimateToComplete: moneyProto(e.EstimateToComplete), Note: e.Note, SetBy: e.SetBy,
		SetTime: timestamppb.New(e.SetAt)}}
}

// AsOf reads an optional date (zero: none).
func AsOf(d *commonv1.Date) (civil.Date, error) {
	if d == nil {
		return civil.Date{}, nil
	}
	return date(d, "as_of")
}

// ContractPositionsResponse converts positions with their totals (in the legal entity's
// currency: contracts are in it).
func ContractPositionsResponse(list []revenue.ContractPosition) *billingv1.GetContractPositionsResponse {
	resp := &billingv1.GetContractPositionsResponse{Positions: Each(list, ContractPosition)}
	if len(list) == 0 {
		return resp
	}
	asset, liability := decimal.Zero, decimal.Zero
	for _, p := range list {
		asset, liability = asset.Add(p.Asset), liability.Add(p.Liability)
	}
	resp.TotalAsset, resp.TotalLiability = m(asset, list[0].Currency), m(liability, list[0].Currency)
	return resp
}

// Checklist converts a period's close checklist.
func Checklist(c periodclose.Checklist) *billingv1.GetCloseChecklistResponse {
	resp := &billingv1.GetCloseChecklistResponse{LegalEntityId: c.LegalEntityID, Period: c.Period, Ready: c.Passed()}
	for _, r := range c.Results {
		st := billingv1.CloseItemStatus_CLOSE_ITEM_STATUS_FAILED
		switch {
		case r.Waived:
			st = billingv1.CloseItemStatus_CLOSE_ITEM_STATUS_WAIVED
		case r.Passed:
			st = billingv1.CloseItemStatus_CLOSE_ITEM_STATUS_PASSED
		}
		resp.Items = append(resp.Items, &billingv1.CloseItem{Item: string(r.Item), Status: st, Detail: r.Detail})
	}
	return resp
}

// WaiveCloseItemResponse converts the checklist after a waiver.
func WaiveCloseItemResponse(c periodclose.Checklist) *billingv1.WaiveCloseItemResponse {
	return &billingv1.WaiveCloseItemResponse{Checklist: Checklist(c)}
}

// SoftClosePeriodResponse and ReopenPeriodResponse convert the period.
func SoftClosePeriodResponse(p ledger.Period) *billingv1.SoftClosePeriodResponse {
	return &billingv1.SoftClosePeriodResponse{Period: Period(p)}
}

func ReopenPeriodResponse(p ledger.Period) *billingv1.ReopenPeriodResponse {
	return &billingv1.ReopenPeriodResponse{Period: Period(p)}
}

// RevenueReportResponse converts the revenue report.
func RevenueReportResponse(r revenue.Report) *billingv1.GetRevenueReportResponse {
	c := r.Currency
	pnl := func(p revenue.PnL) *billingv1.ProfitAndLoss {
		return &billingv1.ProfitAndLoss{Id: p.ID, Revenue: m(p.Revenue, c), LaborCost: m(p.Labor, c), SubcontractorCost: m(p.Subcontractor, c),
			ExpenseCost: m(p.Cost, c), Margin: m(p.Margin(), c)}
	}
	resp := &billingv1.GetRevenueReportResponse{LegalEntityId: r.LegalEntityID, FromPeriod: r.From, ToPeriod: r.To,
		Projects: Each(r.Projects, pnl), Contracts: Each(r.Contracts, pnl)}
	for _, w := range r.WIP {
		resp.Wip = append(resp.Wip, &billingv1.WipRollForward{ContractId: w.ContractID, Opening: m(w.Opening, c), Added: m(w.Added, c),
			Billed: m(w.Billed, c), Reclassified: m(w.Reclassified, c), Closing: m(w.Closing(), c)})
	}
	for _, x := range r.ByMethod {
		resp.ByMethod = append(resp.ByMethod, &billingv1.RevenueByMethod{Method: revenueMethods[x.Method], Recognized: m(x.Recognized, c)})
	}
	return resp
}

// RevenueReportCSV is the report as a CSV download.
func RevenueReportCSV(r revenue.Report) *httpbody.HttpBody {
	return &httpbody.HttpBody{ContentType: "text/csv; charset=utf-8", Data: r.CSV()}
}
