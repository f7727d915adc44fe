// Package app holds the time & expense use cases: recording entries and expenses on weekly
// timesheets, submission and approval, the bulk import of approved entries, corrections,
// queries, and the replicas and posting answers fed by other services' events. Each writes its
// state, its events (outbox) and its audit records in one transaction, through the Store it is
// given. A Service is safe for concurrent use.
package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/accrue/accrue/internal/platform/fault"
	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
)

// Service runs the time & expense use cases.
type Service struct {
	store Store
	now   func() time.Time
	newID func() string
}

// New returns the use cases over store.
func New(store Store) *Service {
	if store == nil {
		panic("app: New needs a store")
	}
	return &Service{store: store, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		newID: func() string { return uuid.Must(uuid.NewV7()).String() }}
}

var rejectedTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "accrue_time_entries_rejected_total",
	Help: "Time entries and expenses refused when recorded, imported or corrected, by reason.",
}, []string{"reason"})

// Collectors returns the use cases' Prometheus collectors.
func Collectors() []prometheus.Collector { return []prometheus.Collector{rejectedTotal} }

// refusedForClosedPeriod records in inputs refused at record time for a closed period (via
// "record", "import" or "correct"), outside the refused call's transaction (which wrote nothing),
// for the closed-period KPI. A failure to record it leaves the answer as it is.
func (s *Service) refusedForClosedPeriod(ctx context.Context, via string, inputs ...te.Input) {
	if len(inputs) == 0 {
		return
	}
	refusals := make([]te.Refusal, len(inputs))
	for i, in := range inputs {
		refusals[i] = te.Refusal{Input: in, Via: via}
	}
	if err := s.store.RecordRefusals(ctx, refusals); err != nil {
		slog.WarnContext(ctx, "closed-period refusals not recorded", "via", via, "count", len(refusals), "err", err)
	}
}

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
func (s *Service) checkAgainstReplica(ctx context.Context, in te.Input, excludeID string) error {
	known, err := s.store.KnownResources(ctx, []string{in.ResourceID})
	if err != nil {
		return err
	}
	if err := s.checkResource(known, in); err != nil {
		return err
	}
	replica, err := s.store.Replica(ctx, []string{in.ProjectID})
	if err != nil {
		return err
	}
	if err := s.early(replica.Check(in), in); err != nil {
		return err
	}
	if in.Kind != te.Time {
		return nil
	}
	daily, err := s.store.DailyHours(ctx, []te.Day{{ResourceID: in.ResourceID, Date: in.Date}}, excludeID)
	if err != nil {
		return err
	}
	return daily.Add(in)
}

func keys[K comparable](m map[K]bool) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
