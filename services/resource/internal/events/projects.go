// Package events holds the resource service's event consumers.
package events

import (
	"context"

	"github.com/jackc/pgx/v5"

	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/stream"
	"github.com/accrue/accrue/services/resource/internal/resource"
	"github.com/accrue/accrue/services/resource/internal/store"
)

// ProjectStream is the stream the project service publishes to.
const ProjectStream = "project.events"

// Projects keeps the project replica (status, dates, tasks) that assignments are checked against.
func Projects() stream.Handler {
	return func(ctx context.Context, tx pgx.Tx, msgs []stream.Message) error {
		for _, m := range msgs {
			// Every project event carries the project as it is after the change.
			ev, ok, err := stream.PayloadAs[interface{ GetProject() *projectv1.Project }](m)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			p := ev.GetProject()
			view := resource.ProjectView{ID: p.GetProjectId(), Status: statusName(p.GetStatus()), Tasks: map[string]bool{}}
			if view.Start, err = civil.FromProto(p.GetStartDate(), "start_date"); err != nil {
				return err
			}
			if view.End, err = civil.FromProto(p.GetEndDate(), "end_date"); err != nil {
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
