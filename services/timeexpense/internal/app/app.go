// Package app holds the time & expense use cases: recording entries and expenses on weekly
// timesheets, submission and approval, the bulk import of approved entries, corrections and
// queries. Each writes its state, its events (outbox) and its audit records in one transaction.
// A Service is safe for concurrent use.
package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/timeexpense/internal/store"
	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
)

// Deps are the use cases' collaborators.
type Deps struct {
	Pool   *pgxpool.Pool
	Outbox outbox.Writer
	Log    *slog.Logger
}

// Service runs the time & expense use cases.
type Service struct {
	Deps
	now   func() time.Time
	newID func() string
}

// New returns the use cases.
func New(d Deps) *Service {
	if d.Pool == nil || d.Outbox.Producer == "" || d.Log == nil {
		panic("app: New needs a pool, an outbox writer and a logger")
	}
	return &Service{Deps: d, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		newID: func() string { return uuid.Must(uuid.NewV7()).String() }}
}

var rejectedTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "accrue_time_entries_rejected_total",
	Help: "Time entries and expenses refused when recorded, imported or corrected, by reason.",
}, []string{"reason"})

// Collectors returns the use cases' Prometheus collectors.
func Collectors() []prometheus.Collector { return []prometheus.Collector{rejectedTotal} }

// refused counts an entry refused for a business reason (not an infrastructure failure).
func refused(err error) {
	fe, ok := fault.As(err)
	if !ok {
		return
	}
	switch fe.Kind {
	case fault.Invalid, fault.FailedPrecondition, fault.AlreadyExists:
		rejectedTotal.WithLabelValues(fe.Reason).Inc()
	}
}

// sameOrDuplicate resolves an external reference already held by existing: the same content is
// the same entry (idempotent), different content is a conflict.
func sameOrDuplicate(existing te.Entry, in te.Input) (te.Entry, error) {
	if existing.Input.Same(in) {
		return existing, nil
	}
	return te.Entry{}, te.ErrDuplicateExternalID.With("external reference "+in.Ref.System+"/"+in.Ref.ObjectType+"/"+
		in.Ref.ExternalID+" belongs to entry "+existing.ID+" with different content", "entry_id", existing.ID)
}

// checkAgainstReplica applies the project, period and daily-hours rules to one input; excludeID
// (a corrected original) does not count in the daily total.
func checkAgainstReplica(ctx context.Context, tx pgx.Tx, in te.Input, excludeID string) error {
	replica, err := store.LoadReplica(ctx, tx, []string{in.ProjectID})
	if err != nil {
		return err
	}
	if err := replica.Check(in); err != nil {
		return err
	}
	if in.Kind != te.Time {
		return nil
	}
	daily, err := store.LoadDailyHours(ctx, tx, []te.Day{{ResourceID: in.ResourceID, Date: in.Date}}, excludeID)
	if err != nil {
		return err
	}
	return daily.Add(in)
}

// inTx runs fn in a transaction (or the caller's, see pg.InTx).
func (s *Service) inTx(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error) error {
	return pg.InTx(ctx, s.Pool, fn)
}
