package events

import (
	"context"

	customerv1 "github.com/accrue/accrue/gen/go/accrue/customer/v1"
	"github.com/accrue/accrue/internal/platform/stream"
	"github.com/accrue/accrue/services/billing/internal/app"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

// CustomerTypes are the customer events Customers applies.
var CustomerTypes = []string{customerv1.EventTypeCustomerUpserted}

// Customers keeps the replica of customers' tax profiles and unblocks the BLOCKED_TAX drafts a
// completed profile makes taxable.
func Customers(uc *app.Service) stream.Handler {
	return func(ctx context.Context, msgs []stream.Message) error {
		for _, m := range msgs {
			ev, ok := m.Payload.(*customerv1.CustomerUpserted)
			if !ok {
				return stream.Unroutable(m)
			}
			if err := uc.ApplyCustomerTaxProfile(ctx, wire.TaxProfile(ev.GetCustomer())); err != nil {
				return err
			}
		}
		return nil
	}
}
