// Package wire converts between the resource domain and its protobuf contract, for the gRPC API
// and the events the service publishes.
package wire

import (
	"github.com/accrue/accrue/internal/platform/civil/civilpb"
	"github.com/shopspring/decimal"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/resource/internal/resource"
)

// Stream is the stream the resource service publishes to.
const Stream = "resource.events"

// Event types.
const (
	EventResourceUpserted  = "resource.upserted"
	EventCostRateChanged   = "cost_rate.changed"
	EventAssignmentChanged = "assignment.changed"
)

var kinds = map[resource.Kind]resourcev1.ResourceKind{
	resource.Employee:   resourcev1.ResourceKind_RESOURCE_KIND_EMPLOYEE,
	resource.Contractor: resourcev1.ResourceKind_RESOURCE_KIND_CONTRACTOR,
}

// Kind converts a contract kind.
func Kind(k resourcev1.ResourceKind) resource.Kind {
	for d, p := range kinds {
		if p == k {
			return d
		}
	}
	return ""
}

var statuses = map[resource.Status]resourcev1.AssignmentStatus{
	resource.Tentative: resourcev1.AssignmentStatus_ASSIGNMENT_STATUS_TENTATIVE,
	resource.Confirmed: resourcev1.AssignmentStatus_ASSIGNMENT_STATUS_CONFIRMED,
	resource.Cancelled: resourcev1.AssignmentStatus_ASSIGNMENT_STATUS_CANCELLED,
}

// Status converts a contract assignment status.
func Status(s resourcev1.AssignmentStatus) resource.Status {
	for d, p := range statuses {
		if p == s {
			return d
		}
	}
	return ""
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

// Assignment converts an assignment with its costed plan.
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
