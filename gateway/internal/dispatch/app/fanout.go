package app

import (
	"context"

	"github.com/accrue/accrue/gateway/internal/dispatch/subscription"
)

// Fanout records events and one pending delivery per subscription that wants each (paused
// subscriptions too: their deliveries wait for the resume). It runs in the consumer's batch
// transaction carried by ctx, so a redelivered batch records nothing twice (the inbox, then the
// delivery's key: subscription and event id).
func (s *Service) Fanout(ctx context.Context, events []subscription.Event) error {
	subs, err := s.st.AllSubscriptions(ctx)
	if err != nil {
		return err
	}
	for _, ev := range events {
		var ids []string
		for _, sub := range subs {
			if sub.Wants(ev) {
				ids = append(ids, sub.ID)
			}
		}
		if len(ids) == 0 {
			continue
		}
		if err := s.st.RecordEvent(ctx, ev, ids); err != nil {
			return err
		}
	}
	return nil
}
