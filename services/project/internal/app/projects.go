package app

import (
	"context"

	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/paging"
	"github.com/accrue/accrue/services/project/internal/project"
)

// GetProject returns a project with its tasks.
func (s *Service) GetProject(ctx context.Context, id string) (project.Project, error) {
	p, err := s.store.GetProject(ctx, id)
	if err == nil {
		err = auth.CheckLegalEntity(ctx, p.LegalEntityID)
	}
	if err != nil {
		return project.Project{}, err
	}
	return p, nil
}

// ListProjects returns a page of projects (in status and of customerID, when given) of the
// caller's legal entities, the token of the next page ("" on the last) and the total count for
// the filter.
func (s *Service) ListProjects(ctx context.Context, status project.Status, customerID string, r paging.Request) ([]project.Project, string, int64, error) {
	list, total, err := s.store.ListProjects(ctx, status, customerID, r.AfterID, r.Fetch(), auth.EntitiesOf(ctx).Filter())
	if err != nil {
		return nil, "", 0, err
	}
	page, next := paging.Page(r, list, func(p project.Project) (string, string) { return p.ID, "" })
	return page, next, total, nil
}

// AwaitingActivation counts the projects waiting for their contract.
func (s *Service) AwaitingActivation(ctx context.Context) (int64, error) {
	return s.store.CountByStatus(ctx, project.PendingFinancialActivation)
}

// ChangeStatus moves a project along its lifecycle (expectedVersion 0 skips the version check).
func (s *Service) ChangeStatus(ctx context.Context, id string, to project.Status, reason string, expectedVersion int64) (p project.Project, err error) {
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		p, err = s.store.LockProject(ctx, id)
		if err == nil {
			err = auth.CheckLegalEntity(ctx, p.LegalEntityID)
		}
		if err != nil {
			return err
		}
		if err := p.CheckVersion(expectedVersion); err != nil {
			return err
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
		if err := s.store.UpdateProject(ctx, p); err != nil {
			return err
		}
		return s.publishStatus(ctx, p, prev, reason)
	})
	return p, err
}

// PutTemplate creates or replaces the template of a service line.
func (s *Service) PutTemplate(ctx context.Context, t project.Template) (project.Template, error) {
	if err := t.Validate(); err != nil {
		return t, err
	}
	return t, s.store.PutTemplate(ctx, t)
}

// Templates returns every template.
func (s *Service) Templates(ctx context.Context) (map[string]project.Template, error) {
	return s.store.Templates(ctx)
}
