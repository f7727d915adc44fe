package wire

import (
	"fmt"

	"github.com/shopspring/decimal"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/services/billing/internal/suppliercost"
)

// SupplierBillLine translates a bill line of the API.
func SupplierBillLine(p *billingv1.SupplierBillLine) (suppliercost.Line, error) {
	a, err := amount(p.GetAmount(), "line.amount")
	if err != nil {
		return suppliercost.Line{}, err
	}
	l := suppliercost.Line{VendorID: p.GetVendorId(), VendorName: p.GetVendorName(), BillNumber: p.GetBillNumber(), LineNo: p.GetLineNumber(),
		Amount: a, Description: p.GetDescription(), ProjectID: p.GetProjectId(), TaskID: p.GetTaskId(), RuleName: p.GetAllocationRule(),
		Billable: p.GetBillable()}
	if l.BillDate, err = date(p.GetBillDate(), "line.bill_date"); err != nil {
		return l, err
	}
	if l.PeriodStart, err = date(p.GetServiceStart(), "line.service_start"); err != nil {
		return l, err
	}
	if l.PeriodEnd, err = date(p.GetServiceEnd(), "line.service_end"); err != nil {
		return l, err
	}
	return l, nil
}

var lineOutcomes = map[suppliercost.Outcome]billingv1.SupplierBillLineOutcome{
	suppliercost.Created:   billingv1.SupplierBillLineOutcome_SUPPLIER_BILL_LINE_OUTCOME_CREATED,
	suppliercost.Unchanged: billingv1.SupplierBillLineOutcome_SUPPLIER_BILL_LINE_OUTCOME_UNCHANGED,
	suppliercost.Corrected: billingv1.SupplierBillLineOutcome_SUPPLIER_BILL_LINE_OUTCOME_CORRECTED,
}

// RecordSupplierBillLineResponse answers RecordSupplierBillLine.
func RecordSupplierBillLineResponse(l suppliercost.Line, o suppliercost.Outcome) *billingv1.RecordSupplierBillLineResponse {
	return &billingv1.RecordSupplierBillLineResponse{LineId: l.ID, Version: l.Version, Outcome: lineOutcomes[o]}
}

var ruleKinds = map[billingv1.AllocationRuleKind]suppliercost.RuleKind{
	billingv1.AllocationRuleKind_ALLOCATION_RULE_KIND_DIRECT:       suppliercost.Direct,
	billingv1.AllocationRuleKind_ALLOCATION_RULE_KIND_FIXED_SHARES: suppliercost.FixedShares,
	billingv1.AllocationRuleKind_ALLOCATION_RULE_KIND_HOURS:        suppliercost.ByHours,
	billingv1.AllocationRuleKind_ALLOCATION_RULE_KIND_LABOR_COST:   suppliercost.ByLaborCost,
}

// AllocationRule translates a rule of the API.
func AllocationRule(p *billingv1.AllocationRule) (suppliercost.Rule, error) {
	r := suppliercost.Rule{Name: p.GetName(), Kind: ruleKinds[p.GetKind()], CustomerID: p.GetCustomerId()}
	for i, t := range p.GetTargets() {
		pct := decimal.Zero
		if t.GetPercent() != "" {
			v, err := decimal.NewFromString(t.GetPercent())
			if err != nil {
				return r, fault.Invalidf(suppliercost.ErrRuleInvalid.Reason, fmt.Sprintf("rule.targets[%d].percent", i), "not a decimal")
			}
			pct = v
		}
		r.Targets = append(r.Targets, suppliercost.Target{ProjectID: t.GetProjectId(), TaskID: t.GetTaskId(), Percent: pct})
	}
	return r, nil
}

// AllocationRuleProto is a rule of the API.
func AllocationRuleProto(r suppliercost.Rule) *billingv1.AllocationRule {
	p := &billingv1.AllocationRule{Name: r.Name, Version: r.Version, CustomerId: r.CustomerID}
	for k, v := range ruleKinds {
		if v == r.Kind {
			p.Kind = k
		}
	}
	for _, t := range r.Targets {
		pt := &billingv1.AllocationTarget{ProjectId: t.ProjectID, TaskId: t.TaskID}
		if !t.Percent.IsZero() {
			pt.Percent = t.Percent.String()
		}
		p.Targets = append(p.Targets, pt)
	}
	return p
}

// UpsertAllocationRuleResponse answers UpsertAllocationRule.
func UpsertAllocationRuleResponse(r suppliercost.Rule) *billingv1.UpsertAllocationRuleResponse {
	return &billingv1.UpsertAllocationRuleResponse{Rule: AllocationRuleProto(r)}
}

// SupplierCostKPIs answers GetSupplierCostKpis.
func SupplierCostKPIs(k suppliercost.KPIs) *billingv1.GetSupplierCostKpisResponse {
	return &billingv1.GetSupplierCostKpisResponse{AwaitingCount: k.Awaiting, ParkedCount: k.Parked, AwaitingAmounts: Each(k.Amounts, moneyProto),
		OldestAwaitingSeconds: int64(k.OldestAge.Seconds())}
}

// AllocationRequested is the allocation request of a line version.
func AllocationRequested(lineID string, version int64, leID string, reallocate bool) *billingv1.SupplierCostAllocationRequested {
	return &billingv1.SupplierCostAllocationRequested{LineId: lineID, Version: version, LegalEntityId: leID, Reallocate: reallocate}
}
