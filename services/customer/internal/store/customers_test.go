package store_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pgstore"
	"github.com/accrue/accrue/internal/platform/pgtest"
	"github.com/accrue/accrue/services/customer/internal/customer"
	"github.com/accrue/accrue/services/customer/internal/store"
)

// The profile documents keep the keys rows were written with, and read back as written.
func TestProfileDocumentsRoundTrip(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t, store.Migrations())
	st := store.New(pgstore.New(db.Pool, outbox.Writer{Producer: "customer"}, exceptions.NewQueue(db.Pool, slog.New(slog.NewTextHandler(io.Discard, nil)))))
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	c := customer.Customer{ID: "01a2210c-0000-7000-8000-0000000000c1", Version: 1, CreatedAt: now, UpdatedAt: now,
		Details: customer.Details{Name: "Globex", Currency: "EUR", PaymentTermsDays: 30, Status: customer.StatusOnHold,
			Address:  customer.Address{Line1: "1 Rue", City: "Paris", CountryCode: "FR"},
			Tax:      &customer.TaxProfile{TaxID: "FR1", Exempt: true, ExemptionCertificateRef: "C-9"},
			Contacts: []customer.Contact{{Name: "Ann", Email: "ann@example.com"}}},
		Refs: []customer.ExternalRef{{System: "sf", ObjectType: "Account", ExternalID: "1"}}}
	if err := st.Insert(ctx, []customer.Customer{c}, nil, nil); err != nil {
		t.Fatal(err)
	}
	var addr, tax, contacts string
	if err := db.Pool.QueryRow(ctx, `SELECT billing_address::text, tax_profile::text, contacts::text FROM customers`).Scan(&addr, &tax, &contacts); err != nil {
		t.Fatal(err)
	}
	if addr != `{"city": "Paris", "line1": "1 Rue", "country_code": "FR"}` ||
		tax != `{"exempt": true, "tax_id": "FR1", "exemption_certificate_ref": "C-9"}` ||
		contacts != `[{"name": "Ann", "email": "ann@example.com"}]` {
		t.Fatalf("stored documents changed:\n%s\n%s\n%s", addr, tax, contacts)
	}
	got, err := st.Get(ctx, c.ID)
	if err != nil || got.Address != c.Address || *got.Tax != *c.Tax || len(got.Contacts) != 1 || got.Contacts[0] != c.Contacts[0] ||
		got.Status != customer.StatusOnHold || len(got.Refs) != 1 || got.Refs[0] != c.Refs[0] {
		t.Fatalf("read back %+v (%v)", got, err)
	}
	if err := st.Insert(ctx, []customer.Customer{{ID: "01a2210c-0000-7000-8000-0000000000c2", Version: 1, CreatedAt: now, UpdatedAt: now,
		Details: customer.Details{Name: "Other", Currency: "EUR", PaymentTermsDays: 30, Status: customer.StatusActive},
		Refs:    c.Refs}}, nil, nil); !errors.Is(err, customer.ErrReferenceTaken) {
		t.Fatalf("a taken reference: %v, want customer.ErrReferenceTaken", err)
	}
}
