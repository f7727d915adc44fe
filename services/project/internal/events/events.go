// Package events holds the project service's stream handlers: each routes an event by its
// payload's type, reads it into the domain (wire) and applies it with a use case, in the batch's
// transaction. A payload a handler has no route for is dead-lettered (stream.Unroutable). Each
// handler's Types lists the event types it applies, for its stream.Config.
package events

import (
	"fmt"

	"github.com/accrue/accrue/internal/platform/stream"
)

// unreadable wraps the error of reading m's payload.
func unreadable(m stream.Message, err error) error {
	return fmt.Errorf("%s %s: %w", m.Envelope.GetType(), m.Envelope.GetEventId(), err)
}
