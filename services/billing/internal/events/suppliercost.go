package events

import (
	"context"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/stream"
	"github.com/accrue/accrue/services/billing/internal/app"
)

// AllocationGroup is the consumer group of the allocation workers: apart from billing's other
// groups, so allocation scales on its own.
const AllocationGroup = "billing-allocation"

// AllocationTypes are the billing events Allocations applies.
var AllocationTypes = []string{billingv1.EventTypeSupplierCostAllocationRequested}

// Allocations posts the supplier bill lines a batch of allocation requests names, in the batch's
// transaction (a redelivered request finds its version allocated and posts nothing).
func Allocations(uc *app.Service) stream.Handler {
	return func(ctx context.Context, msgs []stream.Message) error {
		reqs := make([]app.AllocationRequest, 0, len(msgs))
		for _, m := range msgs {
			ev, ok := m.Payload.(*billingv1.SupplierCostAllocationRequested)
			if !ok {
				return stream.Unroutable(m)
			}
			reqs = append(reqs, app.AllocationRequest{LineID: ev.GetLineId(), Version: ev.GetVersion(), Reallocate: ev.GetReallocate()})
		}
		return uc.AllocateSupplierLines(ctx, reqs)
	}
}
