package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/services/billing/internal/contract"
)

// CompleteMilestone records c unless the milestone is already complete, and returns the
// completion held (the existing one when created is false).
func (s *Store) CompleteMilestone(ctx context.Context, c contract.Completion) (held contract.Completion, created bool, err error) {
	q := s.Q(ctx)
	var on time.Time
	held = c
	err = q.QueryRow(ctx, `INSERT INTO milestone_completions (contract_id, line_key, milestone_key, completed_on, completed_by)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING completed_on, completed_by, recorded_at`,
		c.ContractID, c.LineKey, c.MilestoneKey, c.CompletedOn.Time(), c.CompletedBy).Scan(&on, &held.CompletedBy, &held.RecordedAt)
	if err == nil {
		held.CompletedOn, held.RecordedAt = civil.Of(on), held.RecordedAt.UTC()
		return held, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return held, false, err
	}
	err = q.QueryRow(ctx, `SELECT completed_on, completed_by, recorded_at FROM milestone_completions
		WHERE contract_id = $1 AND line_key = $2 AND milestone_key = $3`, c.ContractID, c.LineKey, c.MilestoneKey).
		Scan(&on, &held.CompletedBy, &held.RecordedAt)
	held.CompletedOn, held.RecordedAt = civil.Of(on), held.RecordedAt.UTC()
	return held, false, err
}
