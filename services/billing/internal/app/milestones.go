package app

import (
	"context"

	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/services/billing/internal/contract"
)

// CompleteMilestone records that milestone key of line lineKey of contract id is complete on
// on (contract.ErrMilestoneNotFound when its current version has no such line or milestone).
// Completing it again changes nothing and returns the completion recorded first, created false.
func (s *Service) CompleteMilestone(ctx context.Context, id, lineKey, key string, on civil.Date) (c contract.Completion, created bool, err error) {
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		h, err := s.store.LockContract(ctx, id)
		if err != nil {
			return err
		}
		if h == nil {
			return contract.ErrNotFound
		}
		if err := auth.CheckLegalEntity(ctx, h.LegalEntityID); err != nil {
			return err
		}
		cur, err := s.store.Contract(ctx, id, 0)
		if err != nil {
			return err
		}
		if _, err := cur.Milestone(lineKey, key); err != nil {
			return err
		}
		c, created, err = s.store.CompleteMilestone(ctx, contract.Completion{ContractID: id, LineKey: lineKey, MilestoneKey: key,
			CompletedOn: on, CompletedBy: auth.Actor(ctx)})
		if err != nil || !created {
			return err
		}
		return s.store.Audit(ctx, audit.Record{Action: "milestone.completed", EntityType: "contract", EntityID: id,
			Details: map[string]any{"line_key": lineKey, "milestone_key": key, "completed_on": on.String()}})
	})
	return c, created, err
}
