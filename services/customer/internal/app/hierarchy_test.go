package app_test

import (
	"context"
	"testing"

	"github.com/accrue/accrue/services/customer/internal/customer"
)

func TestHierarchyIsAtMostFiveLevelsAndHasNoCycle(t *testing.T) {
	uc, _, db := setup(t)
	ctx := context.Background()
	var ids []string
	parent := ""
	for _, r := range []string{"a", "b", "c", "d", "e"} {
		in := input("Level "+r, r)
		in.ParentID = parent
		c, _, err := uc.Create(ctx, in)
		if err != nil {
			t.Fatalf("level %s: %v", r, err)
		}
		parent = c.ID
		ids = append(ids, c.ID)
	}
	sixth := input("Level f", "f")
	sixth.ParentID = parent
	_, _, err := uc.Create(ctx, sixth)
	wantIs(t, err, customer.ErrHierarchyTooDeep)

	move := input("Level a")
	move.ParentID = ids[2]
	_, err = uc.Update(ctx, ids[0], 1, move)
	wantIs(t, err, customer.ErrHierarchyCycle)

	// Moving the level-4 customer (with its child) under level 2 keeps the depth at 4: allowed.
	up := input("Level d")
	up.ParentID = ids[1]
	moved, err := uc.Update(ctx, ids[3], 1, up)
	if err != nil || moved.ParentID != ids[1] || moved.Version != 2 {
		t.Fatalf("move up: %+v %v", moved, err)
	}

	orphan := input("Orphan", "g")
	orphan.ParentID = "01a2210c-0000-7000-8000-000000000000"
	_, _, err = uc.Create(ctx, orphan)
	wantIs(t, err, customer.ErrParentNotFound)
	wantRows(t, db, 5, "customers")
}

func TestUpsertHierarchyCreatesLinkedCustomersThenChangesOnlyWhatDiffers(t *testing.T) {
	uc, _, db := setup(t)
	ctx := context.Background()
	chain := []customer.Input{input("Holding", "H"), input("Region", "R"), input("Subsidiary", "S")}
	cs, outs, err := uc.UpsertHierarchy(ctx, chain)
	if err != nil || len(cs) != 3 {
		t.Fatalf("first: %v %v", cs, err)
	}
	if cs[0].ParentID != "" || cs[1].ParentID != cs[0].ID || cs[2].ParentID != cs[1].ID {
		t.Fatalf("hierarchy not linked: %+v", cs)
	}
	for _, o := range outs {
		if o != customer.Created {
			t.Fatalf("outcomes %v, want all created", outs)
		}
	}
	chain[1] = input("Region West", "R")
	again, outs, err := uc.UpsertHierarchy(ctx, chain)
	if err != nil {
		t.Fatal(err)
	}
	want := []customer.Outcome{customer.Unchanged, customer.Updated, customer.Unchanged}
	for i := range want {
		if outs[i] != want[i] || again[i].ID != cs[i].ID {
			t.Fatalf("outcomes %v, want %v (same customers)", outs, want)
		}
	}
	if again[1].Name != "Region West" || again[1].Version != 2 || again[2].ParentID != again[1].ID {
		t.Fatalf("region: %+v", again[1])
	}
	wantRows(t, db, 4, "outbox")

	deep := []customer.Input{input("1", "d1"), input("2", "d2"), input("3", "d3"), input("4", "d4"), input("5", "d5"), input("6", "d6")}
	_, _, err = uc.UpsertHierarchy(ctx, deep)
	wantIs(t, err, customer.ErrHierarchyTooDeep)
	wantRows(t, db, 3, "customers")
}

// In a transaction of the caller's (the idempotency interceptor's), a hierarchy is upserted in
// that transaction and rolls back with it.
func TestUpsertHierarchyJoinsTheCallersTransaction(t *testing.T) {
	uc, st, db := setup(t)
	ctx := context.Background()
	errRollback := customer.ErrVersionConflict
	err := st.InTx(ctx, func(ctx context.Context) error {
		cs, outs, err := uc.UpsertHierarchy(ctx, []customer.Input{input("Holding", "TH"), input("Subsidiary", "TS")})
		if err != nil || len(cs) != 2 || outs[1] != customer.Created || cs[1].ParentID != cs[0].ID {
			t.Errorf("in a transaction: %+v %v %v", cs, outs, err)
		}
		return errRollback
	})
	wantIs(t, err, errRollback)
	wantRows(t, db, 0, "customers", "outbox", "audit_log")
}
