package app

import (
	"context"

	"github.com/accrue/accrue/services/resource/internal/resource"
)

// ReplicateProject applies a project as a project event carries it (after the change) to the
// replica assignments are checked against; an older version than the one applied changes
// nothing.
func (s *Service) ReplicateProject(ctx context.Context, v resource.ProjectView) error {
	return s.Store.InTx(ctx, func(ctx context.Context) error { return s.Store.UpsertProjectView(ctx, v) })
}

// RecordPostedTime adds the hours the ledger posted to the resources' actual utilization.
func (s *Service) RecordPostedTime(ctx context.Context, posted []resource.PostedTime) error {
	return s.Store.InTx(ctx, func(ctx context.Context) error { return s.Store.AddTimeActuals(ctx, posted) })
}
