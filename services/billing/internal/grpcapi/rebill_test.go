package grpcapi_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"google.golang.org/grpc/codes"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/internal/platform/servicetest"
	"github.com/accrue/accrue/services/billing/internal/app"
	"github.com/accrue/accrue/services/billing/internal/grpcapi"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/store"
)

// An amendment of the bill rate lists the invoiced time for a rebill decision, read through
// ListRebillDecisions (by contract, paged): 10.5 h invoiced at 150.00 (1,575.00), the rate
// becomes 160.00 → 1,680.00, a delta of +105.00; the open candidate is re-rated instead.
func TestRebillDecisionsListTheInvoicedTimeARateChangeMoved(t *testing.T) {
	t.Parallel()
	var uc *app.Service
	env := servicetest.New(t, "billing", store.Migrations(), func(e *servicetest.Env) {
		uc = app.New(store.New(e.DB.Pool, e.Outbox, e.Queue), e.Queue, e.Log)
		s := grpcapi.New(uc)
		billingv1.RegisterLegalEntityServiceServer(e.Server, s)
		billingv1.RegisterContractServiceServer(e.Server, s)
		billingv1.RegisterLedgerServiceServer(e.Server, grpcapi.NewLedger(s))
	})
	cl := clients{billingv1.NewLegalEntityServiceClient(env.Conn), billingv1.NewContractServiceClient(env.Conn)}
	ledgerc := billingv1.NewLedgerServiceClient(env.Conn)
	ctx := env.Ctx(rw)
	le := legalEntity(t, env, cl)
	created, err := cl.c.UpsertContract(ctx, &billingv1.UpsertContractRequest{ExternalReference: opp, SourceVersion: 1, Contract: contract(le, "150.00")})
	if err != nil {
		t.Fatal(err)
	}
	contractID := created.GetContract().GetContractId()
	const project, task, resource = "01a2210c-0000-7000-8000-0000000000a1", "01a2210c-0000-7000-8000-0000000000b1", "01a2210c-0000-7000-8000-0000000000c1"
	if err := uc.ApplyProject(ctx, ledger.Project{ID: project, LegalEntityID: le, ContractID: contractID,
		Tasks: map[string]ledger.Task{task: {Billable: true, LineKey: "L1"}}}, "PROJECT_STATUS_ACTIVE", 1); err != nil {
		t.Fatal(err)
	}
	if err := uc.ApplyCostRates(ctx, resource, "CONSULTANT", 1, []ledger.CostRate{{Rate: ledgerUSD("60.00"), From: civilDay(2026, 1, 1)}}); err != nil {
		t.Fatal(err)
	}
	var sources []ledger.Source
	for _, id := range []string{"T-1", "T-2"} {
		sources = append(sources, ledger.Source{Type: ledger.SourceTime, ID: id, Version: 1, ResourceID: resource, ProjectID: project, TaskID: task,
			Date: civilDay(2026, 12, 7), Hours: decimal.RequireFromString("10.5"), Billable: true})
	}
	if _, err := uc.PostBatch(ctx, sources); err != nil {
		t.Fatal(err)
	}
	if _, err := env.DB.Pool.Exec(ctx, `UPDATE invoice_candidates SET status = 'INVOICED' WHERE source_id = 'T-1'`); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.c.AmendContract(ctx, &billingv1.AmendContractRequest{ContractId: contractID, ExpectedVersion: 1, Reason: "rate rise",
		Contract: contract(le, "160.00")}); err != nil {
		t.Fatal(err)
	}
	read := env.Ctx([]string{"billing:read"})
	resp, err := ledgerc.ListRebillDecisions(read, &billingv1.ListRebillDecisionsRequest{ContractId: contractID, PageSize: 1})
	if err != nil || len(resp.GetDecisions()) != 1 || resp.GetNextPageToken() != "" {
		t.Fatalf("rebill decisions: %v %v", resp, err)
	}
	d := resp.GetDecisions()[0]
	if d.GetSourceId() != "T-1" || d.GetContractVersion() != 2 || d.GetQuantity() != "10.5" || d.GetInvoicedAmount().GetAmount() != "1575.00" ||
		d.GetReratedRate().GetAmount() != "160.00" || d.GetReratedAmount().GetAmount() != "1680.00" || d.GetDelta().GetAmount() != "105.00" ||
		d.GetDelta().GetCurrencyCode() != "USD" {
		t.Fatalf("rebill decision = %v, want T-1 1,575.00 → 1,680.00 (+105.00) at contract v2", d)
	}
	cands, err := ledgerc.ListInvoiceCandidates(read, &billingv1.ListInvoiceCandidatesRequest{SourceId: "T-2"})
	if err != nil || len(cands.GetCandidates()) != 1 || cands.GetCandidates()[0].GetAmount().GetAmount() != "1680.00" {
		t.Fatalf("open candidate T-2: %v %v, want re-rated to 1680.00", cands, err)
	}
	_, err = ledgerc.ListRebillDecisions(read, &billingv1.ListRebillDecisionsRequest{ContractId: "not-a-uuid"})
	wantErr(t, err, codes.InvalidArgument, "VALIDATION_FAILED")
}

func ledgerUSD(s string) money.Amount {
	return money.Amount{Value: decimal.RequireFromString(s), Currency: "USD"}
}

func civilDay(y, m, d int) civil.Date { return civil.Date{Year: y, Month: time.Month(m), Day: d} }
