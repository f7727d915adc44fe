// Package events is the dispatcher's consumer transport: every domain stream's events, of every
// type the catalogue declares, are turned into domain events (wire) and fanned out into
// deliveries (app.Service.Fanout) in the consumer's batch transaction.
package events

import (
	"context"

	"github.com/accrue/accrue/gateway/internal/dispatch/app"
	"github.com/accrue/accrue/gateway/internal/dispatch/subscription"
	"github.com/accrue/accrue/gateway/internal/dispatch/wire"
	"github.com/accrue/accrue/internal/platform/stream"
)

// Group is the dispatcher's consumer group on every stream.
const Group = "dispatcher"

// Fanout returns the handler of every stream.
func Fanout(svc *app.Service) stream.Handler {
	return func(ctx context.Context, msgs []stream.Message) error {
		evs := make([]subscription.Event, 0, len(msgs))
		for _, m := range msgs {
			ev, err := wire.Event(m.Envelope, m.Payload)
			if err != nil {
				return err
			}
			evs = append(evs, ev)
		}
		return svc.Fanout(ctx, evs)
	}
}
