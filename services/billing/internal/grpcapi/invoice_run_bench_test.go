package grpcapi_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/idempotency"
	"github.com/accrue/accrue/internal/platform/servicetest"
	"github.com/accrue/accrue/services/billing/internal/app"
	"github.com/accrue/accrue/services/billing/internal/grpcapi"
	"github.com/accrue/accrue/services/billing/internal/store"
)

// BenchmarkInvoiceRun runs billing for one legal entity with ACCRUE_BENCH_INVOICE_CONTRACTS
// (default 2,000) contracts holding ACCRUE_BENCH_INVOICE_CANDIDATES (default 100,000) unbilled
// candidates between them (seeded with one INSERT … SELECT, not the API; contracts through
// UpsertContract): one ProposeInvoices call over gRPC with the billing server in this process,
// which proposes one draft per contract (app.RunChunk contracts per transaction). It reports
// invoices/s and candidates/s beside the run's pgbench single-row insert and redis XADD ceilings
// and the ratio, and fails unless every contract got one draft billing all its candidates.
//
//	GOTOOLCHAIN=go1.27.3 go test -run '^$' -bench InvoiceRun -benchtime 1x -timeout 30m ./services/billing/internal/grpcapi/
func BenchmarkInvoiceRun(b *testing.B) {
	contracts, candidates := 2000, 100_000
	if v, err := strconv.Atoi(os.Getenv("ACCRUE_BENCH_INVOICE_CONTRACTS")); err == nil && v > 0 {
		contracts = v
	}
	if v, err := strconv.Atoi(os.Getenv("ACCRUE_BENCH_INVOICE_CANDIDATES")); err == nil && v > 0 {
		candidates = v
	}
	env := servicetest.New(b, "billing", store.Migrations(), func(e *servicetest.Env) {
		s := grpcapi.New(app.New(store.New(e.DB.Pool, e.Outbox, e.Queue), e.Queue, e.Log))
		billingv1.RegisterLegalEntityServiceServer(e.Server, s)
		billingv1.RegisterContractServiceServer(e.Server, s)
		billingv1.RegisterInvoiceServiceServer(e.Server, grpcapi.NewInvoices(s))
	})
	scopes := []string{"billing:write", "billing:read", "invoices:write", "invoices:read"}
	le, err := billingv1.NewLegalEntityServiceClient(env.Conn).CreateLegalEntity(env.Ctx(scopes), &billingv1.CreateLegalEntityRequest{
		LegalEntity: &billingv1.LegalEntityInput{Code: "US01", Name: "Accrue US01", FunctionalCurrency: "USD", CountryCode: "US",
			ClosedPeriodPolicy: billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT}})
	if err != nil {
		b.Fatal(err)
	}
	leID := le.GetLegalEntity().GetLegalEntityId()
	cc := billingv1.NewContractServiceClient(env.Conn)
	ids := make([]string, contracts)
	for i := range ids {
		ref := &commonv1.ExternalReference{System: "salesforce", ObjectType: "Opportunity", ExternalId: fmt.Sprintf("006-%d", i)}
		resp, err := cc.UpsertContract(env.Ctx(scopes), &billingv1.UpsertContractRequest{ExternalReference: ref, SourceVersion: 1,
			Contract: contract(leID, "150.00")})
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = resp.GetContract().GetContractId()
	}
	// Candidates i of contract i % contracts: 0.25–10 h at 150.00, dated in December 2026.
	if _, err := env.DB.Pool.Exec(context.Background(), `INSERT INTO invoice_candidates (id, project_id, contract_id, line_key, source_type,
			source_id, source_version, source_date, quantity, unit_price, amount, currency_code, resource_id, role, task_id, wip_amount)
		SELECT md5('cand' || i)::uuid, md5('proj' || (i % $2))::uuid, ($1::uuid[])[1 + i % $2], 'L1', 'time_entry', 'T-' || i, 1,
			DATE '2026-12-01' + (i % 28), q, 150.00, q * 150.00, 'USD', 'r' || (i % 7), 'CONSULTANT', '', q * 150.00
		FROM generate_series(0, $3 - 1) AS i, LATERAL (SELECT ((i % 40) + 1) * 0.25 AS q) x`, ids, contracts, candidates); err != nil {
		b.Fatal(err)
	}
	if _, err := env.DB.Pool.Exec(context.Background(), `ANALYZE invoice_candidates`); err != nil {
		b.Fatal(err)
	}
	pgCeil, redisCeil := exportCeilings(b, env)
	ic := billingv1.NewInvoiceServiceClient(env.Conn)
	ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+env.Token(scopes...),
		idempotency.MetadataKey, idempotency.FormatKey("bench-invoice-run")),
		10*time.Minute)
	defer cancel()

	var rate, lineRate float64
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		// Up to December: each contract's fixed fee (from March 2027) stays off.
		resp, err := ic.ProposeInvoices(ctx, &billingv1.ProposeInvoicesRequest{LegalEntityId: leID, CutOff: day(2026, 12, 31)})
		took := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		lines := 0
		for _, r := range resp.GetResults() {
			lines += int(r.GetLineCount())
		}
		if resp.GetProposed() != int32(contracts) || lines != candidates {
			b.Fatalf("%d drafts (%d failed) with %d lines, want %d with one line per candidate (%d)", resp.GetProposed(), resp.GetFailed(),
				lines, contracts, candidates)
		}
		rate, lineRate = float64(contracts)/took.Seconds(), float64(candidates)/took.Seconds()
	}
	b.ReportMetric(rate, "invoices/s")
	b.ReportMetric(lineRate, "candidates/s")
	b.ReportMetric(pgCeil, "ceiling-pg-inserts/s")
	b.ReportMetric(redisCeil, "ceiling-redis-xadd/s")
	if pgCeil > 0 {
		b.ReportMetric(lineRate/pgCeil, "ratio-candidates-per-pg-insert")
	}
}
