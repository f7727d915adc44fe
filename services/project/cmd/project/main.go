// Command project serves accrue.project.v1.ProjectService: projects, tasks, templates and the
// conversion of won CRM opportunities (calling the customer and billing services), and keeps the
// project service's replicas (customer directory, legal entities) up to date from events.
// `project migrate` applies migrations and exits.
package main

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	customerv1 "github.com/accrue/accrue/gen/go/accrue/customer/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	"github.com/accrue/accrue/internal/platform/config"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/internal/platform/insight"
	"github.com/accrue/accrue/internal/platform/lifecycle"
	"github.com/accrue/accrue/internal/platform/pgstore"
	"github.com/accrue/accrue/internal/platform/service"
	"github.com/accrue/accrue/services/project/internal/app"
	"github.com/accrue/accrue/services/project/internal/events"
	"github.com/accrue/accrue/services/project/internal/grpcapi"
	"github.com/accrue/accrue/services/project/internal/store"
)

var awaitingActivation = prometheus.NewGauge(prometheus.GaugeOpts{
	Name: "accrue_projects_awaiting_financial_activation",
	Help: "Projects in PENDING_FINANCIAL_ACTIVATION (waiting for their contract).",
})

func main() { service.Main(run) }

func run(ctx context.Context, migrateOnly bool) error {
	r := config.FromEnv()
	cfg := service.LoadConfig(r, "project", service.Defaults{GRPCAddr: "127.0.0.1:7002", MetricsAddr: "127.0.0.1:9102", Database: "accrue_project"})
	customerAddr := r.String("ACCRUE_CUSTOMER_ADDR", "127.0.0.1:7001")
	billingAddr := r.String("ACCRUE_BILLING_ADDR", "127.0.0.1:7005")
	callTimeout := r.Duration("ACCRUE_CALL_TIMEOUT", 5*time.Second)
	retryAfter := r.Duration("ACCRUE_ACTIVATION_RETRY_AFTER", 2*time.Second)
	financialsWindow := r.Duration("ACCRUE_FINANCIALS_EVENT_WINDOW", 5*time.Minute)
	base, err := service.Boot(ctx, r, cfg, migrateOnly, store.Migrations(), awaitingActivation)
	if base == nil || err != nil {
		return err
	}
	customerConn, err := grpcx.Dial(customerAddr, cfg.TokenSource(), grpcx.Transport(base.ClientTLS))
	if err != nil {
		return err
	}
	defer customerConn.Close()
	billingConn, err := grpcx.Dial(billingAddr, cfg.TokenSource(), grpcx.Transport(base.ClientTLS))
	if err != nil {
		return err
	}
	defer billingConn.Close()

	st := store.New(pgstore.New(base.Pool, base.Outbox, base.Queue))
	uc := app.New(st, app.Deps{Customers: customerv1.NewCustomerServiceClient(customerConn),
		Contracts: billingv1.NewContractServiceClient(billingConn), LegalEntities: billingv1.NewLegalEntityServiceClient(billingConn), Log: base.Log,
		CallTimeout: callTimeout, ActivationRetryAfter: retryAfter, FinancialsEventWindow: financialsWindow})
	base.Queue.Handle(app.KindActivation, uc.RetryActivation)

	if _, err := base.Consume(customerv1.EventStream, events.CustomerDirectoryTypes, events.CustomerDirectory(uc, base.Log)); err != nil {
		return err
	}
	if _, err := base.Consume(billingv1.EventStream, events.BillingTypes, events.Billing(uc, base.Log)); err != nil {
		return err
	}
	if _, err := base.Consume(resourcev1.EventStream, events.StaffingPlanTypes, events.StaffingPlans(uc)); err != nil {
		return err
	}
	projectv1.RegisterProjectServiceServer(base.GRPC, grpcapi.New(uc))
	base.Add(lifecycle.Every(5*time.Second, func(ctx context.Context) {
		if n, err := uc.AwaitingActivation(ctx); err == nil {
			awaitingActivation.Set(float64(n))
		}
	}))
	// project.financials_changed leaves when its window has passed: look for due projects a few
	// times per window (at least every second, at most every 30s).
	base.Add(lifecycle.Every(min(max(financialsWindow/4, time.Second), 30*time.Second), func(ctx context.Context) {
		for {
			n, err := uc.PublishDueFinancials(ctx, time.Now(), 100)
			if err != nil {
				base.Log.WarnContext(ctx, "project.financials_changed flush failed", "err", err)
			}
			if err != nil || n < 100 {
				return
			}
		}
	}))
	base.Insight.AddTraceHook(st.TraceRecords)
	base.Insight.AddKpiSource(func(ctx context.Context) ([]insight.KpiValue, error) {
		n, err := uc.AwaitingActivation(ctx)
		if err != nil {
			return nil, err
		}
		return []insight.KpiValue{{KPI: "projects_awaiting_financial_activation", Value: strconv.FormatInt(n, 10)}}, nil
	})
	return base.Run(ctx)
}
