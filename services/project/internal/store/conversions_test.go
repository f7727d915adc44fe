package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/pgtest"
	"github.com/accrue/accrue/services/project/internal/project"
	"github.com/accrue/accrue/services/project/internal/store"
)

func newProject() project.Project {
	now := time.Now().UTC().Truncate(time.Microsecond)
	return project.Project{ID: uuid.NewString(), Name: "ERP rollout", CustomerID: uuid.NewString(), LegalEntityID: uuid.NewString(),
		ContractID: uuid.NewString(), Currency: "USD", Start: civil.Of(now), End: civil.Of(now.AddDate(0, 6, 0)), Status: project.Active, Version: 1,
		Source: project.SourceRef{System: "salesforce", ObjectType: "Opportunity", ExternalID: "006A"}, CreatedAt: now, UpdatedAt: now,
		Tasks: []project.Task{{ID: uuid.NewString(), WBS: "1", Name: "Implementation", Billable: true, ContractLineKey: "L1"}}}
}

// A first conversion is written in one batch; a second writer of the same opportunity (another
// instance that lost the race) fails on ConversionsPKey, which the conversion falls back on, and
// none of its batch is kept.
func TestFirstConversionBatchLosesRaceAsAWhole(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t, store.Migrations())
	write := func(p project.Project) error {
		var b pg.Batch
		store.QueueInsertProject(&b, p)
		store.QueueInsertConversion(&b, store.Conversion{CRMSystem: "salesforce", OpportunityID: "006A", Version: 1,
			Fingerprint: []byte{1}, Request: []byte{2}, CustomerID: p.CustomerID, ProjectID: p.ID, State: store.ConversionActive})
		return b.Run(ctx, db.Pool)
	}
	first, second := newProject(), newProject()
	second.Tasks[0].ID = uuid.NewString()
	if err := write(first); err != nil {
		t.Fatalf("first conversion: %v", err)
	}
	err := write(second)
	if !pg.IsUniqueViolation(err, store.ConversionsPKey) {
		t.Fatalf("second conversion: %v, want a unique violation on %s", err, store.ConversionsPKey)
	}
	var projects, tasks int
	if err := db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM projects), (SELECT count(*) FROM tasks)`).Scan(&projects, &tasks); err != nil {
		t.Fatal(err)
	}
	if projects != 1 || tasks != 1 {
		t.Fatalf("%d projects and %d tasks, want the first conversion's 1 and 1", projects, tasks)
	}
	conv, found, err := store.GetConversion(ctx, db.Pool, "salesforce", "006A")
	if err != nil || !found || conv.ProjectID != first.ID {
		t.Fatalf("conversion %+v (found %v, %v), want the first project %s", conv, found, err, first.ID)
	}
}
