package wire

import (
	"github.com/shopspring/decimal"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/civil/civilpb"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/resource/internal/resource"
)

// Decimal strings below are pattern-checked by the contract (protovalidate) before a handler
// runs, hence RequireFromString.

// ResourceInput converts a contract resource input.
func ResourceInput(in *resourcev1.ResourceInput) resource.Input {
	r := resource.Input{Details: resource.Details{Kind: Kind(in.GetKind()), Name: in.GetName(), Email: in.GetEmail(),
		HomeLegalEntity: in.GetHomeLegalEntityCode(), Location: in.GetLocation(), Role: in.GetRole(),
		Active: in.GetStatus() != resourcev1.ResourceStatus_RESOURCE_STATUS_INACTIVE}}
	r.WeeklyCapacity, r.CapacityGiven = optionalDecimal(in.GetWeeklyCapacityHours())
	r.UtilizationTarget, _ = optionalDecimal(in.GetUtilizationTargetPercent())
	for _, ref := range in.GetExternalReferences() {
		r.Refs = append(r.Refs, resource.ExternalRef{System: ref.GetSystem(), ObjectType: ref.GetObjectType(), ExternalID: ref.GetExternalId()})
	}
	return r
}

// Worker converts a contract HCM worker record.
func Worker(w *resourcev1.WorkerRecord) (resource.Worker, error) {
	in := resource.Input{Details: resource.Details{Kind: Kind(w.GetKind()), Name: w.GetName(), Email: w.GetEmail(),
		HomeLegalEntity: w.GetHomeLegalEntityCode(), Location: w.GetLocation(), Role: w.GetRole(), Active: w.GetActive()}}
	in.WeeklyCapacity, in.CapacityGiven = optionalDecimal(w.GetWeeklyCapacityHours())
	out := resource.Worker{System: w.GetHcmSystem(), WorkerID: w.GetWorkerId(), Version: w.GetVersion(), Input: in}
	if w.GetCostRate() == nil {
		return out, nil
	}
	rate, err := costRate(w.GetCostRate(), "worker.cost_rate")
	if err != nil {
		return out, err
	}
	from, err := civilpb.From(w.GetCostRateEffectiveFrom(), "worker.cost_rate_effective_from")
	out.Rate = &resource.Rate{Rate: rate, From: from}
	return out, err
}

// CostRate converts a cost-rate request.
func CostRate(req *resourcev1.SetCostRateRequest) (r resource.Rate, err error) {
	if r.Rate, err = costRate(req.GetRate(), "rate"); err != nil {
		return r, err
	}
	r.Reason = req.GetReason()
	if r.From, err = civilpb.From(req.GetEffectiveFrom(), "effective_from"); err != nil {
		return r, err
	}
	r.To, err = civilpb.From(req.GetEffectiveTo(), "effective_to")
	return r, err
}

func costRate(m *commonv1.Money, field string) (money.Amount, error) {
	return money.Parse(m.GetAmount(), m.GetCurrencyCode(), field)
}

// Period converts the dates of a utilization request.
func Period(req *resourcev1.GetUtilizationRequest) (from, to civil.Date, err error) {
	if from, err = civilpb.From(req.GetFrom(), "from"); err != nil {
		return from, to, err
	}
	to, err = civilpb.From(req.GetTo(), "to")
	return from, to, err
}

// AssignmentInput converts a contract assignment input.
func AssignmentInput(in *resourcev1.AssignmentInput) (resource.Assignment, error) {
	a := resource.Assignment{ResourceID: in.GetResourceId(), ProjectID: in.GetProjectId(), TaskID: in.GetTaskId(), Role: in.GetRole(),
		Status: Status(in.GetStatus())}
	var err error
	if a.Start, err = civilpb.From(in.GetStartDate(), "assignment.start_date"); err != nil {
		return a, err
	}
	if a.End, err = civilpb.From(in.GetEndDate(), "assignment.end_date"); err != nil {
		return a, err
	}
	if d, ok := optionalDecimal(in.GetHoursPerWeek()); ok {
		a.HoursPerWeek = &d
	}
	if d, ok := optionalDecimal(in.GetTotalHours()); ok {
		a.TotalHours = &d
	}
	return a, nil
}

// AssignmentFilter converts the selection of a list request (paging aside).
func AssignmentFilter(req *resourcev1.ListAssignmentsRequest) resource.AssignmentFilter {
	return resource.AssignmentFilter{ProjectID: req.GetProjectId(), ResourceID: req.GetResourceId(), RateMissingOnly: req.GetRateMissingOnly()}
}

// optionalDecimal parses a contract decimal; given is false for "" (not set).
func optionalDecimal(s string) (d decimal.Decimal, given bool) {
	if s == "" {
		return decimal.Zero, false
	}
	return decimal.RequireFromString(s), true
}

// UtilizationPeriods converts a utilization report.
func UtilizationPeriods(ps []resource.UtilizationPeriod) []*resourcev1.UtilizationPeriod {
	var out []*resourcev1.UtilizationPeriod
	for _, p := range ps {
		out = append(out, &resourcev1.UtilizationPeriod{PeriodStart: civilpb.To(p.Start), PeriodEnd: civilpb.To(p.End),
			CapacityHours: p.Capacity.StringFixed(2), PlannedHours: p.Planned.StringFixed(2), PlannedBillableHours: p.PlannedBill.StringFixed(2),
			PlannedUtilizationPercent: fixed2(p.PlannedPercent), TargetPercent: p.Target.StringFixed(2),
			ActualBillableHours: fixed2(p.ActualBill), ActualUtilizationPercent: fixed2(p.ActualPercent)})
	}
	return out
}

func fixed2(d *decimal.Decimal) string {
	if d == nil {
		return ""
	}
	return d.StringFixed(2)
}
