package app

import (
	"context"
	"fmt"

	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/services/resource/internal/resource"
	"github.com/accrue/accrue/services/resource/internal/wire"
)

// KindCosting is the exception kind of assignments planned on days without a cost rate.
const KindCosting = "assignment.costing"

func costingKey(assignmentID string) string { return KindCosting + ":" + assignmentID }

func errRateStillMissing(a resource.Assignment) error {
	return fault.New(fault.FailedPrecondition, resource.ReasonRateMissing,
		"assignment %s still has %d working days without a cost rate (first %s)", a.ID, len(a.Plan.Missing), a.Plan.Missing[0])
}

// RetryCosting re-costs an assignment flagged RATE_MISSING_FOR_DATE (the retry of its
// KindCosting exception); it fails while a rate is still missing, so the exception stays open.
func (s *Service) RetryCosting(ctx context.Context, assignmentID string) error {
	return s.Store.InTx(ctx, func(ctx context.Context) error {
		a, err := s.Store.GetAssignmentForUpdate(ctx, assignmentID)
		if err != nil {
			return err
		}
		rates, err := s.Store.CurrentRates(ctx, a.ResourceID)
		if err != nil {
			return err
		}
		if a, _, err = s.recost(ctx, a, rates); err != nil {
			return err
		}
		if len(a.Plan.Missing) > 0 {
			return errRateStillMissing(a)
		}
		return nil
	})
}

// recostResource re-costs every active assignment of the resource; it returns how many changed.
func (s *Service) recostResource(ctx context.Context, resourceID string, rates resource.Timeline) (int, error) {
	list, err := s.Store.ListAssignments(ctx, resource.AssignmentFilter{ResourceID: resourceID, ActiveOnly: true})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range list {
		_, changed, err := s.recost(ctx, a, rates)
		if err != nil {
			return n, err
		}
		if changed {
			n++
		}
	}
	return n, nil
}

// recost prices a stored assignment again at rates; when the plan changed it is saved and
// published. Missing rates are kept in the exception queue, and resolved once every day has one.
func (s *Service) recost(ctx context.Context, a resource.Assignment, rates resource.Timeline) (resource.Assignment, bool, error) {
	plan := resource.Cost(resource.Days(a.Segments), rates, "")
	if a.Plan.Equal(plan) {
		return a, false, s.trackMissing(ctx, a)
	}
	before := a.Plan
	a.Plan, a.Version, a.UpdatedAt = plan, a.Version+1, s.now()
	return a, true, s.saveAssignment(ctx, a, &before, audit.Record{Action: actionAssignmentRecosted, EntityType: "assignment", EntityID: a.ID,
		Details: map[string]any{"version": a.Version, "missing_rate_days": len(plan.Missing)}})
}

// saveAssignment stores a, publishes assignment.changed (and assignment.costed when its planned
// hours or cost moved from before, nil for a new assignment), keeps the exception queue in step
// and writes rec.
func (s *Service) saveAssignment(ctx context.Context, a resource.Assignment, before *resource.Costed, rec audit.Record) error {
	if err := s.Store.SaveAssignment(ctx, a); err != nil {
		return err
	}
	if err := s.Store.Publish(ctx, wire.AssignmentChanged(a)); err != nil {
		return err
	}
	if before == nil || a.Plan.CostMoved(*before) {
		view, _, err := s.Store.ProjectView(ctx, a.ProjectID)
		if err != nil {
			return err
		}
		if err := s.Store.Publish(ctx, wire.AssignmentCosted(a, before, view.LegalEntityID)); err != nil {
			return err
		}
	}
	if err := s.trackMissing(ctx, a); err != nil {
		return err
	}
	return s.Store.Audit(ctx, rec)
}

// trackMissing records (or resolves) the RATE_MISSING_FOR_DATE exception of a.
func (s *Service) trackMissing(ctx context.Context, a resource.Assignment) error {
	if len(a.Plan.Missing) == 0 || a.Status == resource.Cancelled {
		_, err := s.Store.ResolveException(ctx, costingKey(a.ID), "system", "every planned day has a cost rate")
		return err
	}
	_, err := s.Store.RecordException(ctx, exceptions.New{Kind: KindCosting, Reason: resource.ReasonRateMissing,
		Message: fmt.Sprintf("%d planned working days have no cost rate (first %s, last %s); re-costed automatically when a rate arrives",
			len(a.Plan.Missing), a.Plan.Missing[0], a.Plan.Missing[len(a.Plan.Missing)-1]),
		EntityType: "assignment", EntityID: a.ID, DedupeKey: costingKey(a.ID)})
	return err
}

// RateMissingCount is the KPI "assignments missing cost rates".
func (s *Service) RateMissingCount(ctx context.Context) (int64, error) {
	return s.Store.CountRateMissing(ctx)
}
