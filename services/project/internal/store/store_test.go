package store_test

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pgstore"
	"github.com/accrue/accrue/internal/platform/pgtest"
	"github.com/accrue/accrue/services/project/internal/project"
	"github.com/accrue/accrue/services/project/internal/store"
)

// newStore returns a store over a fresh database.
func newStore(t *testing.T) (*store.Store, *pgtest.DB) {
	db := pgtest.New(t, store.Migrations())
	queue := exceptions.NewQueue(db.Pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return store.New(pgstore.New(db.Pool, outbox.Writer{Producer: "project"}, queue)), db
}

func newProject() project.Project {
	now := time.Now().UTC().Truncate(time.Microsecond)
	return project.Project{ID: uuid.NewString(), Name: "ERP rollout", CustomerID: uuid.NewString(), LegalEntityID: uuid.NewString(),
		ContractID: uuid.NewString(), Currency: "USD", Start: civil.Of(now), End: civil.Of(now.AddDate(0, 6, 0)), Status: project.Active, Version: 1,
		Source: project.SourceRef{System: "salesforce", ObjectType: "Opportunity", ExternalID: "006A"}, CreatedAt: now, UpdatedAt: now,
		Tasks: []project.Task{{ID: uuid.NewString(), WBS: "1", Name: "Implementation", Billable: true, ContractLineKey: "L1"}}}
}
