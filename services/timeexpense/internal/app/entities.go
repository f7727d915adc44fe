package app

import (
	"context"

	"github.com/google/uuid"

	"github.com/accrue/accrue/internal/platform/auth"
	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
)

// checkProjects refuses (LEGAL_ENTITY_FORBIDDEN) a caller that may not act for the legal entity
// of every one of the projects, as the project replica records it. Entries belong to the legal
// entity of their project. For a caller limited to some entities a project the replica does not
// know is refused too (its entity is unknown); malformed ids are left to the input checks, which
// refuse them.
func (s *Service) checkProjects(ctx context.Context, projectIDs ...string) error {
	if auth.EntitiesOf(ctx).All {
		return nil
	}
	ids := make([]string, 0, len(projectIDs))
	for _, id := range projectIDs {
		if _, err := uuid.Parse(id); err == nil {
			ids = append(ids, id)
		}
	}
	r, err := s.store.Replica(ctx, ids)
	if err != nil {
		return err
	}
	for _, id := range ids {
		p, ok := r.Projects[id]
		if !ok {
			return auth.Forbidden("")
		}
		if err := auth.CheckLegalEntity(ctx, p.LegalEntityID); err != nil {
			return err
		}
	}
	return nil
}

// checkEntries is checkProjects over the projects of entries.
func (s *Service) checkEntries(ctx context.Context, entries ...te.Entry) error {
	ids := make([]string, 0, len(entries))
	seen := map[string]bool{}
	for _, e := range entries {
		if !seen[e.ProjectID] {
			seen[e.ProjectID] = true
			ids = append(ids, e.ProjectID)
		}
	}
	return s.checkProjects(ctx, ids...)
}
