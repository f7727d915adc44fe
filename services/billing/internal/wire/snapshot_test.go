package wire_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"google.golang.org/protobuf/proto"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

// full is a contract version using every field a version keeps.
func full(leID string) contract.Contract {
	markup := decimal.RequireFromString("12.5")
	nte := billingtest.USD("150000.00")
	now := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)
	return contract.Contract{ID: "01a22400-0000-7000-8000-000000000001", Version: 1, SourceVersion: 7, ChangeReason: "created",
		Ref:       contract.ExternalRef{System: "salesforce", ObjectType: "Opportunity", ExternalID: "006A"},
		CreatedAt: now, VersionAt: now,
		Terms: contract.Terms{CustomerID: "01a22400-0000-7000-8000-0000000000c1", LegalEntityID: leID, Name: "ERP rollout", Currency: "USD",
			Start: billingtest.Day("2026-01-01"), End: billingtest.Day("2027-06-30"),
			Lines: []contract.Line{
				{Key: "L1", ServiceLine: "IMPLEMENTATION", Description: "build", Billing: contract.TimeAndMaterials, Revenue: contract.AsDelivered,
					Amount: billingtest.USD("120000.00"), NotToExceed: &nte, ExpenseMarkup: &markup,
					RateCard: contract.RateCard{{Role: "DEV", Rate: billingtest.USD("112.125"), From: billingtest.Day("2026-01-01"), To: billingtest.Day("2026-12-31")},
						{Role: "DEV", Rate: billingtest.USD("120.00"), From: billingtest.Day("2027-01-01")}}},
				{Key: "L2", ServiceLine: "TRAINING", Billing: contract.MilestoneBilling, Revenue: contract.StraightLine, Amount: billingtest.USD("30000.00"),
					ServiceStart: billingtest.Day("2027-03-01"), ServiceEnd: billingtest.Day("2027-05-31"),
					Milestones: []contract.Milestone{{Key: "M1", Name: "kick-off", Amount: billingtest.USD("10000.00"), Due: billingtest.Day("2027-03-01")},
						{Key: "M2", Name: "done", Amount: billingtest.USD("20000.00"), Due: billingtest.Day("2027-05-31")}}},
			}}}
}

// sameContract fails unless got is want (Terms.Hash ignores how many trailing zeros an amount
// was written with).
func sameContract(t *testing.T, got, want contract.Contract) {
	t.Helper()
	if got.ID != want.ID || got.Version != want.Version || got.Ref != want.Ref || got.SourceVersion != want.SourceVersion ||
		got.ChangeReason != want.ChangeReason || !got.CreatedAt.Equal(want.CreatedAt) || !got.VersionAt.Equal(want.VersionAt) ||
		!bytes.Equal(got.Terms.Hash(), want.Terms.Hash()) {
		t.Fatalf("read back %+v, want %+v", got, want)
	}
}

// Contract versions read back whole from the store's row format; versions kept before it (the
// marshalled proto) are converted once, at start.
func TestContractSnapshotsReadBackWholeAndLegacyOnesConvert(t *testing.T) {
	t.Parallel()
	e := billingtest.New(t, legalentity.Reject)
	st, ctx := e.Store, e.Ctx
	c := full(e.LE.ID)
	ev := outbox.Event{Stream: billingv1.EventStream, Type: billingv1.EventTypeContractChanged, Subject: c.ID,
		Payload: &billingv1.ContractChanged{Contract: wire.Contract(c)}}
	if err := st.SaveContractVersion(ctx, c, "tester", ev, audit.Record{Action: "contract.created", EntityType: "contract", EntityID: c.ID}); err != nil {
		t.Fatal(err)
	}
	got, err := st.Contract(ctx, c.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	sameContract(t, got, c)
	if r, ok := got.Lines[0].RateCard.Rate("DEV", billingtest.Day("2026-06-30")); !ok || r.Value.String() != "112.125" {
		t.Fatalf("a rate finer than a cent read back as %s (%v)", r, ok)
	}
	again := c
	again.ID = "01a22400-0000-7000-8000-000000000002"
	if err := st.SaveContractVersion(ctx, again, "tester", ev, audit.Record{Action: "contract.created"}); !errors.Is(err, contract.ErrRefTaken) {
		t.Fatalf("a second contract of the same reference: %v, want CONTRACT_EXTERNAL_REF_TAKEN", err)
	}

	legacy, err := proto.Marshal(wire.Contract(c))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.DB.Pool.Exec(ctx, `UPDATE contract_versions SET snapshot = $1`, legacy); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Contract(ctx, c.ID, 0); err == nil {
		t.Fatal("a legacy snapshot must not be read as the row format")
	}
	for i, want := range []int{1, 0} {
		if n, err := st.ConvertLegacySnapshots(ctx, wire.ContractSnapshot); err != nil || n != want {
			t.Fatalf("conversion %d: %d (%v), want %d", i+1, n, err, want)
		}
	}
	got, err = st.Contract(ctx, c.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	sameContract(t, got, c)
}
