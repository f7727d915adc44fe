package wire

import (
	"github.com/shopspring/decimal"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	"github.com/accrue/accrue/internal/platform/civil/civilpb"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/services/resource/internal/resource"
)

// ResourceUpserted is the event published on every create and change of r.
func ResourceUpserted(r resource.Resource) outbox.Event {
	return outbox.Event{Stream: resourcev1.EventStream, Type: resourcev1.EventTypeResourceUpserted, Subject: r.ID,
		Payload: &resourcev1.ResourceUpserted{Resource: Resource(r)}}
}

// CostRateChanged is the event published when res's cost rates change: the new timeline, at
// rates version version.
func CostRateChanged(res resource.Resource, version int64, current resource.Timeline) outbox.Event {
	return outbox.Event{Stream: resourcev1.EventStream, Type: resourcev1.EventTypeCostRateChanged, Subject: res.ID,
		Payload: &resourcev1.CostRateChanged{ResourceId: res.ID, RatesVersion: version, Current: Rates(current), Role: res.Role}}
}

// AssignmentChanged is the event published on every create, change and re-costing of a.
func AssignmentChanged(a resource.Assignment) outbox.Event {
	return outbox.Event{Stream: resourcev1.EventStream, Type: resourcev1.EventTypeAssignmentChanged, Subject: a.ID,
		Payload: &resourcev1.AssignmentChanged{Assignment: Assignment(a)}}
}

// AssignmentCosted is the event published when a's planned cost was computed (before nil: a new
// assignment) or moved from before; legalEntityID is its project's, "" when not yet known.
func AssignmentCosted(a resource.Assignment, before *resource.Costed, legalEntityID string) outbox.Event {
	ev := &resourcev1.AssignmentCosted{Assignment: Assignment(a),
		CrossIds: &commonv1.CrossSystemIds{ProjectId: a.ProjectID, LegalEntityId: legalEntityID}}
	if before != nil && before.Cost != nil {
		ev.PreviousPlannedCost = Money(*before.Cost)
	}
	return outbox.Event{Stream: resourcev1.EventStream, Type: resourcev1.EventTypeAssignmentCosted, Subject: a.ID, Payload: ev}
}

// ProjectView converts the project a project event carries (as it is after the change).
func ProjectView(p *projectv1.Project) (v resource.ProjectView, err error) {
	const statusPrefix = "PROJECT_STATUS_"
	v = resource.ProjectView{ID: p.GetProjectId(), Status: p.GetStatus().String()[len(statusPrefix):], Tasks: map[string]bool{},
		Version: p.GetVersion(), LegalEntityID: p.GetLegalEntityId()}
	if v.Start, err = civilpb.From(p.GetStartDate(), "start_date"); err != nil {
		return v, err
	}
	if v.End, err = civilpb.From(p.GetEndDate(), "end_date"); err != nil {
		return v, err
	}
	for _, t := range p.GetTasks() {
		v.Tasks[t.GetTaskId()] = t.GetBillable()
	}
	return v, nil
}

// timeEntrySource is the source type of postings made for time entries.
const timeEntrySource = "time_entry"

// PostedTime returns the hours of the time entries a posting batch posted or reversed (other
// sources and outcomes moved no hours).
func PostedTime(ev *billingv1.PostingsRecorded) ([]resource.PostedTime, error) {
	var out []resource.PostedTime
	for _, r := range ev.GetResults() {
		if r.GetSourceType() != timeEntrySource || r.GetResourceId() == "" {
			continue
		}
		if r.GetOutcome() != billingv1.PostingOutcome_POSTING_OUTCOME_POSTED && r.GetOutcome() != billingv1.PostingOutcome_POSTING_OUTCOME_REVERSED {
			continue
		}
		d, err := civilpb.From(r.GetSourceDate(), "source_date")
		if err != nil {
			return nil, err
		}
		h, err := decimal.NewFromString(r.GetHours())
		if err != nil {
			return nil, err
		}
		b, err := decimal.NewFromString(r.GetBillableHours())
		if err != nil {
			b = decimal.Zero
		}
		out = append(out, resource.PostedTime{ResourceID: r.GetResourceId(), Date: d, Hours: h, Billable: b})
	}
	return out, nil
}
