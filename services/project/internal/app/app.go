// Package app holds the project service's use cases: the opportunity conversion (which calls the
// customer and billing services), project lifecycle and templates. Each writes its state, its
// events (outbox) and its audit records in one transaction.
package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/proto"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	customerv1 "github.com/accrue/accrue/gen/go/accrue/customer/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/services/project/internal/project"
	"github.com/accrue/accrue/services/project/internal/wire"
)

// Deps are the use cases' collaborators.
type Deps struct {
	Pool      *pgxpool.Pool
	Outbox    outbox.Writer
	Queue     *exceptions.Queue
	Customers customerv1.CustomerServiceClient
	Contracts billingv1.ContractServiceClient
	Log       *slog.Logger
	// CallTimeout bounds each call to another service; 5s when zero.
	CallTimeout time.Duration
	// ActivationRetryAfter is when the first automatic retry of a pending activation runs; 2s
	// when zero (then exponential backoff, see exceptions.Retrier).
	ActivationRetryAfter time.Duration
}

// Service runs the project use cases.
type Service struct {
	Deps
	now   func() time.Time
	newID func() string
	locks keyedLocks
}

// New returns the use cases and registers the retry of pending financial activations.
func New(d Deps) *Service {
	if d.Pool == nil || d.Outbox.Producer == "" || d.Queue == nil || d.Customers == nil || d.Contracts == nil || d.Log == nil {
		panic("app: New needs a pool, an outbox writer, an exception queue, customer and contract clients and a logger")
	}
	if d.CallTimeout == 0 {
		d.CallTimeout = 5 * time.Second
	}
	if d.ActivationRetryAfter == 0 {
		d.ActivationRetryAfter = 2 * time.Second
	}
	s := &Service{Deps: d, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		newID: func() string { return uuid.Must(uuid.NewV7()).String() }}
	d.Queue.Handle(KindActivation, s.retryActivation)
	return s
}

// publish writes a project event and its audit record.
func (s *Service) publish(ctx context.Context, tx pgx.Tx, p project.Project, evType string, payload proto.Message, action, reason string) error {
	if _, err := s.Outbox.Enqueue(ctx, tx, outbox.Event{Stream: wire.Stream, Type: evType, Subject: p.ID, Payload: payload}); err != nil {
		return err
	}
	return audit.Write(ctx, tx, audit.Record{Action: action, EntityType: "project", EntityID: p.ID, Reason: reason,
		Details: map[string]any{"status": string(p.Status), "version": p.Version, "contract_id": p.ContractID}})
}

func (s *Service) publishStatus(ctx context.Context, tx pgx.Tx, p project.Project, prev project.Status, reason string) error {
	return s.publish(ctx, tx, p, wire.EventStatusChanged, &projectv1.ProjectStatusChanged{Project: wire.Project(p),
		PreviousStatus: wire.Status(prev), Reason: reason}, "project.status_changed", reason)
}
