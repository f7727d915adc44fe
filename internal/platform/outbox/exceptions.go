package outbox

import (
	"context"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/pg"
)

// ExceptionOpened is the exception queue's OnOpened hook of service (its name, e.g. "billing")
// publishing through w: each new exception writes exception.opened (stream ops.events, shared by
// every service) to the outbox in the transaction that records it.
func ExceptionOpened(w Writer, service string) exceptions.OpenedHook {
	return func(ctx context.Context, db pg.Querier, e exceptions.Exception) error {
		_, err := w.Enqueue(ctx, db, Event{Stream: opsv1.EventStream, Type: opsv1.EventTypeExceptionOpened, Subject: e.ID,
			Payload: &opsv1.ExceptionOpened{Exception: exceptions.ToProto(e), Service: service, CrossIds: exceptionCrossIDs(e)}})
		return err
	}
}

// exceptionCrossIDs names the entity of e among the cross-system ids, when it is one of them.
func exceptionCrossIDs(e exceptions.Exception) *commonv1.CrossSystemIds {
	ids := &commonv1.CrossSystemIds{}
	switch e.EntityType {
	case "project":
		ids.ProjectId = e.EntityID
	case "customer":
		ids.CustomerId = e.EntityID
	case "contract":
		ids.ContractId = e.EntityID
	case "legal_entity":
		ids.LegalEntityId = e.EntityID
	}
	return ids
}
