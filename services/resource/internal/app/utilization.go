package app

import (
	"context"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/services/resource/internal/resource"
)

// Utilization returns the resource's capacity, planned (billable) hours and utilization per
// month of [from, to] (see resource.Utilization), refusing periods resource.CheckUtilizationPeriod
// refuses.
func (s *Service) Utilization(ctx context.Context, resourceID string, from, to civil.Date) ([]resource.UtilizationPeriod, error) {
	if err := resource.CheckUtilizationPeriod(from, to); err != nil {
		return nil, err
	}
	res, err := s.Store.GetResource(ctx, resourceID)
	if err != nil {
		return nil, err
	}
	active, err := s.Store.ListAssignments(ctx, resource.AssignmentFilter{ResourceID: resourceID, ActiveOnly: true, From: from, To: to})
	if err != nil {
		return nil, err
	}
	billable := map[string]bool{}
	for _, a := range active {
		if _, seen := billable[a.TaskID]; seen {
			continue
		}
		view, found, err := s.Store.ProjectView(ctx, a.ProjectID)
		if err != nil {
			return nil, err
		}
		billable[a.TaskID] = found && view.Tasks[a.TaskID]
	}
	actual, err := s.Store.ActualBillableHours(ctx, resourceID, from, to)
	if err != nil {
		return nil, err
	}
	return resource.Utilization(res, active, billable, actual, from, to), nil
}
