package store_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/services/project/internal/project"
)

// A first conversion is written in one batch; a second writer of the same opportunity (another
// instance that lost the race) is told it did not create it, which the conversion falls back on,
// and none of its batch is kept: no project, task, audit record or exception resolution.
func TestFirstConversionBatchLosesRaceAsAWhole(t *testing.T) {
	ctx := context.Background()
	st, db := newStore(t)
	const key = "opportunity.conversion:salesforce:006A"
	write := func(p project.Project) (bool, error) {
		return st.CreateConversion(ctx, p, project.Conversion{CRMSystem: "salesforce", OpportunityID: "006A", Version: 1,
			Fingerprint: []byte{1}, Request: []byte{2}, CustomerID: p.CustomerID, ProjectID: p.ID, State: project.ConversionActive},
			nil, []audit.Record{{Action: "created", EntityType: "project", EntityID: p.ID}}, key, "system", "converted")
	}
	first, second := newProject(), newProject()
	second.Tasks[0].ID = uuid.NewString()
	if created, err := write(first); err != nil || !created {
		t.Fatalf("first conversion: created %v, %v", created, err)
	}
	if _, err := st.RecordException(ctx, exceptions.New{Kind: "opportunity.conversion", Reason: "CUSTOMER_UNAVAILABLE", DedupeKey: key}); err != nil {
		t.Fatal(err)
	}
	if created, err := write(second); err != nil || created {
		t.Fatalf("second conversion: created %v, %v; want not created, no error", created, err)
	}
	var projects, tasks, records, open int
	if err := db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM projects), (SELECT count(*) FROM tasks),
		(SELECT count(*) FROM audit_log WHERE entity_type = 'project'),
		(SELECT count(*) FROM exceptions WHERE status = 'OPEN')`).Scan(&projects, &tasks, &records, &open); err != nil {
		t.Fatal(err)
	}
	if projects != 1 || tasks != 1 || records != 1 || open != 1 {
		t.Fatalf("%d projects, %d tasks, %d audit records and %d open exceptions, want the first conversion's 1, 1, 1 and the exception left open",
			projects, tasks, records, open)
	}
	conv, found, err := st.GetConversion(ctx, "salesforce", "006A")
	if err != nil || !found || conv.ProjectID != first.ID {
		t.Fatalf("conversion %+v (found %v, %v), want the first project %s", conv, found, err, first.ID)
	}
}

// Inside a transaction the one-round-trip write is not used (its writes would not commit apart
// from the transaction's): nothing is written and the caller goes through LockConversion.
func TestFirstConversionBatchIsNotUsedInsideATransaction(t *testing.T) {
	ctx := context.Background()
	st, db := newStore(t)
	p := newProject()
	err := st.InTx(ctx, func(ctx context.Context) error {
		created, err := st.CreateConversion(ctx, p, project.Conversion{CRMSystem: "salesforce", OpportunityID: "006A", Version: 1,
			Fingerprint: []byte{1}, Request: []byte{2}, CustomerID: p.CustomerID, ProjectID: p.ID, State: project.ConversionActive},
			nil, nil, "k", "system", "converted")
		if err == nil && created {
			t.Error("created inside a transaction")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM projects`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d projects (%v), want none", n, err)
	}
}
