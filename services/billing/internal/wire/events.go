package wire

import (
	"fmt"

	"github.com/shopspring/decimal"

	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/civil/civilpb"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/ledger"
)

// The events billing consumes, converted to what posting reads.

// Sources converts approved or reversed time entries and expenses into posting sources.
func Sources(entries []*timeexpensev1.TimeEntry) ([]ledger.Source, error) {
	out := make([]ledger.Source, 0, len(entries))
	for _, e := range entries {
		s, err := source(e)
		if err != nil {
			return nil, fmt.Errorf("entry %s: %w", e.GetEntryId(), err)
		}
		out = append(out, s)
	}
	return out, nil
}

func source(e *timeexpensev1.TimeEntry) (ledger.Source, error) {
	d, err := civilpb.From(e.GetWorkDate(), "work_date")
	if err != nil {
		return ledger.Source{}, err
	}
	s := ledger.Source{ID: e.GetEntryId(), Version: e.GetVersion(), ResourceID: e.GetResourceId(), ProjectID: e.GetProjectId(),
		TaskID: e.GetTaskId(), Date: d, Billable: e.GetBillable(), ReversesID: e.GetReversesEntryId(), Timesheet: e.GetTimesheetId(),
		Desc: e.GetDescription()}
	if s.Version == 0 {
		s.Version = 1
	}
	switch e.GetKind() {
	case timeexpensev1.EntryKind_ENTRY_KIND_EXPENSE:
		s.Type = ledger.SourceExpense
		a, err := money.Parse(e.GetAmount().GetAmount(), e.GetAmount().GetCurrencyCode(), "amount")
		if err != nil {
			return s, err
		}
		s.Amount = a
	default:
		s.Type = ledger.SourceTime
		h, err := decimal.NewFromString(e.GetHours())
		if err != nil {
			return s, err
		}
		s.Hours = h
	}
	return s, nil
}

// Project converts a project as a project event carries it into the replica posting reads, with
// its status and version.
func Project(p *projectv1.Project) (proj ledger.Project, status string, version int64) {
	proj = ledger.Project{ID: p.GetProjectId(), LegalEntityID: p.GetLegalEntityId(), ContractID: p.GetContractId(),
		Tasks: make(map[string]ledger.Task, len(p.GetTasks()))}
	for _, t := range p.GetTasks() {
		proj.Tasks[t.GetTaskId()] = ledger.Task{Billable: t.GetBillable(), LineKey: t.GetContractLineKey()}
	}
	return proj, p.GetStatus().String(), p.GetVersion()
}

// CostRates converts a resource's current cost rates.
func CostRates(ev *resourcev1.CostRateChanged) ([]ledger.CostRate, error) {
	var rates []ledger.CostRate
	for _, r := range ev.GetCurrent() {
		v, err := decimal.NewFromString(r.GetRate().GetAmount())
		if err != nil {
			return nil, err
		}
		rate := ledger.CostRate{Rate: money.Amount{Value: v, Currency: r.GetRate().GetCurrencyCode()}}
		if rate.From, err = civilpb.From(r.GetEffectiveFrom(), "effective_from"); err != nil {
			return nil, err
		}
		if rate.To, err = civilpb.From(r.GetEffectiveTo(), "effective_to"); err != nil {
			return nil, err
		}
		rates = append(rates, rate)
	}
	return rates, nil
}
