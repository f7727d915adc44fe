// Package events holds the resource service's stream handlers: each routes an event by its
// payload type, translates it (wire) and calls one use case, in the batch's transaction.
package events

import (
	"context"

	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/internal/platform/stream"
	"github.com/accrue/accrue/services/resource/internal/app"
	"github.com/accrue/accrue/services/resource/internal/wire"
)

// ProjectTypes are the event types Projects applies (its consumer's stream.Config.Types).
var ProjectTypes = []string{
	projectv1.EventTypeProjectCreated,
	projectv1.EventTypeProjectActivated,
	projectv1.EventTypeProjectStatusChanged,
}

// projectEvent is what every project event is: it carries the project as it is after the change.
type projectEvent interface{ GetProject() *projectv1.Project }

// Projects keeps the project replica (status, dates, tasks) that assignments are checked against.
func Projects(uc *app.Service) stream.Handler {
	return func(ctx context.Context, msgs []stream.Message) error {
		for _, m := range msgs {
			ev, ok := stream.PayloadAs[projectEvent](m)
			if !ok {
				return stream.Unroutable(m)
			}
			view, err := wire.ProjectView(ev.GetProject())
			if err != nil {
				return err
			}
			if err := uc.ReplicateProject(ctx, view); err != nil {
				return err
			}
		}
		return nil
	}
}
