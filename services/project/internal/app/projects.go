package app

import (
	"context"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/project/internal/project"
	"github.com/accrue/accrue/services/project/internal/store"
)

// GetProject returns a project with its tasks.
func (s *Service) GetProject(ctx context.Context, id string) (project.Project, error) {
	return store.GetProject(ctx, s.Pool, id, false)
}

// ListProjects returns a page of projects and the total count for the filter.
func (s *Service) ListProjects(ctx context.Context, status project.Status, customerID, afterID string, limit int) ([]project.Project, int64, error) {
	return store.ListProjects(ctx, s.Pool, status, customerID, afterID, limit)
}

// ChangeStatus moves a project along its lifecycle (expectedVersion 0 skips the version check).
func (s *Service) ChangeStatus(ctx context.Context, id string, to project.Status, reason string, expectedVersion int64) (p project.Project, err error) {
	err = pg.InTx(ctx, s.Pool, func(ctx context.Context, tx pgx.Tx) error {
		p, err = store.GetProject(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if expectedVersion != 0 && p.Version != expectedVersion {
			return project.ErrVersionConflict.With("project "+id+" is at version "+strconv.FormatInt(p.Version, 10),
				"current_version", strconv.FormatInt(p.Version, 10))
		}
		if p.Status == to {
			return nil
		}
		prev := p.Status
		if err := p.Move(to); err != nil {
			return err
		}
		p.Version++
		p.UpdatedAt = s.now()
		if err := store.UpdateProject(ctx, tx, p); err != nil {
			return err
		}
		return s.publishStatus(ctx, tx, p, prev, reason)
	})
	return p, err
}

// PutTemplate creates or replaces the template of a service line.
func (s *Service) PutTemplate(ctx context.Context, t project.Template) (project.Template, error) {
	if err := t.Validate(); err != nil {
		return t, err
	}
	return t, pg.InTx(ctx, s.Pool, func(ctx context.Context, tx pgx.Tx) error { return store.PutTemplate(ctx, tx, t) })
}

// Templates returns every template.
func (s *Service) Templates(ctx context.Context) (map[string]project.Template, error) {
	return store.GetTemplates(ctx, s.Pool)
}
