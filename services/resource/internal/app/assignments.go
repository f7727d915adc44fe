package app

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/resource/internal/resource"
	"github.com/accrue/accrue/services/resource/internal/store"
	"github.com/accrue/accrue/services/resource/internal/wire"
)

func costingKey(assignmentID string) string { return KindCosting + ":" + assignmentID }

func errRateStillMissing(a resource.Assignment) error {
	return fault.New(fault.FailedPrecondition, resource.ReasonRateMissing,
		"assignment %s still has %d working days without a cost rate (first %s)", a.ID, len(a.Plan.Missing), a.Plan.Missing[0])
}

// SaveAssignment creates (id "") or updates an assignment: it checks the project and the
// resource, plans and costs the days, reports (or refuses) overbooking, stores it and publishes
// assignment.changed. expectedVersion guards updates.
func (s *Service) SaveAssignment(ctx context.Context, id string, expectedVersion int64, a resource.Assignment) (out resource.Assignment, warnings []string, err error) {
	err = pg.InTx(ctx, s.Pool, func(ctx context.Context, tx pgx.Tx) error {
		warnings = nil
		res, err := store.GetResource(ctx, tx, a.ResourceID, true) // serialises the resource's capacity
		if err != nil {
			return err
		}
		if id == "" {
			if !res.Active && a.Status != resource.Cancelled {
				return resource.ErrInactive
			}
			a.ID, a.Version = s.newID(), 1
		} else {
			prev, err := store.GetAssignment(ctx, tx, id, true)
			if err != nil {
				return err
			}
			if prev.Version != expectedVersion {
				return resource.ErrVersionConflict.With("assignment "+id+" is at version "+strconv.FormatInt(prev.Version, 10),
					"current_version", strconv.FormatInt(prev.Version, 10))
			}
			if prev.ResourceID != a.ResourceID {
				return fault.Invalidf("RESOURCE_CHANGE_NOT_ALLOWED", "assignment.resource_id", "an assignment cannot move to another resource; cancel it and create a new one")
			}
			a.ID, a.Version = id, prev.Version+1
		}
		if a.Role == "" {
			a.Role = res.Role
		}
		view, found, err := store.ProjectView(ctx, tx, a.ProjectID)
		if err != nil {
			return err
		}
		if a.Status != resource.Cancelled {
			if err := a.Check(view, found); err != nil {
				return err
			}
		}
		rates, err := store.CurrentRates(ctx, tx, a.ResourceID)
		if err != nil {
			return err
		}
		a.Segments = a.Planned()
		a.Plan = resource.Cost(resource.Days(a.Segments), rates, "")
		a.UpdatedAt = s.now()
		if warnings, err = s.capacity(ctx, tx, res, a); err != nil {
			return err
		}
		if err := store.SaveAssignment(ctx, tx, a); err != nil {
			return err
		}
		if err := s.publishAssignment(ctx, tx, a); err != nil {
			return err
		}
		action := "assignment.updated"
		if a.Version == 1 {
			action = "assignment.created"
		}
		if err := audit.Write(ctx, tx, audit.Record{Action: action, EntityType: "assignment", EntityID: a.ID,
			Details: map[string]any{"version": a.Version, "status": string(a.Status), "planned_hours": a.Plan.Hours.String()}}); err != nil {
			return err
		}
		out = a
		return nil
	})
	return out, warnings, err
}

// capacity reports the weeks where the resource's active assignments, a included, plan more than
// its weekly capacity: warnings, or ErrOverbooked under the reject policy.
func (s *Service) capacity(ctx context.Context, tx pgx.Tx, res resource.Resource, a resource.Assignment) ([]string, error) {
	if a.Status == resource.Cancelled || len(a.Segments) == 0 {
		return nil, nil
	}
	others, err := store.ListAssignments(ctx, tx, store.AssignmentFilter{ResourceID: res.ID, ActiveOnly: true, From: a.Start, To: a.End})
	if err != nil {
		return nil, err
	}
	days := resource.Days(a.Segments)
	for _, o := range others {
		if o.ID == a.ID {
			continue
		}
		for _, d := range resource.Days(o.Segments) {
			if !d.Date.Before(a.Start) && !d.Date.After(a.End) {
				days = append(days, d)
			}
		}
	}
	over := resource.Overbooking(days, res.WeeklyCapacity)
	if len(over) == 0 {
		return nil, nil
	}
	slices.SortFunc(over, func(x, y resource.WeekLoad) int { return x.Monday.Compare(y.Monday) })
	var warnings []string
	for _, w := range over {
		warnings = append(warnings, fmt.Sprintf("OVERBOOKED: week of %s plans %sh for %sh capacity", w.Monday, w.Hours, res.WeeklyCapacity))
	}
	if s.Overbooking == OverbookingReject {
		return nil, resource.ErrOverbooked.With(strings.Join(warnings, "; "), "weeks", strconv.Itoa(len(over)))
	}
	return warnings, nil
}

// recost prices a stored assignment again at rates; when the plan changed it is saved and
// published. Missing rates are kept in the exception queue, and resolved once every day has one.
func (s *Service) recost(ctx context.Context, tx pgx.Tx, a resource.Assignment, rates resource.Timeline) (resource.Assignment, bool, error) {
	plan := resource.Cost(resource.Days(a.Segments), rates, "")
	if samePlan(a.Plan, plan) {
		return a, false, s.trackMissing(ctx, tx, a)
	}
	a.Plan, a.Version, a.UpdatedAt = plan, a.Version+1, s.now()
	if err := store.SaveAssignment(ctx, tx, a); err != nil {
		return a, false, err
	}
	if err := s.publishAssignment(ctx, tx, a); err != nil {
		return a, false, err
	}
	return a, true, audit.Write(ctx, tx, audit.Record{Action: "assignment.recosted", EntityType: "assignment", EntityID: a.ID,
		Details: map[string]any{"version": a.Version, "missing_rate_days": len(plan.Missing)}})
}

func samePlan(a, b resource.Costed) bool {
	if !a.Hours.Equal(b.Hours) || len(a.Periods) != len(b.Periods) || len(a.Missing) != len(b.Missing) || (a.Cost == nil) != (b.Cost == nil) {
		return false
	}
	if a.Cost != nil && !a.Cost.Equal(*b.Cost) {
		return false
	}
	for i := range a.Periods {
		pa, pb := a.Periods[i], b.Periods[i]
		if pa.Start != pb.Start || !pa.Hours.Equal(pb.Hours) || (pa.Cost == nil) != (pb.Cost == nil) || (pa.Cost != nil && !pa.Cost.Equal(*pb.Cost)) {
			return false
		}
	}
	return true
}

// publishAssignment writes assignment.changed and keeps the exception queue in step.
func (s *Service) publishAssignment(ctx context.Context, tx pgx.Tx, a resource.Assignment) error {
	if _, err := s.Outbox.Enqueue(ctx, tx, outbox.Event{Stream: wire.Stream, Type: wire.EventAssignmentChanged, Subject: a.ID,
		Payload: &resourcev1.AssignmentChanged{Assignment: wire.Assignment(a)}}); err != nil {
		return err
	}
	return s.trackMissing(ctx, tx, a)
}

// trackMissing records (or resolves) the RATE_MISSING_FOR_DATE exception of a.
func (s *Service) trackMissing(ctx context.Context, tx pgx.Tx, a resource.Assignment) error {
	if len(a.Plan.Missing) == 0 || a.Status == resource.Cancelled {
		_, err := s.Queue.ResolveByKey(ctx, tx, costingKey(a.ID), "system", "every planned day has a cost rate")
		return err
	}
	_, err := s.Queue.Record(ctx, tx, exceptions.New{Kind: KindCosting, Reason: resource.ReasonRateMissing,
		Message: fmt.Sprintf("%d planned working days have no cost rate (first %s, last %s); re-costed automatically when a rate arrives",
			len(a.Plan.Missing), a.Plan.Missing[0], a.Plan.Missing[len(a.Plan.Missing)-1]),
		EntityType: "assignment", EntityID: a.ID, DedupeKey: costingKey(a.ID)})
	return err
}

// GetAssignment returns one assignment.
func (s *Service) GetAssignment(ctx context.Context, id string) (resource.Assignment, error) {
	return store.GetAssignment(ctx, s.Pool, id, false)
}

// ListAssignments returns a page of assignments and the total.
func (s *Service) ListAssignments(ctx context.Context, f store.AssignmentFilter) ([]resource.Assignment, int64, error) {
	list, err := store.ListAssignments(ctx, s.Pool, f)
	if err != nil {
		return nil, 0, err
	}
	n, err := store.CountAssignments(ctx, s.Pool, f)
	return list, n, err
}

// RateMissingCount is the KPI "assignments missing cost rates".
func (s *Service) RateMissingCount(ctx context.Context) (int64, error) {
	return store.CountRateMissing(ctx, s.Pool)
}
