package events

import (
	"context"

	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	"github.com/accrue/accrue/internal/platform/stream"
	"github.com/accrue/accrue/services/project/internal/app"
	"github.com/accrue/accrue/services/project/internal/wire"
)

// StaffingPlanTypes are the resource events StaffingPlans applies.
var StaffingPlanTypes = []string{resourcev1.EventTypeAssignmentChanged}

// StaffingPlans applies assignment.changed events to the project forecast: the plan is stored
// (newer versions only) and priced at the contract's bill rates.
func StaffingPlans(uc *app.Service) stream.Handler {
	return func(ctx context.Context, msgs []stream.Message) error {
		for _, m := range msgs {
			switch p := m.Payload.(type) {
			case *resourcev1.AssignmentChanged:
				plan, err := wire.Plan(p)
				if err != nil {
					return unreadable(m, err)
				}
				if err := uc.ApplyPlan(ctx, plan); err != nil {
					return err
				}
			default:
				return stream.Unroutable(m)
			}
		}
		return nil
	}
}
