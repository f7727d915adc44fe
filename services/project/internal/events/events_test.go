package events_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	customerv1 "github.com/accrue/accrue/gen/go/accrue/customer/v1"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pgstore"
	"github.com/accrue/accrue/internal/platform/pgtest"
	"github.com/accrue/accrue/internal/platform/streamtest"
	"github.com/accrue/accrue/services/project/internal/app"
	"github.com/accrue/accrue/services/project/internal/events"
	"github.com/accrue/accrue/services/project/internal/store"
)

// The handlers apply events without calling other services: the clients are never used.
type noCustomers struct {
	customerv1.CustomerServiceClient
}
type noContracts struct {
	billingv1.ContractServiceClient
}

func setup(t *testing.T) (*app.Service, *pgtest.DB, *slog.Logger) {
	db := pgtest.New(t, store.Migrations())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st := store.New(pgstore.New(db.Pool, outbox.Writer{Producer: "project"}, exceptions.NewQueue(db.Pool, log)))
	return app.New(st, app.Deps{Customers: noCustomers{}, Contracts: noContracts{}, Log: log}), db, log
}

func envelope(t *testing.T, typ string, payload proto.Message) *commonv1.EventEnvelope {
	t.Helper()
	a, err := anypb.New(payload)
	if err != nil {
		t.Fatal(err)
	}
	return &commonv1.EventEnvelope{EventId: uuid.NewString(), Type: typ, Payload: a, CorrelationId: "corr-1"}
}

func count(t *testing.T, db *pgtest.DB, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func money(s string) *commonv1.Money { return &commonv1.Money{Amount: s, CurrencyCode: "USD"} }

// A customer's versions in one batch leave the newest in the directory; an older one arriving
// later changes nothing.
func TestCustomerDirectoryKeepsTheNewestVersion(t *testing.T) {
	uc, db, log := setup(t)
	ctx := context.Background()
	h := events.CustomerDirectory(uc, log)
	id := uuid.NewString()
	upserted := func(name string, v int64) *commonv1.EventEnvelope {
		return envelope(t, customerv1.EventTypeCustomerUpserted, &customerv1.CustomerUpserted{Customer: &customerv1.Customer{
			CustomerId: id, Name: name, CurrencyCode: "USD", Version: v, TaxProfile: &customerv1.TaxProfile{TaxRegion: "US-TX"}}})
	}
	if err := streamtest.Apply(ctx, db.Pool, h, upserted("Initech", 1), upserted("Initech US", 2)); err != nil {
		t.Fatal(err)
	}
	if err := streamtest.Apply(ctx, db.Pool, h, upserted("Initech (old)", 1)); err != nil {
		t.Fatal(err)
	}
	c, err := uc.DirectoryCustomer(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "Initech US" || c.Version != 2 || !c.HasTaxProfile || c.CorrelationID != "corr-1" {
		t.Fatalf("directory customer %+v, want Initech US at version 2 with a tax profile", c)
	}
}

// Billing's legal entities and postings reach the replica and the projects' actuals: posted and
// reversed results count (netted per project), others do not.
func TestBillingEventsFeedReplicasAndActuals(t *testing.T) {
	uc, db, log := setup(t)
	ctx := context.Background()
	project := uuid.NewString()
	posted := func(outcome billingv1.PostingOutcome, hours, cost, revenue string) *billingv1.PostingResult {
		return &billingv1.PostingResult{ProjectId: project, Outcome: outcome, Hours: hours, Cost: money(cost), Revenue: money(revenue)}
	}
	err := streamtest.Apply(ctx, db.Pool, events.Billing(uc, log),
		envelope(t, billingv1.EventTypeLegalEntityUpserted, &billingv1.LegalEntityUpserted{LegalEntity: &billingv1.LegalEntity{
			LegalEntityId: uuid.NewString(), Code: "US01", FunctionalCurrency: "USD", Version: 1}}),
		envelope(t, billingv1.EventTypePostingsRecorded, &billingv1.PostingsRecorded{Results: []*billingv1.PostingResult{
			posted(billingv1.PostingOutcome_POSTING_OUTCOME_POSTED, "8", "400.00", "1200.00"),
			posted(billingv1.PostingOutcome_POSTING_OUTCOME_REVERSED, "-2", "-100.00", "-300.00"),
		}}),
		envelope(t, billingv1.EventTypePostingsRecorded, &billingv1.PostingsRecorded{Results: []*billingv1.PostingResult{
			posted(billingv1.PostingOutcome_POSTING_OUTCOME_POSTED, "1.5", "75.00", "225.00"),
		}}))
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, `SELECT count(*) FROM legal_entities WHERE code = 'US01' AND functional_currency = 'USD'`); n != 1 {
		t.Fatalf("%d US01 replicas, want 1", n)
	}
	if n := count(t, db, `SELECT count(*) FROM project_actuals WHERE project_id = $1 AND actual_hours = 7.5
		AND actual_cost = 375 AND actual_revenue = 1125`, project); n != 1 {
		t.Fatalf("actuals of the project are not 7.5 h, 375.00 cost, 1125.00 revenue")
	}
}

// A cost adjustment (billing re-costed posted time after a back-dated cost-rate change) moves the
// project's actual cost by its delta and leaves the hours alone.
func TestCostAdjustmentMovesActualCostOnly(t *testing.T) {
	uc, db, log := setup(t)
	ctx := context.Background()
	project := uuid.NewString()
	err := streamtest.Apply(ctx, db.Pool, events.Billing(uc, log),
		envelope(t, billingv1.EventTypePostingsRecorded, &billingv1.PostingsRecorded{Results: []*billingv1.PostingResult{{
			SourceType: "time_entry", SourceId: "T-60", SourceVersion: 1, ProjectId: project, Outcome: billingv1.PostingOutcome_POSTING_OUTCOME_POSTED,
			Hours: "7.25", Cost: money("444.43"), Revenue: money("362.50")}}}),
		envelope(t, billingv1.EventTypePostingsRecorded, &billingv1.PostingsRecorded{Results: []*billingv1.PostingResult{{
			SourceType: "cost_adjustment", SourceId: "T-60", SourceVersion: 2, ProjectId: project, Outcome: billingv1.PostingOutcome_POSTING_OUTCOME_POSTED,
			Hours: "0", BillableHours: "0", Cost: money("63.07"), Revenue: money("0.00")}}}))
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, `SELECT count(*) FROM project_actuals WHERE project_id = $1 AND actual_hours = 7.25
		AND actual_cost = 507.50 AND actual_revenue = 362.50`, project); n != 1 {
		t.Fatalf("actuals of the project are not 7.25 h, 507.50 cost, 362.50 revenue")
	}
}

// Revenue billing recognized (revenue.recognized, one per contract line and period, negative for
// a catch-up) adds up on the contract's first project beside its posted actuals: 80,000.00 +
// 40,000.00 − 20,000.00 = 100,000.00; a contract without a project changes nothing.
func TestRecognizedRevenueReachesProjectActuals(t *testing.T) {
	uc, db, log := setup(t)
	ctx := context.Background()
	project := uuid.NewString()
	recognized := func(amount string, projects ...string) *commonv1.EventEnvelope {
		return envelope(t, billingv1.EventTypeRevenueRecognized, &billingv1.RevenueRecognized{ProjectIds: projects,
			Recognition: &billingv1.LineRecognition{LineKey: "L1", Recognized: money(amount)}})
	}
	if err := streamtest.Apply(ctx, db.Pool, events.Billing(uc, log), recognized("80000.00", project), recognized("40000.00", project),
		recognized("-20000.00", project), recognized("5.00")); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, `SELECT count(*) FROM project_actuals WHERE project_id = $1 AND recognized_revenue = 100000
		AND actual_revenue = 0`, project); n != 1 {
		t.Fatalf("recognized revenue of the project is not 100000.00")
	}
}

// A payload a handler has no route for is refused as unroutable (dead-lettered), never skipped.
func TestUnroutablePayloadIsRefused(t *testing.T) {
	uc, db, _ := setup(t)
	err := streamtest.Apply(context.Background(), db.Pool, events.StaffingPlans(uc),
		envelope(t, customerv1.EventTypeCustomerUpserted, &customerv1.CustomerUpserted{Customer: &customerv1.Customer{CustomerId: uuid.NewString()}}))
	if fault.ReasonOf(err) != "EVENT_UNROUTABLE" {
		t.Fatalf("error %v, want EVENT_UNROUTABLE", err)
	}
}
