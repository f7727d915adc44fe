package events

import (
	"context"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/stream"
	"github.com/accrue/accrue/services/resource/internal/app"
	"github.com/accrue/accrue/services/resource/internal/resource"
	"github.com/accrue/accrue/services/resource/internal/wire"
)

// PostingTypes are the event types Postings applies (its consumer's stream.Config.Types).
var PostingTypes = []string{billingv1.EventTypePostingsRecorded}

// Postings adds the hours the ledger posted (time entries only) to the resources' actual
// utilization, per day, once per batch.
func Postings(uc *app.Service) stream.Handler {
	return func(ctx context.Context, msgs []stream.Message) error {
		var posted []resource.PostedTime
		for _, m := range msgs {
			ev, ok := m.Payload.(*billingv1.PostingsRecorded)
			if !ok {
				return stream.Unroutable(m)
			}
			p, err := wire.PostedTime(ev)
			if err != nil {
				return err
			}
			posted = append(posted, p...)
		}
		return uc.RecordPostedTime(ctx, posted)
	}
}
