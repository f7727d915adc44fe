package app

import (
	"context"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/services/billing/internal/invoice"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

// publishPosted publishes invoice.posted for a posted invoice or credit note.
func (s *Service) publishPosted(ctx context.Context, inv invoice.Invoice) error {
	return s.store.Publish(ctx, outbox.Event{Stream: billingv1.EventStream, Type: billingv1.EventTypeInvoicePosted,
		Subject: inv.ID, Payload: wire.InvoicePosted(inv)})
}
