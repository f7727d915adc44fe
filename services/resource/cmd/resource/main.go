// Command resource serves Accrue's resource domain: resources, effective-dated cost rates, HCM
// worker sync, assignments with their costed plans, and utilization. It keeps a replica of
// projects (from project events) and the hours the ledger posted (from billing events).
// `resource migrate` applies migrations and exits.
package main

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	"github.com/accrue/accrue/internal/platform/config"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/insight"
	"github.com/accrue/accrue/internal/platform/lifecycle"
	"github.com/accrue/accrue/internal/platform/pgstore"
	"github.com/accrue/accrue/internal/platform/service"
	"github.com/accrue/accrue/services/resource/internal/app"
	"github.com/accrue/accrue/services/resource/internal/events"
	"github.com/accrue/accrue/services/resource/internal/grpcapi"
	"github.com/accrue/accrue/services/resource/internal/store"
)

var missingRates = prometheus.NewGauge(prometheus.GaugeOpts{
	Name: "accrue_assignments_missing_cost_rates",
	Help: "Active assignments planned on days without a cost rate (RATE_MISSING_FOR_DATE).",
})

func main() { service.Main(run) }

func run(ctx context.Context, migrateOnly bool) error {
	r := config.FromEnv()
	cfg := service.LoadConfig(r, "resource", service.Defaults{GRPCAddr: "127.0.0.1:7003", MetricsAddr: "127.0.0.1:9103", Database: "accrue_resource"})
	overbooking := r.OneOf("ACCRUE_OVERBOOKING", app.OverbookingWarn, app.OverbookingWarn, app.OverbookingReject)
	base, err := service.Boot(ctx, r, cfg, migrateOnly, store.Migrations(), missingRates)
	if base == nil || err != nil {
		return err
	}
	st := store.New(pgstore.New(base.Pool, base.Outbox, base.Queue))
	uc := app.New(app.Deps{Store: st, Log: base.Log, Overbooking: overbooking})
	base.Queue.Handle(app.KindCosting, func(ctx context.Context, e exceptions.Exception) error {
		return uc.RetryCosting(ctx, e.EntityID)
	})
	if _, err := base.Consume(projectv1.EventStream, events.ProjectTypes, events.Projects(uc)); err != nil {
		return err
	}
	// Posting answers arrive as one event per posting batch: no linger.
	if _, err := base.Consume(billingv1.EventStream, events.PostingTypes, events.Postings(uc), service.NoLinger); err != nil {
		return err
	}
	srv := grpcapi.New(uc)
	resourcev1.RegisterResourceServiceServer(base.GRPC, srv)
	resourcev1.RegisterAssignmentServiceServer(base.GRPC, srv)
	base.Add(lifecycle.Every(5*time.Second, func(ctx context.Context) {
		if n, err := uc.RateMissingCount(ctx); err == nil {
			missingRates.Set(float64(n))
		}
	}))
	base.Insight.AddKpiSource(func(ctx context.Context) ([]insight.KpiValue, error) {
		n, err := uc.RateMissingCount(ctx)
		if err != nil {
			return nil, err
		}
		return []insight.KpiValue{{KPI: "assignments_missing_cost_rates", Value: strconv.FormatInt(n, 10)}}, nil
	})
	return base.Run(ctx)
}
