// Package events holds the resource service's event consumers.
package events

import (
	"context"
	"github.com/accrue/accrue/internal/platform/civil/civilpb"

	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/stream"
	"github.com/accrue/accrue/services/resource/internal/resource"
	"github.com/accrue/accrue/services/resource/internal/store"
)

// ProjectStream is the stream the project service publishes to.
const ProjectStream = "project.events"

// Projects keeps the project replica (status, dates, tasks) that assignments are checked against.
func Projects() stream.Handler {
	return func(ctx context.Context, msgs []stream.Message) error {
		tx, _ := pg.TxFrom(ctx) // TODO(house): store behind an interface
		for _, m := range msgs {
			// Every project event carries the project as it is after the change.
			ev, ok := stream.PayloadAs[interface{ GetProject() *projectv1.Project }](m)
			if !ok {
				continue
			}
			var err error
			p := ev.GetProject()
			view := resource.ProjectView{ID: p.GetProjectId(), Status: statusName(p.GetStatus()), Tasks: map[string]bool{}}
			if view.Start, err = civilpb.From(p.GetStartDate(), "start_date"); err != nil {
				return err
			}
			if view.End, err = civilpb.From(p.GetEndDate(), "end_date"); err != nil {
				return err
			}
			for _, t := range p.GetTasks() {
				view.Tasks[t.GetTaskId()] = t.GetBillable()
			}
			if err := store.UpsertProjectView(ctx, tx, view, p.GetVersion()); err != nil {
				return err
			}
		}
		return nil
	}
}

func statusName(s projectv1.ProjectStatus) string {
	const prefix = "PROJECT_STATUS_"
	return s.String()[len(prefix):]
}
