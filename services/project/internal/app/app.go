// Package app holds the project service's use cases: the conversion of won opportunities (which
// calls the customer and billing services), the financial activation of projects waiting for
// their contract, project lifecycle and templates, and the replicas and forecast fed by other
// services' events. Each writes its state, its events (outbox) and its audit records in one
// transaction, through the Store.
package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	customerv1 "github.com/accrue/accrue/gen/go/accrue/customer/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/services/project/internal/project"
	"github.com/accrue/accrue/services/project/internal/wire"
)

// CustomerCalls are the customer service RPCs the use cases call, and ContractCalls the billing
// service's. They are exactly the calls the contract declares for the project service
// (accrue.common.v1.calls on ProjectService), whose scopes its token carries: a use case that
// needs another RPC adds it here and to the contract (a test compares the two).
type CustomerCalls interface {
	LookupCustomer(ctx context.Context, in *customerv1.LookupCustomerRequest, opts ...grpc.CallOption) (*customerv1.LookupCustomerResponse, error)
	UpsertCustomerHierarchy(ctx context.Context, in *customerv1.UpsertCustomerHierarchyRequest, opts ...grpc.CallOption) (*customerv1.UpsertCustomerHierarchyResponse, error)
}

// ContractCalls: see CustomerCalls.
type ContractCalls interface {
	UpsertContract(ctx context.Context, in *billingv1.UpsertContractRequest, opts ...grpc.CallOption) (*billingv1.UpsertContractResponse, error)
}

// LegalEntityCalls: see CustomerCalls.
type LegalEntityCalls interface {
	ListLegalEntities(ctx context.Context, in *billingv1.ListLegalEntitiesRequest, opts ...grpc.CallOption) (*billingv1.ListLegalEntitiesResponse, error)
}

// Deps are the use cases' collaborators besides the store.
type Deps struct {
	Customers CustomerCalls
	Contracts ContractCalls
	// LegalEntities, when set, is asked whether a legal entity code the replica lacks exists
	// (then the answer is REFERENCE_NOT_YET_KNOWN, not UNKNOWN_LEGAL_ENTITY).
	LegalEntities LegalEntityCalls
	Log           *slog.Logger
	// CallTimeout bounds each call to another service; 5s when zero.
	CallTimeout time.Duration
	// ActivationRetryAfter is when the first automatic retry of a pending activation runs; 2s
	// when zero (then exponential backoff, see exceptions.Retrier).
	ActivationRetryAfter time.Duration
	// FinancialsEventWindow is the debounce window of project.financials_changed: at most one
	// event per project per window, published when the window of its first change has passed,
	// with the figures as they stand then; 5m when zero.
	FinancialsEventWindow time.Duration
}

// Service runs the project use cases.
type Service struct {
	Deps
	store Store
	now   func() time.Time
	newID func() string
	locks keyedLocks
}

// New returns the use cases over st. The caller registers RetryActivation as the exception
// queue's retry of KindActivation.
func New(st Store, d Deps) *Service {
	if st == nil || d.Customers == nil || d.Contracts == nil || d.Log == nil {
		panic("app: New needs a store, customer and contract clients and a logger")
	}
	if d.CallTimeout == 0 {
		d.CallTimeout = 5 * time.Second
	}
	if d.ActivationRetryAfter == 0 {
		d.ActivationRetryAfter = 2 * time.Second
	}
	if d.FinancialsEventWindow == 0 {
		d.FinancialsEventWindow = 5 * time.Minute
	}
	return &Service{Deps: d, store: st, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		newID: func() string { return uuid.Must(uuid.NewV7()).String() }}
}

// projectEvent is a project event of type evType.
func projectEvent(p project.Project, evType string, payload proto.Message) outbox.Event {
	return outbox.Event{Stream: projectv1.EventStream, Type: evType, Subject: p.ID, Payload: payload}
}

// projectRecord is the audit record of a project event of type evType (the record's action).
func projectRecord(p project.Project, action, reason string) audit.Record {
	return audit.Record{Action: action, EntityType: "project", EntityID: p.ID, Reason: reason,
		Details: map[string]any{"status": string(p.Status), "version": p.Version, "contract_id": p.ContractID}}
}

// publish writes a project event and its audit record.
func (s *Service) publish(ctx context.Context, p project.Project, evType string, payload proto.Message, reason string) error {
	if err := s.store.Publish(ctx, projectEvent(p, evType, payload)); err != nil {
		return err
	}
	return s.store.Audit(ctx, projectRecord(p, evType, reason))
}

func (s *Service) publishStatus(ctx context.Context, p project.Project, prev project.Status, reason string) error {
	return s.publish(ctx, p, projectv1.EventTypeProjectStatusChanged, &projectv1.ProjectStatusChanged{Project: wire.Project(p),
		PreviousStatus: wire.Status(prev), Reason: reason}, reason)
}
