package grpcapi_test

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/servicetest"
	"github.com/accrue/accrue/services/billing/internal/app"
	"github.com/accrue/accrue/services/billing/internal/grpcapi"
	"github.com/accrue/accrue/services/billing/internal/store"
)

// Through gRPC: a dry run shows the straight-line entries and writes nothing, the run recognizes
// 30,000.00 × 31/92 = 10,108.70 for March 2027, the close is refused until the period is
// recognized, a closed period refuses the run, and reopening needs periods:reopen.
func TestRevenueRunAndCloseThroughGRPC(t *testing.T) {
	t.Parallel()
	env := servicetest.New(t, "billing", store.Migrations(), func(e *servicetest.Env) {
		s := grpcapi.New(app.New(store.New(e.DB.Pool, e.Outbox, e.Queue), e.Queue, e.Log))
		billingv1.RegisterLegalEntityServiceServer(e.Server, s)
		billingv1.RegisterContractServiceServer(e.Server, s)
		billingv1.RegisterLedgerServiceServer(e.Server, grpcapi.NewLedger(s))
		billingv1.RegisterRevenueServiceServer(e.Server, grpcapi.NewRevenue(s))
	})
	cl := clients{billingv1.NewLegalEntityServiceClient(env.Conn), billingv1.NewContractServiceClient(env.Conn)}
	rev, led := billingv1.NewRevenueServiceClient(env.Conn), billingv1.NewLedgerServiceClient(env.Conn)
	le := legalEntity(t, env, cl)
	if _, err := cl.c.UpsertContract(env.Ctx(rw), &billingv1.UpsertContractRequest{ExternalReference: opp, SourceVersion: 1,
		Contract: contract(le, "100.00")}); err != nil {
		t.Fatal(err)
	}
	dry, err := rev.RecognizeRevenue(env.Ctx(rw), &billingv1.RecognizeRevenueRequest{LegalEntityId: le, Period: "2027-03", DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	// The revenue entry and the reclassification of the unbilled revenue to the contract asset.
	if len(dry.GetEntries()) != 2 || dry.GetRun().GetRecognized().GetAmount() != "10108.70" ||
		dry.GetRun().GetPositions()[0].GetContractAsset().GetAmount() != "10108.70" {
		t.Fatalf("dry run: %d entries, recognized %v, positions %v; want revenue and an asset of 10108.70", len(dry.GetEntries()),
			dry.GetRun().GetRecognized(), dry.GetRun().GetPositions())
	}
	if n := env.Count("revenue_runs"); n != 0 {
		t.Fatalf("the dry run recorded %d runs", n)
	}
	run, err := rev.RecognizeRevenue(env.Ctx(rw), &billingv1.RecognizeRevenueRequest{LegalEntityId: le, Period: "2027-03"})
	if err != nil {
		t.Fatal(err)
	}
	if got := run.GetRun().GetRecognized().GetAmount(); got != "10108.70" {
		t.Fatalf("recognized %s, want 10108.70", got)
	}
	if n := env.Count("outbox WHERE event_type = '" + billingv1.EventTypeRevenueRecognized + "'"); n != 2 {
		t.Errorf("revenue.recognized events = %d, want one per line (2)", n)
	}

	_, err = led.ClosePeriod(env.Ctx(rw), &billingv1.ClosePeriodRequest{LegalEntityId: le, Period: "2027-02"})
	wantErr(t, err, codes.FailedPrecondition, "CLOSE_CHECKLIST_FAILED")
	if !strings.Contains(err.Error(), "RECOGNITION_RUN") {
		t.Errorf("the refusal does not name the failing item: %v", err)
	}
	list, err := rev.GetCloseChecklist(env.Ctx(rw), &billingv1.GetCloseChecklistRequest{LegalEntityId: le, Period: "2027-02"})
	if err != nil || list.GetReady() || len(list.GetItems()) != 5 {
		t.Fatalf("checklist: %v %v", list, err)
	}
	if _, err := rev.RecognizeRevenue(env.Ctx(rw), &billingv1.RecognizeRevenueRequest{LegalEntityId: le, Period: "2027-02"}); err != nil {
		t.Fatal(err)
	}
	closed, err := led.ClosePeriod(env.Ctx(rw), &billingv1.ClosePeriodRequest{LegalEntityId: le, Period: "2027-02"})
	if err != nil || closed.GetPeriod().GetStatus() != billingv1.PeriodStatus_PERIOD_STATUS_CLOSED {
		t.Fatalf("close: %v %v", closed, err)
	}
	_, err = rev.RecognizeRevenue(env.Ctx(rw), &billingv1.RecognizeRevenueRequest{LegalEntityId: le, Period: "2027-02"})
	wantErr(t, err, codes.FailedPrecondition, "PERIOD_CLOSED")
	_, err = rev.ReopenPeriod(env.Ctx(rw), &billingv1.ReopenPeriodRequest{LegalEntityId: le, Period: "2027-02", Reason: "late bill"})
	wantErr(t, err, codes.PermissionDenied, "SCOPE_MISSING")
	_, err = led.OpenPeriod(env.Ctx(rw), &billingv1.OpenPeriodRequest{LegalEntityId: le, Period: "2027-02"})
	wantErr(t, err, codes.FailedPrecondition, "PERIOD_REOPEN_REQUIRED")
	csv, err := rev.ExportRevenueReport(env.Ctx(rw), &billingv1.ExportRevenueReportRequest{LegalEntityId: le, FromPeriod: "2027-02", ToPeriod: "2027-03"})
	if err != nil || csv.GetContentType() != "text/csv; charset=utf-8" ||
		!strings.Contains(string(csv.GetData()), "revenue_by_method,STRAIGHT_LINE,recognized,10108.70,USD") {
		t.Fatalf("CSV report: %v %q", err, csv.GetData())
	}
	open, err := rev.ReopenPeriod(env.Ctx([]string{"periods:reopen"}), &billingv1.ReopenPeriodRequest{LegalEntityId: le, Period: "2027-02", Reason: "late bill"})
	if err != nil || open.GetPeriod().GetStatus() != billingv1.PeriodStatus_PERIOD_STATUS_OPEN {
		t.Fatalf("reopen: %v %v", open, err)
	}
}
