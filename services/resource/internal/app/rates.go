package app

import (
	"context"

	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/services/resource/internal/resource"
	"github.com/accrue/accrue/services/resource/internal/wire"
)

// SetCostRate puts r in force for the resource (see resource.Timeline.Set), publishes the new
// timeline and re-costs the resource's assignments. It returns the timeline and how many
// assignments changed.
func (s *Service) SetCostRate(ctx context.Context, resourceID string, r resource.Rate) (t resource.Timeline, recosted int, err error) {
	err = s.Store.InTx(ctx, func(ctx context.Context) error {
		res, err := s.Store.GetResourceForUpdate(ctx, resourceID)
		if err != nil {
			return err
		}
		t, recosted, err = s.setRate(ctx, res, r)
		return err
	})
	return t, recosted, err
}

// setRate applies r; the resource row must be locked.
func (s *Service) setRate(ctx context.Context, res resource.Resource, r resource.Rate) (resource.Timeline, int, error) {
	cur, err := s.Store.CurrentRates(ctx, res.ID)
	if err != nil {
		return nil, 0, err
	}
	if cur.Same(r) {
		return cur, 0, nil
	}
	next, superseded, err := cur.Set(r)
	if err != nil {
		return nil, 0, err
	}
	ids := make([]int64, len(superseded))
	for i, idx := range superseded {
		ids[i] = cur[idx].ID
	}
	version, err := s.Store.ApplyRates(ctx, res.ID, ids, next, s.now())
	if err != nil {
		return nil, 0, err
	}
	if next, err = s.Store.CurrentRates(ctx, res.ID); err != nil {
		return nil, 0, err
	}
	if err := s.Store.Publish(ctx, wire.CostRateChanged(res, version, next)); err != nil {
		return nil, 0, err
	}
	// The audit record says that and when rates changed, never the rates themselves.
	if err := s.Store.Audit(ctx, audit.Record{Action: actionRatesChanged, EntityType: "resource", EntityID: res.ID, Reason: r.Reason,
		Details: map[string]any{"effective_from": r.From.String(), "effective_to": r.To.String(), "rates_version": version}}); err != nil {
		return nil, 0, err
	}
	n, err := s.recostResource(ctx, res.ID, next)
	return next, n, err
}

// CostRates returns the current timeline and, with history, the superseded periods.
func (s *Service) CostRates(ctx context.Context, resourceID string, history bool) (resource.Timeline, []resource.HistoricRate, error) {
	if _, err := s.Store.GetResource(ctx, resourceID); err != nil {
		return nil, nil, err
	}
	cur, err := s.Store.CurrentRates(ctx, resourceID)
	if err != nil || !history {
		return cur, nil, err
	}
	h, err := s.Store.RateHistory(ctx, resourceID)
	return cur, h, err
}
