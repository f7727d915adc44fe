package wire

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	customerv1 "github.com/accrue/accrue/gen/go/accrue/customer/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	"github.com/accrue/accrue/internal/platform/civil/civilpb"
	"github.com/accrue/accrue/services/project/internal/financials"
	"github.com/accrue/accrue/services/project/internal/project"
)

// The events the project service consumes, read into its replicas and forecast.

// DirectoryCustomerFrom reads a customer.upserted event (env is its envelope) into the customer's
// replica.
func DirectoryCustomerFrom(env *commonv1.EventEnvelope, ev *customerv1.CustomerUpserted) project.DirectoryCustomer {
	c := ev.GetCustomer()
	return project.DirectoryCustomer{
		CustomerID: c.GetCustomerId(), Name: c.GetName(), Currency: c.GetCurrencyCode(),
		Status: c.GetStatus().String(), HasTaxProfile: c.GetTaxProfile() != nil,
		TaxExempt: c.GetTaxProfile().GetExempt(), Version: c.GetVersion(),
		LastEventID: env.GetEventId(), CorrelationID: env.GetCorrelationId(),
	}
}

// LegalEntity reads a legal_entity.upserted event into the legal entity's replica.
func LegalEntity(ev *billingv1.LegalEntityUpserted) project.LegalEntity {
	le := ev.GetLegalEntity()
	return project.LegalEntity{ID: le.GetLegalEntityId(), Code: le.GetCode(), FunctionalCurrency: le.GetFunctionalCurrency(),
		Policy: le.GetClosedPeriodPolicy().String(), Version: le.GetVersion()}
}

// Contract reads a contract.changed event into the contract's replica: lines and rate cards.
func Contract(ev *billingv1.ContractChanged) (financials.Contract, error) {
	c := ev.GetContract()
	out := financials.Contract{ID: c.GetContractId(), Version: c.GetVersion()}
	for _, l := range c.GetLines() {
		amt, err := decimal.NewFromString(l.GetAmount().GetAmount())
		if err != nil {
			return out, fmt.Errorf("line %s amount: %w", l.GetLineKey(), err)
		}
		line := financials.ContractLine{Key: l.GetLineKey(), BillingMethod: strings.TrimPrefix(l.GetBillingMethod().String(), "BILLING_METHOD_"),
			Amount: amt, Currency: l.GetAmount().GetCurrencyCode()}
		for _, r := range l.GetRateCard() {
			rate, err := decimal.NewFromString(r.GetBillRate().GetAmount())
			if err != nil {
				return out, fmt.Errorf("line %s bill rate: %w", l.GetLineKey(), err)
			}
			from, err := civilpb.From(r.GetEffectiveFrom(), "effective_from")
			if err != nil {
				return out, err
			}
			to, err := civilpb.From(r.GetEffectiveTo(), "effective_to")
			if err != nil {
				return out, err
			}
			line.Rates = append(line.Rates, financials.BillRate{Role: r.GetRole(), Rate: rate, From: from, To: to})
		}
		out.Lines = append(out.Lines, line)
	}
	return out, nil
}

// Postings reads the results of a postings.recorded event that count toward actuals: the posted
// and reversed ones (a reversal carries negative amounts).
func Postings(ev *billingv1.PostingsRecorded) ([]financials.Posting, error) {
	var out []financials.Posting
	for _, r := range ev.GetResults() {
		if r.GetOutcome() != billingv1.PostingOutcome_POSTING_OUTCOME_POSTED && r.GetOutcome() != billingv1.PostingOutcome_POSTING_OUTCOME_REVERSED {
			continue
		}
		p := financials.Posting{ProjectID: r.GetProjectId(), Hours: decimal.Zero, Cost: decimal.Zero, Revenue: decimal.Zero,
			SubcontractorCost: decimal.Zero}
		for _, v := range []struct {
			dst *decimal.Decimal
			s   string
		}{{&p.Hours, r.GetHours()}, {&p.Cost, r.GetCost().GetAmount()}, {&p.Revenue, r.GetRevenue().GetAmount()},
			{&p.SubcontractorCost, r.GetSubcontractorCost().GetAmount()}} {
			if v.s == "" {
				continue
			}
			d, err := decimal.NewFromString(v.s)
			if err != nil {
				return nil, err
			}
			*v.dst = d
		}
		out = append(out, p)
	}
	return out, nil
}

// Recognized reads a revenue.recognized event into a posting of recognized revenue on the
// contract's first project (billing tags the entries the same way); ok is false when the
// contract has no project.
func Recognized(ev *billingv1.RevenueRecognized) (p financials.Posting, ok bool, err error) {
	if len(ev.GetProjectIds()) == 0 {
		return p, false, nil
	}
	v, err := decimal.NewFromString(ev.GetRecognition().GetRecognized().GetAmount())
	if err != nil {
		return p, false, err
	}
	return financials.Posting{ProjectID: ev.GetProjectIds()[0], RecognizedRevenue: v}, true, nil
}

// Plan reads an assignment.changed event into the assignment's staffing plan.
func Plan(ev *resourcev1.AssignmentChanged) (financials.Plan, error) {
	a := ev.GetAssignment()
	p := financials.Plan{AssignmentID: a.GetAssignmentId(), ProjectID: a.GetProjectId(), TaskID: a.GetTaskId(), Role: a.GetRole(),
		Status: strings.TrimPrefix(a.GetStatus().String(), "ASSIGNMENT_STATUS_"), PlannedHours: decimal.Zero,
		CostMissing: len(a.GetMissingRateDates()) > 0, Version: a.GetVersion(), SourceTime: a.GetUpdateTime().AsTime()}
	if h, err := decimal.NewFromString(a.GetPlannedHours()); err == nil {
		p.PlannedHours = h
	}
	if c := a.GetPlannedCost(); c != nil {
		v, err := decimal.NewFromString(c.GetAmount())
		if err != nil {
			return p, fmt.Errorf("cost: %w", err)
		}
		p.PlannedCost, p.CostCurrency = &v, c.GetCurrencyCode()
	}
	for _, s := range a.GetSegments() {
		from, err := civilpb.From(s.GetFrom(), "from")
		if err != nil {
			return p, err
		}
		to, err := civilpb.From(s.GetTo(), "to")
		if err != nil {
			return p, err
		}
		h, err := decimal.NewFromString(s.GetHoursPerDay())
		if err != nil {
			return p, err
		}
		p.Segments = append(p.Segments, financials.Segment{From: from, To: to, HoursPerDay: h})
	}
	return p, nil
}
