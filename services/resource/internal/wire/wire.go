// Package wire converts between the resource domain and its protobuf contract, for the gRPC API
// and the events the service publishes.
package wire

import (
	"github.com/shopspring/decimal"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	"github.com/accrue/accrue/internal/platform/civil/civilpb"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/resource/internal/resource"
)

var outcomes = map[resource.Outcome]resourcev1.Outcome{
	resource.Created: resourcev1.Outcome_OUTCOME_CREATED, resource.Updated: resourcev1.Outcome_OUTCOME_UPDATED,
	resource.Unchanged: resourcev1.Outcome_OUTCOME_UNCHANGED, resource.IgnoredStale: resourcev1.Outcome_OUTCOME_IGNORED_STALE,
}

// Outcome converts what a write did.
func Outcome(o resource.Outcome) resourcev1.Outcome { return outcomes[o] }

var kinds = map[resource.Kind]resourcev1.ResourceKind{
	resource.Employee:   resourcev1.ResourceKind_RESOURCE_KIND_EMPLOYEE,
	resource.Contractor: resourcev1.ResourceKind_RESOURCE_KIND_CONTRACTOR,
}

// Kind converts a contract kind.
func Kind(k resourcev1.ResourceKind) resource.Kind { return reverse(kinds, k) }

var statuses = map[resource.Status]resourcev1.AssignmentStatus{
	resource.Tentative: resourcev1.AssignmentStatus_ASSIGNMENT_STATUS_TENTATIVE,
	resource.Confirmed: resourcev1.AssignmentStatus_ASSIGNMENT_STATUS_CONFIRMED,
	resource.Cancelled: resourcev1.AssignmentStatus_ASSIGNMENT_STATUS_CANCELLED,
}

// Status converts a contract assignment status.
func Status(s resourcev1.AssignmentStatus) resource.Status { return reverse(statuses, s) }

// reverse returns the domain value m maps to p (the zero value when none does).
func reverse[D, P comparable](m map[D]P, p P) D {
	for d, x := range m {
		if x == p {
			return d
		}
	}
	var zero D
	return zero
}

// Resource converts a stored resource.
func Resource(r resource.Resource) *resourcev1.Resource {
	st := resourcev1.ResourceStatus_RESOURCE_STATUS_ACTIVE
	if !r.Active {
		st = resourcev1.ResourceStatus_RESOURCE_STATUS_INACTIVE
	}
	p := &resourcev1.Resource{ResourceId: r.ID, Kind: kinds[r.Kind], Name: r.Name, Email: r.Email,
		HomeLegalEntityCode: r.HomeLegalEntity, Location: r.Location, Role: r.Role,
		WeeklyCapacityHours: r.WeeklyCapacity.String(), UtilizationTargetPercent: r.UtilizationTarget.String(),
		Status: st, Version: r.Version, SourceVersion: r.SourceVersion, UpdateTime: timestamppb.New(r.UpdatedAt)}
	for _, ref := range r.Refs {
		p.ExternalReferences = append(p.ExternalReferences, &commonv1.ExternalReference{System: ref.System, ObjectType: ref.ObjectType, ExternalId: ref.ExternalID})
	}
	return p
}

// Money converts an amount.
func Money(a money.Amount) *commonv1.Money {
	return &commonv1.Money{Amount: a.Format(), CurrencyCode: a.Currency}
}

// RateMoney converts a rate, keeping digits finer than the minor unit.
func RateMoney(a money.Amount) *commonv1.Money {
	exp, _ := money.Exponent(a.Currency)
	s := a.Value.String()
	if -a.Value.Exponent() < exp {
		s = a.Value.StringFixed(exp)
	}
	return &commonv1.Money{Amount: s, CurrencyCode: a.Currency}
}

// Rate converts a cost-rate period.
func Rate(r resource.Rate) *resourcev1.CostRate {
	return &resourcev1.CostRate{Rate: RateMoney(r.Rate), EffectiveFrom: civilpb.To(r.From), EffectiveTo: civilpb.To(r.To),
		RecordTime: timestamppb.New(r.RecordedAt), Reason: r.Reason}
}

// History converts superseded cost-rate periods.
func History(hs []resource.HistoricRate) []*resourcev1.CostRate {
	var out []*resourcev1.CostRate
	for _, h := range hs {
		r := Rate(h.Rate)
		r.SupersededTime = timestamppb.New(h.SupersededAt)
		out = append(out, r)
	}
	return out
}

// Rates converts a timeline.
func Rates(t resource.Timeline) []*resourcev1.CostRate {
	out := make([]*resourcev1.CostRate, 0, len(t))
	for _, r := range t {
		out = append(out, Rate(r))
	}
	return out
}

func dec(d *decimal.Decimal) string {
	if d == nil {
		return ""
	}
	return d.String()
}

// Assignments converts assignments.
func Assignments(as []resource.Assignment) []*resourcev1.Assignment {
	var out []*resourcev1.Assignment
	for _, a := range as {
		out = append(out, Assignment(a))
	}
	return out
}

// Resources converts resources.
func Resources(rs []resource.Resource) []*resourcev1.Resource {
	var out []*resourcev1.Resource
	for _, r := range rs {
		out = append(out, Resource(r))
	}
	return out
}

// Assignment converts an assignment with its costed plan.
// RedactCost leaves an assignment's cost amounts out and flags it (for callers without the
// costrates:read scope: cost ÷ hours is the cost rate).
func RedactCost(a *resourcev1.Assignment) {
	if a == nil {
		return
	}
	a.PlannedCost, a.CostRedacted = nil, true
	for _, p := range a.GetPeriods() {
		p.Cost = nil
	}
}

func Assignment(a resource.Assignment) *resourcev1.Assignment {
	p := &resourcev1.Assignment{AssignmentId: a.ID, ResourceId: a.ResourceID, ProjectId: a.ProjectID, TaskId: a.TaskID, Role: a.Role,
		StartDate: civilpb.To(a.Start), EndDate: civilpb.To(a.End), HoursPerWeek: dec(a.HoursPerWeek), TotalHours: dec(a.TotalHours),
		Status: statuses[a.Status], PlannedHours: a.Plan.Hours.String(), Version: a.Version, UpdateTime: timestamppb.New(a.UpdatedAt)}
	if a.Plan.Cost != nil {
		p.PlannedCost = Money(*a.Plan.Cost)
	}
	for _, pr := range a.Plan.Periods {
		pp := &resourcev1.PlanPeriod{PeriodStart: civilpb.To(pr.Start), PeriodEnd: civilpb.To(pr.End), Hours: pr.Hours.String()}
		if pr.Cost != nil {
			pp.Cost = Money(*pr.Cost)
		}
		p.Periods = append(p.Periods, pp)
	}
	for _, s := range a.Segments {
		p.Segments = append(p.Segments, &resourcev1.PlanSegment{From: civilpb.To(s.From), To: civilpb.To(s.To), HoursPerDay: s.HoursPerDay.String()})
	}
	for _, d := range a.Plan.Missing {
		p.MissingRateDates = append(p.MissingRateDates, civilpb.To(d))
	}
	return p
}
