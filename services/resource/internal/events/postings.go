package events

import (
	"context"
	"fmt"
	"github.com/accrue/accrue/internal/platform/civil/civilpb"

	"github.com/shopspring/decimal"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/stream"
	"github.com/accrue/accrue/services/resource/internal/store"
)

// BillingStream is the stream the billing service publishes to.
const BillingStream = "billing.events"

// ActualsTypes are the event types Actuals applies (its consumer's stream.Config.Types).
var ActualsTypes = []string{"postings.recorded"}

// Actuals adds the hours the ledger posted (time entries only) to the resources' actual
// utilization, per day, one statement per batch.
func Actuals() stream.Handler {
	return func(ctx context.Context, msgs []stream.Message) error {
		tx, _ := pg.TxFrom(ctx) // TODO(house): store behind an interface
		sum := map[store.DayKey]*store.DayHours{}
		for _, m := range msgs {
			if m.Envelope.GetType() != "postings.recorded" {
				continue
			}
			var ev billingv1.PostingsRecorded
			if err := m.Envelope.GetPayload().UnmarshalTo(&ev); err != nil {
				return fmt.Errorf("postings.recorded %s: %w", m.Envelope.GetEventId(), err)
			}
			for _, r := range ev.GetResults() {
				if r.GetSourceType() != "time_entry" || r.GetResourceId() == "" {
					continue
				}
				if r.GetOutcome() != billingv1.PostingOutcome_POSTING_OUTCOME_POSTED && r.GetOutcome() != billingv1.PostingOutcome_POSTING_OUTCOME_REVERSED {
					continue
				}
				d, err := civilpb.From(r.GetSourceDate(), "source_date")
				if err != nil {
					return err
				}
				h, err := decimal.NewFromString(r.GetHours())
				if err != nil {
					return err
				}
				b, err := decimal.NewFromString(r.GetBillableHours())
				if err != nil {
					b = decimal.Zero
				}
				k := store.DayKey{ResourceID: r.GetResourceId(), Date: d}
				if sum[k] == nil {
					sum[k] = &store.DayHours{}
				}
				sum[k].Total, sum[k].Billable = sum[k].Total.Add(h), sum[k].Billable.Add(b)
			}
		}
		return store.AddTimeActuals(ctx, tx, sum)
	}
}
