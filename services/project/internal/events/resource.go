package events

import (
	"context"
	"fmt"
	"github.com/accrue/accrue/internal/platform/civil/civilpb"

	"github.com/shopspring/decimal"

	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/stream"
	"github.com/accrue/accrue/services/project/internal/store"
)

// ResourceStream is the stream the resource service publishes to.
const ResourceStream = "resource.events"

// StaffingPlans applies assignment.changed events to the project forecast: the plan is stored
// (newer versions only) and priced at the contract's bill rates.
func StaffingPlans() stream.Handler {
	return func(ctx context.Context, msgs []stream.Message) error {
		tx, _ := pg.TxFrom(ctx) // TODO(house): store behind an interface
		for _, m := range msgs {
			if m.Envelope.GetType() != "assignment.changed" {
				continue
			}
			var ev resourcev1.AssignmentChanged
			if err := m.Envelope.GetPayload().UnmarshalTo(&ev); err != nil {
				return fmt.Errorf("assignment.changed %s: %w", m.Envelope.GetEventId(), err)
			}
			a := ev.GetAssignment()
			p := store.Plan{AssignmentID: a.GetAssignmentId(), ProjectID: a.GetProjectId(), TaskID: a.GetTaskId(), Role: a.GetRole(),
				Status: a.GetStatus().String()[len("ASSIGNMENT_STATUS_"):], PlannedHours: decimal.Zero,
				CostMissing: len(a.GetMissingRateDates()) > 0, Version: a.GetVersion(), SourceTime: a.GetUpdateTime().AsTime()}
			if h, err := decimal.NewFromString(a.GetPlannedHours()); err == nil {
				p.PlannedHours = h
			}
			if c := a.GetPlannedCost(); c != nil {
				v, err := decimal.NewFromString(c.GetAmount())
				if err != nil {
					return fmt.Errorf("assignment.changed %s: cost: %w", m.Envelope.GetEventId(), err)
				}
				p.PlannedCost, p.CostCurrency = &v, c.GetCurrencyCode()
			}
			for _, s := range a.GetSegments() {
				from, err := civilpb.From(s.GetFrom(), "from")
				if err != nil {
					return err
				}
				to, err := civilpb.From(s.GetTo(), "to")
				if err != nil {
					return err
				}
				h, err := decimal.NewFromString(s.GetHoursPerDay())
				if err != nil {
					return err
				}
				p.Segments = append(p.Segments, store.Segment{From: from, To: to, HoursPerDay: h})
			}
			applied, err := store.UpsertPlan(ctx, tx, p)
			if err != nil {
				return err
			}
			if applied {
				if err := store.PriceAssignment(ctx, tx, p.AssignmentID); err != nil {
					return err
				}
			}
		}
		return nil
	}
}
