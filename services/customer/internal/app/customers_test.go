package app_test

import (
	"context"
	"testing"

	"github.com/accrue/accrue/internal/platform/servicetest"
	"github.com/accrue/accrue/services/customer/internal/customer"
)

func TestCreateMatchesTheCustomerAReferenceBelongsTo(t *testing.T) {
	uc, _, db := setup(t)
	ctx := context.Background()
	first, created, err := uc.Create(ctx, input("Globex", "001A"))
	if err != nil || !created || first.Version != 1 || first.PaymentTermsDays != customer.DefaultPaymentTermsDays || first.Status != customer.StatusActive {
		t.Fatalf("create: %+v %v %v", first, created, err)
	}
	again, created, err := uc.Create(ctx, input("  Globex ", "001A"))
	if err != nil || created || again.ID != first.ID {
		t.Fatalf("the same content (names are trimmed) must return the existing customer: %+v %v %v", again, created, err)
	}
	_, _, err = uc.Create(ctx, input("Globex Corp", "001A"))
	wantReason(t, err, "DUPLICATE_EXTERNAL_ID")
	wantRows(t, db, 1, "customers")
	wantRows(t, db, 1, "outbox")
}

func TestReferencesOfTwoCustomersAreAmbiguous(t *testing.T) {
	uc, _, _ := setup(t)
	ctx := context.Background()
	if _, _, err := uc.Create(ctx, input("Initech", "A")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := uc.Create(ctx, input("Initrode", "B")); err != nil {
		t.Fatal(err)
	}
	_, _, err := uc.Upsert(ctx, input("Initech", "A", "B"))
	wantIs(t, err, customer.ErrAmbiguousReference)
}

func TestUpsertKeepsWhatTheSourceDoesNotSendAndAttachesNewReferences(t *testing.T) {
	uc, _, db := setup(t)
	ctx := context.Background()
	in := input("Umbrella", "001C")
	in.Contacts = []customer.Contact{{Name: "Alice", Email: "alice@example.com", Role: "billing"}}
	in.Address, in.AddressGiven = customer.Address{Line1: "1 Main St", City: "Springfield", CountryCode: "US"}, true
	in.Tax = &customer.TaxProfile{TaxID: "T-1", TaxRegion: "US-CA"}
	in.PaymentTermsDays, in.PaymentTermsGiven = 45, true
	c, out, err := uc.Upsert(ctx, in)
	if err != nil || out != customer.Created {
		t.Fatalf("upsert: %v %v", out, err)
	}
	if same, out, err := uc.Upsert(ctx, in); err != nil || out != customer.Unchanged || same.Version != 1 {
		t.Fatalf("the same upsert must change nothing: %v %v %v", same.Version, out, err)
	}
	// The CRM renames the account under a second reference and sends nothing else.
	renamed, out, err := uc.Upsert(ctx, input("Umbrella Corp", "001C", "001D"))
	if err != nil || out != customer.Updated {
		t.Fatalf("rename: %v %v", out, err)
	}
	if renamed.ID != c.ID || renamed.Version != 2 || renamed.Name != "Umbrella Corp" || len(renamed.Contacts) != 1 ||
		renamed.Address.City != "Springfield" || renamed.Tax == nil || renamed.Tax.TaxRegion != "US-CA" ||
		renamed.PaymentTermsDays != 45 || len(renamed.Refs) != 2 {
		t.Fatalf("rename lost data: %+v", renamed)
	}
	found, err := uc.Lookup(ctx, ref("001D"))
	if err != nil || found.ID != c.ID || found.Version != 2 || len(found.Contacts) != 1 || found.Tax.TaxID != "T-1" {
		t.Fatalf("lookup by the new reference: %+v %v", found, err)
	}
	wantRows(t, db, 2, "audit_log")
}

func TestUpdateNeedsTheCurrentVersionAndKeepsReferences(t *testing.T) {
	uc, _, _ := setup(t)
	ctx := context.Background()
	c, _, err := uc.Create(ctx, input("Hooli", "001H"))
	if err != nil {
		t.Fatal(err)
	}
	changed, err := uc.Update(ctx, c.ID, 1, input("Hooli XYZ"))
	if err != nil || changed.Version != 2 || changed.Name != "Hooli XYZ" || len(changed.Refs) != 1 {
		t.Fatalf("update: %+v %v", changed, err)
	}
	_, err = uc.Update(ctx, c.ID, 1, input("Hooli 2"))
	wantReason(t, err, "VERSION_CONFLICT")
	_, err = uc.Update(ctx, "01a2210c-0000-7000-8000-000000000000", 1, input("Nobody"))
	wantIs(t, err, customer.ErrNotFound)
	if got, err := uc.Get(ctx, c.ID); err != nil || got.Version != 2 || got.Name != "Hooli XYZ" {
		t.Fatalf("get: %+v %v", got, err)
	}
	_, err = uc.Lookup(ctx, ref("nobody"))
	wantIs(t, err, customer.ErrNotFound)
}

func TestRejectedInputsWriteNothing(t *testing.T) {
	uc, _, db := setup(t)
	ctx := context.Background()
	bad := input("X", "1")
	bad.Currency = "XYZ"
	_, _, err := uc.Create(ctx, bad)
	wantReason(t, err, "UNKNOWN_CURRENCY")
	_, _, err = uc.Upsert(ctx, input("Y", "2", "2"))
	wantReason(t, err, "DUPLICATE_REFERENCE")
	wantRows(t, db, 0, "customers", "outbox", "audit_log")
}

func TestListPagesInCreationOrder(t *testing.T) {
	uc, _, _ := setup(t)
	ctx := context.Background()
	var ids []string
	for _, r := range []string{"a", "b", "c"} {
		c, _, err := uc.Create(ctx, input("Customer "+r, r))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	page, err := uc.List(ctx, ids[0], 10)
	if err != nil || len(page) != 2 || page[0].ID != ids[1] || page[1].ID != ids[2] || len(page[0].Refs) != 1 {
		t.Fatalf("list after the first: %+v %v", page, err)
	}
}

// Concurrent upserts of one new reference race on its unique constraint; the losers read again
// and find the winner's customer.
func TestConcurrentUpsertsOfOneReferenceConverge(t *testing.T) {
	uc, _, db := setup(t)
	ctx := context.Background()
	outs := servicetest.Concurrently(t, 8, func(int) (customer.Outcome, error) {
		_, out, err := uc.Upsert(ctx, input("Vandelay", "V"))
		return out, err
	})
	created := 0
	for _, o := range outs {
		if o == customer.Created {
			created++
		}
	}
	if created != 1 || count(t, db, "customers") != 1 {
		t.Fatalf("outcomes %v, customers %d: want one created", outs, count(t, db, "customers"))
	}
}
