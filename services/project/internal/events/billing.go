package events

import (
	"context"
	"log/slog"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/stream"
	"github.com/accrue/accrue/services/project/internal/app"
	"github.com/accrue/accrue/services/project/internal/financials"
	"github.com/accrue/accrue/services/project/internal/wire"
)

// BillingTypes are the billing events Billing applies.
var BillingTypes = []string{billingv1.EventTypeLegalEntityUpserted, billingv1.EventTypeContractChanged, billingv1.EventTypePostingsRecorded,
	billingv1.EventTypeRevenueRecognized}

// Billing applies billing events: legal_entity.upserted to the legal entity replica,
// contract.changed to the contract replica (then the forecast of the projects using the contract
// is priced again at the new rates), and postings.recorded and revenue.recognized to the
// projects' actuals (summed over the batch, one statement).
func Billing(uc *app.Service, log *slog.Logger) stream.Handler {
	return func(ctx context.Context, msgs []stream.Message) error {
		var postings []financials.Posting
		for _, m := range msgs {
			switch p := m.Payload.(type) {
			case *billingv1.PostingsRecorded:
				ps, err := wire.Postings(p)
				if err != nil {
					return unreadable(m, err)
				}
				postings = append(postings, ps...)
			case *billingv1.RevenueRecognized:
				r, ok, err := wire.Recognized(p)
				if err != nil {
					return unreadable(m, err)
				}
				if ok {
					postings = append(postings, r)
				}
			case *billingv1.ContractChanged:
				c, err := wire.Contract(p)
				if err != nil {
					return unreadable(m, err)
				}
				if err := uc.ApplyContract(ctx, c); err != nil {
					return err
				}
			case *billingv1.LegalEntityUpserted:
				le := wire.LegalEntity(p)
				if err := uc.ApplyLegalEntity(ctx, le); err != nil {
					return err
				}
				log.InfoContext(stream.WithEvent(ctx, m.Envelope), "legal entity replica updated", "legal_entity_id", le.ID, "code", le.Code)
			default:
				return stream.Unroutable(m)
			}
		}
		return uc.AddActuals(ctx, postings)
	}
}
