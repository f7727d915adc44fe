package events

import (
	"context"
	"log/slog"

	customerv1 "github.com/accrue/accrue/gen/go/accrue/customer/v1"
	"github.com/accrue/accrue/internal/platform/stream"
	"github.com/accrue/accrue/services/project/internal/app"
	"github.com/accrue/accrue/services/project/internal/project"
	"github.com/accrue/accrue/services/project/internal/wire"
)

// CustomerDirectoryTypes are the customer events CustomerDirectory applies.
var CustomerDirectoryTypes = []string{customerv1.EventTypeCustomerUpserted}

// CustomerDirectory applies customer.upserted events to the customer directory, one statement
// per batch.
func CustomerDirectory(uc *app.Service, log *slog.Logger) stream.Handler {
	return func(ctx context.Context, msgs []stream.Message) error {
		list := make([]project.DirectoryCustomer, 0, len(msgs))
		for _, m := range msgs {
			switch p := m.Payload.(type) {
			case *customerv1.CustomerUpserted:
				c := wire.DirectoryCustomerFrom(m.Envelope, p)
				list = append(list, c)
				log.InfoContext(stream.WithEvent(ctx, m.Envelope), "customer directory: applying customer.upserted",
					"event_id", m.Envelope.GetEventId(), "customer_id", c.CustomerID, "version", c.Version)
			default:
				return stream.Unroutable(m)
			}
		}
		_, err := uc.ApplyCustomers(ctx, list)
		return err
	}
}
