package app

import (
	"context"
	"strconv"

	"github.com/google/uuid"

	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/early"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/services/resource/internal/resource"
)

var errResourceChange = fault.Invalidf("RESOURCE_CHANGE_NOT_ALLOWED", "assignment.resource_id", "an assignment cannot move to another resource; cancel it and create a new one")

// SaveAssignment creates (id "") or updates an assignment: it checks the project and the
// resource, plans and costs the days, reports (or refuses) overbooking, stores it and publishes
// assignment.changed. expectedVersion guards updates.
func (s *Service) SaveAssignment(ctx context.Context, id string, expectedVersion int64, a resource.Assignment) (out resource.Assignment, warnings []string, err error) {
	if err := s.checkProject(ctx, a.ProjectID); err != nil {
		return out, nil, err
	}
	err = s.Store.InTx(ctx, func(ctx context.Context) error {
		warnings = nil
		res, err := s.Store.GetResourceForUpdate(ctx, a.ResourceID) // serialises the resource's capacity
		if err != nil {
			return err
		}
		var before *resource.Costed
		if id == "" {
			if !res.Active && a.Status != resource.Cancelled {
				return resource.ErrInactive
			}
			a.ID, a.Version = s.newID(), 1
		} else {
			prev, err := s.Store.GetAssignmentForUpdate(ctx, id)
			if err != nil {
				return err
			}
			if prev.Version != expectedVersion {
				return resource.ErrVersionConflict.With("assignment "+id+" is at version "+strconv.FormatInt(prev.Version, 10),
					"current_version", strconv.FormatInt(prev.Version, 10))
			}
			if err := s.checkProject(ctx, prev.ProjectID); err != nil {
				return err // nor move another entity's assignment
			}
			if prev.ResourceID != a.ResourceID {
				return errResourceChange
			}
			a.ID, a.Version = id, prev.Version+1
			before = &prev.Plan
		}
		if a.Role == "" {
			a.Role = res.Role
		}
		view, found, err := s.Store.ProjectView(ctx, a.ProjectID)
		if err != nil {
			return err
		}
		if a.Status != resource.Cancelled {
			if err := a.Check(view, found); err != nil {
				if !found {
					// A project created moments ago may not have reached this replica yet.
					if fe, ok := fault.As(err); ok {
						return early.Unknown(a.ProjectID, s.now(), fe)
					}
				}
				return err
			}
		}
		rates, err := s.Store.CurrentRates(ctx, a.ResourceID)
		if err != nil {
			return err
		}
		a.Segments = a.Planned()
		a.Plan = resource.Cost(resource.Days(a.Segments), rates, "")
		a.UpdatedAt = s.now()
		if warnings, err = s.capacity(ctx, res, a); err != nil {
			return err
		}
		action := actionAssignmentUpdated
		if a.Version == 1 {
			action = actionAssignmentCreated
		}
		out = a
		return s.saveAssignment(ctx, a, before, audit.Record{Action: action, EntityType: "assignment", EntityID: a.ID,
			Details: map[string]any{"version": a.Version, "status": string(a.Status), "planned_hours": a.Plan.Hours.String()}})
	})
	return out, warnings, err
}

// checkProject refuses (LEGAL_ENTITY_FORBIDDEN) a caller that may not act for the legal entity of
// the project, as the project replica records it: an assignment belongs to its project's entity.
// For a caller limited to some entities an unknown project is refused too.
func (s *Service) checkProject(ctx context.Context, projectID string) error {
	if auth.EntitiesOf(ctx).All {
		return nil
	}
	if _, err := uuid.Parse(projectID); err != nil {
		return nil // malformed: the input checks refuse it
	}
	view, found, err := s.Store.ProjectView(ctx, projectID)
	if err != nil {
		return err
	}
	if !found {
		return auth.Forbidden("")
	}
	return auth.CheckLegalEntity(ctx, view.LegalEntityID)
}

// capacity reports the weeks where the resource's active assignments, a included, plan more than
// its weekly capacity: warnings, or resource.ErrOverbooked under the reject policy.
func (s *Service) capacity(ctx context.Context, res resource.Resource, a resource.Assignment) ([]string, error) {
	if a.Status == resource.Cancelled || len(a.Segments) == 0 {
		return nil, nil
	}
	others, err := s.Store.ListAssignments(ctx, resource.AssignmentFilter{ResourceID: res.ID, ActiveOnly: true, From: a.Start, To: a.End})
	if err != nil {
		return nil, err
	}
	over := resource.Overbooked(a, others, res.WeeklyCapacity)
	if len(over) == 0 {
		return nil, nil
	}
	if s.Overbooking == OverbookingReject {
		return nil, resource.OverbookedError(over, res.WeeklyCapacity)
	}
	return resource.OverbookingWarnings(over, res.WeeklyCapacity), nil
}

// GetAssignment returns one assignment.
func (s *Service) GetAssignment(ctx context.Context, id string) (resource.Assignment, error) {
	a, err := s.Store.GetAssignment(ctx, id)
	if err == nil {
		err = s.checkProject(ctx, a.ProjectID)
	}
	if err != nil {
		return resource.Assignment{}, err
	}
	return a, nil
}

// ListAssignments returns a page of the assignments f selects and how many it selects in all,
// of projects of the caller's legal entities only.
func (s *Service) ListAssignments(ctx context.Context, f resource.AssignmentFilter) ([]resource.Assignment, int64, error) {
	f.LegalEntities = auth.EntitiesOf(ctx).Filter()
	list, err := s.Store.ListAssignments(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	n, err := s.Store.CountAssignments(ctx, f)
	return list, n, err
}
