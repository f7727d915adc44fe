package grpcapi_test

import (
	"testing"

	"github.com/shopspring/decimal"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/idempotency"
	"github.com/accrue/accrue/internal/platform/servicetest"
	"github.com/accrue/accrue/services/billing/internal/app"
	"github.com/accrue/accrue/services/billing/internal/grpcapi"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/store"
)

// The invoice run commits its chunks outside the idempotency key's transaction, and the key
// still holds: the same key returns the first answer (replayed: one draft of 10.5 h × 150.00 =
// 1,575.00 for the contract with time, NOTHING_TO_BILL for the other), a new key proposes
// nothing new, the same key with another request is refused, and a run naming a contract that
// is not the legal entity's is NOT_FOUND and writes nothing.
func TestInvoiceRunIdempotencyKey(t *testing.T) {
	t.Parallel()
	var uc *app.Service
	env := servicetest.New(t, "billing", store.Migrations(), func(e *servicetest.Env) {
		uc = app.New(store.New(e.DB.Pool, e.Outbox, e.Queue), e.Queue, e.Log)
		s := grpcapi.New(uc)
		billingv1.RegisterLegalEntityServiceServer(e.Server, s)
		billingv1.RegisterContractServiceServer(e.Server, s)
		billingv1.RegisterInvoiceServiceServer(e.Server, grpcapi.NewInvoices(s))
	})
	cl := clients{billingv1.NewLegalEntityServiceClient(env.Conn), billingv1.NewContractServiceClient(env.Conn)}
	ic := billingv1.NewInvoiceServiceClient(env.Conn)
	scopes := append([]string{"invoices:write"}, rw...)
	le := legalEntity(t, env, cl)
	var contracts []string
	for _, ext := range []string{"006A", "006B"} {
		resp, err := cl.c.UpsertContract(env.Ctx(scopes), &billingv1.UpsertContractRequest{SourceVersion: 1, Contract: contract(le, "150.00"),
			ExternalReference: &commonv1.ExternalReference{System: "salesforce", ObjectType: "Opportunity", ExternalId: ext}})
		if err != nil {
			t.Fatal(err)
		}
		contracts = append(contracts, resp.GetContract().GetContractId())
	}
	const project, task, resource = "01a2210c-0000-7000-8000-0000000000a1", "01a2210c-0000-7000-8000-0000000000b1", "01a2210c-0000-7000-8000-0000000000c1"
	ctx := env.Ctx(scopes)
	if err := uc.ApplyProject(ctx, ledger.Project{ID: project, LegalEntityID: le, ContractID: contracts[0],
		Tasks: map[string]ledger.Task{task: {Billable: true, LineKey: "L1"}}}, "PROJECT_STATUS_ACTIVE", 1); err != nil {
		t.Fatal(err)
	}
	if err := uc.ApplyCostRates(ctx, resource, "CONSULTANT", 1, []ledger.CostRate{{Rate: ledgerUSD("60.00"), From: civilDay(2026, 1, 1)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := uc.PostBatch(ctx, []ledger.Source{{Type: ledger.SourceTime, ID: "T-1", Version: 1, ResourceID: resource, ProjectID: project,
		TaskID: task, Date: civilDay(2026, 12, 7), Hours: decimal.RequireFromString("10.5"), Billable: true}}); err != nil {
		t.Fatal(err)
	}

	run := func(key string, req *billingv1.ProposeInvoicesRequest) (*billingv1.ProposeInvoicesResponse, bool, error) {
		var hdr metadata.MD
		resp, err := ic.ProposeInvoices(env.Ctx(scopes, idempotency.MetadataKey, idempotency.FormatKey(key)), req, grpc.Header(&hdr))
		return resp, len(hdr.Get(idempotency.ReplayedHeader)) > 0, err
	}
	req := &billingv1.ProposeInvoicesRequest{LegalEntityId: le, CutOff: day(2026, 12, 31)}
	first, replayed, err := run("run-1", req)
	if err != nil || replayed {
		t.Fatalf("first run: %v (replayed %v)", err, replayed)
	}
	byContract := map[string]*billingv1.ProposedInvoice{}
	for _, r := range first.GetResults() {
		byContract[r.GetContractId()] = r
	}
	if got := byContract[contracts[0]]; got.GetInvoice().GetTotal().GetAmount() != "1575.00" || got.GetLineCount() != 1 ||
		got.GetInvoice().GetStatus() != billingv1.InvoiceStatus_INVOICE_STATUS_DRAFT || len(got.GetInvoice().GetLines()) != 0 {
		t.Fatalf("contract with time: %v, want a DRAFT of 1575.00 with 1 line (lines not returned)", got)
	}
	if got := byContract[contracts[1]]; got.GetInvoice() != nil || got.GetReason() != "NOTHING_TO_BILL" {
		t.Fatalf("contract without time: %v, want NOTHING_TO_BILL", got)
	}
	if first.GetProposed() != 1 || first.GetNothingToBill() != 1 || first.GetFailed() != 0 {
		t.Fatalf("counts %d/%d/%d, want 1 proposed, 1 nothing to bill, 0 failed", first.GetProposed(), first.GetNothingToBill(), first.GetFailed())
	}

	again, replayed, err := run("run-1", req)
	if err != nil || !replayed || !proto.Equal(again, first) {
		t.Fatalf("same key: %v (replayed %v), want the first answer replayed", err, replayed)
	}
	fresh, _, err := run("run-2", req)
	if err != nil || fresh.GetProposed() != 0 || fresh.GetNothingToBill() != 2 {
		t.Fatalf("new key: %v %v, want nothing new to bill for both contracts", fresh, err)
	}
	_, _, err = run("run-1", &billingv1.ProposeInvoicesRequest{LegalEntityId: le})
	wantErr(t, err, codes.FailedPrecondition, idempotency.ReasonReused)
	_, _, err = run("run-3", &billingv1.ProposeInvoicesRequest{LegalEntityId: le, ContractIds: []string{contracts[0], "01a2210c-0000-7000-8000-0000000009ff"}})
	wantErr(t, err, codes.NotFound, "CONTRACT_NOT_FOUND")
	if n := env.Count("invoices"); n != 1 {
		t.Fatalf("%d invoices, want the first run's 1", n)
	}
}
