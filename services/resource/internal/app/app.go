// Package app holds the resource service's use cases: resources and their cost rates, HCM worker
// sync, assignments and their costing, utilization. Each writes its state, its events (outbox)
// and its audit records in one transaction. Rates are never logged.
package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/resource/internal/store"
)

// Overbooking policies.
const (
	OverbookingWarn   = "warn"
	OverbookingReject = "reject"
)

// KindCosting is the exception kind of assignments planned on days without a cost rate.
const KindCosting = "assignment.costing"

// Deps are the use cases' collaborators.
type Deps struct {
	Pool   *pgxpool.Pool
	Outbox outbox.Writer
	Queue  *exceptions.Queue
	Log    *slog.Logger
	// Overbooking is OverbookingWarn (default) or OverbookingReject.
	Overbooking string
}

// Service runs the resource use cases.
type Service struct {
	Deps
	now   func() time.Time
	newID func() string
}

// New returns the use cases and registers the retry (re-costing) of assignments missing rates.
func New(d Deps) *Service {
	if d.Pool == nil || d.Outbox.Producer == "" || d.Queue == nil || d.Log == nil {
		panic("app: New needs a pool, an outbox writer, an exception queue and a logger")
	}
	if d.Overbooking == "" {
		d.Overbooking = OverbookingWarn
	}
	s := &Service{Deps: d, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		newID: func() string { return uuid.Must(uuid.NewV7()).String() }}
	d.Queue.Handle(KindCosting, s.retryCosting)
	return s
}

// retryCosting re-costs an assignment flagged RATE_MISSING_FOR_DATE; it fails while a rate is
// still missing, so the exception stays open.
func (s *Service) retryCosting(ctx context.Context, e exceptions.Exception) error {
	return pg.InTx(ctx, s.Pool, func(ctx context.Context, tx pgx.Tx) error {
		a, err := store.GetAssignment(ctx, tx, e.EntityID, true)
		if err != nil {
			return err
		}
		rates, err := store.CurrentRates(ctx, tx, a.ResourceID)
		if err != nil {
			return err
		}
		a, _, err = s.recost(ctx, tx, a, rates)
		if err != nil {
			return err
		}
		if len(a.Plan.Missing) > 0 {
			return errRateStillMissing(a)
		}
		return nil
	})
}
