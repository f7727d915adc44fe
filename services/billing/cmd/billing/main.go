// Command billing serves Accrue's billing domain: legal entities, contracts, accounting periods,
// the double-entry ledger fed by the posting pipeline (approved time and expenses from Redis
// Streams), invoice candidates and exchange rates. It keeps replicas of projects and cost rates
// from events so posting never calls another service. `billing migrate` applies migrations.
package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	customerv1 "github.com/accrue/accrue/gen/go/accrue/customer/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/config"
	"github.com/accrue/accrue/internal/platform/insight"
	"github.com/accrue/accrue/internal/platform/lifecycle"
	"github.com/accrue/accrue/internal/platform/service"
	"github.com/accrue/accrue/internal/platform/stream"
	"github.com/accrue/accrue/services/billing/internal/app"
	"github.com/accrue/accrue/services/billing/internal/events"
	"github.com/accrue/accrue/services/billing/internal/grpcapi"
	"github.com/accrue/accrue/services/billing/internal/receivable"
	"github.com/accrue/accrue/services/billing/internal/store"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

var (
	rejectedClosed = prometheus.NewGauge(prometheus.GaugeOpts{Name: "accrue_postings_rejected_closed_period",
		Help: "Entries whose posting was rejected because their period is closed."})
	parkedRates = prometheus.NewGauge(prometheus.GaugeOpts{Name: "accrue_postings_parked_rate_missing",
		Help: "Entries parked until a cost or bill rate (or exchange rate) arrives."})
	awaitingSupplier = prometheus.NewGauge(prometheus.GaugeOpts{Name: "accrue_supplier_cost_awaiting_allocation",
		Help: "Supplier bill lines recorded and not allocated yet (parked ones included)."})
	blockedTax = prometheus.NewGauge(prometheus.GaugeOpts{Name: "accrue_invoices_blocked_tax",
		Help: "Invoice drafts blocked by missing tax data of their customer (BLOCKED_TAX)."})
	arOutstanding = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "accrue_ar_outstanding",
		Help: "Open receivables (functional currency) by aging bucket of their instalments' due dates: current, 1-30, 31-60, 61-90, over-90."},
		[]string{"currency", "bucket"})
	unbilledAmount = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "accrue_unbilled_amount",
		Help: "Unbilled amount of open invoice candidates (time and expenses) less what live invoices bill, by currency."},
		[]string{"currency"})
	lossContracts = prometheus.NewGauge(prometheus.GaugeOpts{Name: "accrue_loss_contracts",
		Help: "Contracts flagged as loss contracts by revenue recognition (estimate at completion above the price)."})
)

func main() { service.Main(run) }

func run(ctx context.Context, migrateOnly bool) error {
	r := config.FromEnv()
	cfg := service.LoadConfig(r, "billing", service.Defaults{GRPCAddr: "127.0.0.1:7005", MetricsAddr: "127.0.0.1:9105", Database: "accrue_billing"})
	// Posting events carry up to 1,000 entries each: a few per batch keep transactions bounded.
	postingBatch := r.Int("ACCRUE_POSTING_BATCH_EVENTS", 4)
	sweep := r.Duration("ACCRUE_PARKED_SWEEP_INTERVAL", 30*time.Second)
	base, err := service.Boot(ctx, r, cfg, migrateOnly, store.Migrations(), append(append(app.Collectors(), app.SupplierCostCollectors()...), rejectedClosed, parkedRates, awaitingSupplier, blockedTax, arOutstanding, unbilledAmount, lossContracts)...)
	if base == nil || err != nil {
		return err
	}
	st := store.New(base.Pool, base.Outbox, base.Queue)
	if err := st.SeedAllAccounts(ctx); err != nil {
		return err
	}
	// Contract versions kept as the public proto (before the store had its own row format).
	converted, err := st.ConvertLegacySnapshots(ctx, wire.ContractSnapshot)
	if err != nil {
		return err
	}
	if converted > 0 {
		base.Log.InfoContext(ctx, "contract versions converted to the store's row format", "versions", converted)
	}
	uc := app.New(st, base.Queue, base.Log)
	// Approved entries arrive as one event per timesheet or import batch: no linger.
	if _, err := base.Consume(timeexpensev1.EventStream, events.PostingTypes, events.Postings(uc), service.NoLinger,
		func(c *stream.Config) { c.BatchSize = postingBatch }); err != nil {
		return err
	}
	// Allocation workers: their own consumer group on billing's stream, scaled apart from posting.
	if _, err := base.Consume(billingv1.EventStream, events.AllocationTypes, events.Allocations(uc),
		func(c *stream.Config) { c.Group = events.AllocationGroup }); err != nil {
		return err
	}
	if _, err := base.Consume(projectv1.EventStream, events.ProjectTypes, events.Projects(uc)); err != nil {
		return err
	}
	if _, err := base.Consume(resourcev1.EventStream, events.ResourceTypes, events.Resources(uc)); err != nil {
		return err
	}
	if _, err := base.Consume(customerv1.EventStream, events.CustomerTypes, events.Customers(uc)); err != nil {
		return err
	}
	srv := grpcapi.New(uc)
	billingv1.RegisterLegalEntityServiceServer(base.GRPC, srv)
	billingv1.RegisterContractServiceServer(base.GRPC, srv)
	billingv1.RegisterLedgerServiceServer(base.GRPC, grpcapi.NewLedger(srv))
	billingv1.RegisterInvoiceServiceServer(base.GRPC, grpcapi.NewInvoices(srv))
	billingv1.RegisterPaymentServiceServer(base.GRPC, grpcapi.NewPayments(srv))
	billingv1.RegisterJournalExportServiceServer(base.GRPC, grpcapi.NewJournalExport(srv))
	billingv1.RegisterSupplierCostServiceServer(base.GRPC, grpcapi.NewSupplierCost(srv))
	billingv1.RegisterRevenueServiceServer(base.GRPC, grpcapi.NewRevenue(srv))
	base.Add(lifecycle.Every(sweep, uc.Sweep), lifecycle.Every(5*time.Second, func(ctx context.Context) {
		if rejected, parked, err := uc.GaugeKPIs(ctx); err == nil {
			rejectedClosed.Set(float64(rejected))
			parkedRates.Set(float64(parked))
		}
		if n, err := uc.SupplierCostAwaiting(ctx); err == nil {
			awaitingSupplier.Set(float64(n))
		}
		if n, err := uc.BlockedTaxCount(ctx); err == nil {
			blockedTax.Set(float64(n))
		}
		if n, err := uc.LossContractCount(ctx); err == nil {
			lossContracts.Set(float64(n))
		}
	}), lifecycle.Every(time.Minute, func(ctx context.Context) {
		ar, unbilled, err := uc.ReceivableGauges(ctx)
		if err != nil {
			return
		}
		for cur, b := range ar {
			for _, name := range receivable.BucketNames {
				arOutstanding.WithLabelValues(cur, name).Set(b[name].InexactFloat64())
			}
		}
		for cur, v := range unbilled {
			unbilledAmount.WithLabelValues(cur).Set(v.InexactFloat64())
		}
	}))
	base.Insight.AddTraceHook(st.TraceRecords)
	base.Insight.AddKpiSource(func(ctx context.Context) ([]insight.KpiValue, error) {
		return st.ConsoleKPIs(ctx, auth.EntitiesOf(ctx).Filter())
	})
	return base.Run(ctx)
}
