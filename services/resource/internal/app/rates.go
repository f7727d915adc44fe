package app

import (
	"context"

	"github.com/jackc/pgx/v5"

	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/resource/internal/resource"
	"github.com/accrue/accrue/services/resource/internal/store"
	"github.com/accrue/accrue/services/resource/internal/wire"
)

// SetCostRate puts r in force for the resource (see resource.Timeline.Set), publishes the new
// timeline and re-costs the resource's assignments. It returns the timeline and how many
// assignments changed.
func (s *Service) SetCostRate(ctx context.Context, resourceID string, r resource.Rate) (t resource.Timeline, recosted int, err error) {
	err = pg.InTx(ctx, s.Pool, func(ctx context.Context, tx pgx.Tx) error {
		res, err := store.GetResource(ctx, tx, resourceID, true)
		if err != nil {
			return err
		}
		t, recosted, err = s.setRate(ctx, tx, res, r)
		return err
	})
	return t, recosted, err
}

// setRate applies r inside tx; the resource row must be locked.
func (s *Service) setRate(ctx context.Context, tx pgx.Tx, res resource.Resource, r resource.Rate) (resource.Timeline, int, error) {
	cur, err := store.CurrentRates(ctx, tx, res.ID)
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
	now := s.now()
	version, err := store.ApplyRates(ctx, tx, res.ID, ids, next, now)
	if err != nil {
		return nil, 0, err
	}
	if next, err = store.CurrentRates(ctx, tx, res.ID); err != nil {
		return nil, 0, err
	}
	if _, err := s.Outbox.Enqueue(ctx, tx, outbox.Event{Stream: wire.Stream, Type: wire.EventCostRateChanged, Subject: res.ID,
		Payload: &resourcev1.CostRateChanged{ResourceId: res.ID, RatesVersion: version, Current: wire.Rates(next), Role: res.Role}}); err != nil {
		return nil, 0, err
	}
	// The audit record says that and when rates changed, never the rates themselves.
	if err := audit.Write(ctx, tx, audit.Record{Action: "cost_rate.changed", EntityType: "resource", EntityID: res.ID, Reason: r.Reason,
		Details: map[string]any{"effective_from": r.From.String(), "effective_to": r.To.String(), "rates_version": version}}); err != nil {
		return nil, 0, err
	}
	n, err := s.recostResource(ctx, tx, res.ID, next)
	return next, n, err
}

// recostResource re-costs every active assignment of the resource; it returns how many changed.
func (s *Service) recostResource(ctx context.Context, tx pgx.Tx, resourceID string, rates resource.Timeline) (int, error) {
	list, err := store.ListAssignments(ctx, tx, store.AssignmentFilter{ResourceID: resourceID, ActiveOnly: true})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range list {
		_, changed, err := s.recost(ctx, tx, a, rates)
		if err != nil {
			return n, err
		}
		if changed {
			n++
		}
	}
	return n, nil
}

// CostRates returns the current timeline and, with history, the superseded periods.
func (s *Service) CostRates(ctx context.Context, resourceID string, history bool) (resource.Timeline, []store.HistoricRate, error) {
	if _, err := store.GetResource(ctx, s.Pool, resourceID, false); err != nil {
		return nil, nil, err
	}
	cur, err := store.CurrentRates(ctx, s.Pool, resourceID)
	if err != nil || !history {
		return cur, nil, err
	}
	h, err := store.RateHistory(ctx, s.Pool, resourceID)
	return cur, h, err
}
