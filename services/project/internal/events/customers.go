// Package events holds the project service's event consumers.
package events

import (
	"context"
	"fmt"
	"log/slog"


	customerv1 "github.com/accrue/accrue/gen/go/accrue/customer/v1"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/stream"
	"github.com/accrue/accrue/services/project/internal/store"
)

// CustomerStream is the stream the customer service publishes to.
const CustomerStream = "customer.events"

// CustomerDirectory applies customer.upserted events to the customer directory, one statement
// per batch.
func CustomerDirectory(log *slog.Logger) stream.Handler {
	return func(ctx context.Context, msgs []stream.Message) error {
		tx, _ := pg.TxFrom(ctx) // TODO(house): store behind an interface
		list := make([]store.DirectoryCustomer, 0, len(msgs))
		for _, m := range msgs {
			if m.Envelope.GetType() != "customer.upserted" {
				continue
			}
			var ev customerv1.CustomerUpserted
			if err := m.Envelope.GetPayload().UnmarshalTo(&ev); err != nil {
				return fmt.Errorf("customer.upserted %s: %w", m.Envelope.GetEventId(), err)
			}
			c := ev.GetCustomer()
			list = append(list, store.DirectoryCustomer{
				CustomerID: c.GetCustomerId(), Name: c.GetName(), Currency: c.GetCurrencyCode(),
				Status: c.GetStatus().String(), HasTaxProfile: c.GetTaxProfile() != nil,
				TaxExempt: c.GetTaxProfile().GetExempt(), Version: c.GetVersion(),
				LastEventID: m.Envelope.GetEventId(), CorrelationID: m.Envelope.GetCorrelationId(),
			})
			log.InfoContext(stream.WithEvent(ctx, m.Envelope), "customer directory: applying customer.upserted",
				"event_id", m.Envelope.GetEventId(), "customer_id", c.GetCustomerId(), "version", c.GetVersion())
		}
		_, err := store.UpsertDirectoryCustomers(ctx, tx, list)
		return err
	}
}
