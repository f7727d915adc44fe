// Command timeexpense serves Accrue's time & expense domain: time entries and expenses on weekly
// timesheets, their approval, corrections and the bulk import of approved entries. It keeps
// replicas of resources (resource events), of projects (project events), of legal entities' closed-period policies and period
// statuses, and the ledger's posting answers (billing events). `timeexpense migrate` applies
// migrations and exits.
package main

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/config"
	"github.com/accrue/accrue/internal/platform/insight"
	"github.com/accrue/accrue/internal/platform/lifecycle"
	"github.com/accrue/accrue/internal/platform/service"
	"github.com/accrue/accrue/services/timeexpense/internal/app"
	"github.com/accrue/accrue/services/timeexpense/internal/events"
	"github.com/accrue/accrue/services/timeexpense/internal/grpcapi"
	"github.com/accrue/accrue/services/timeexpense/internal/store"
	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
)

// The closed-period KPI, by where the entries were refused (te.RefusedAtRecordTime,
// te.RejectedAtPosting).
var (
	rejectedClosedPeriod = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "accrue_timesheets_rejected_closed_period",
		Help: "Distinct (resource, ISO week) with entries refused because their period was closed, by where: record_time (refused when recorded) or posting (rejected by the ledger).",
	}, []string{"where"})
	entriesRejectedClosedPeriod = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "accrue_entries_rejected_closed_period",
		Help: "Time entries and expenses refused because their period was closed, by where: record_time or posting.",
	}, []string{"where"})
)

func main() { service.Main(run) }

func run(ctx context.Context, migrateOnly bool) error {
	r := config.FromEnv()
	cfg := service.LoadConfig(r, "timeexpense", service.Defaults{GRPCAddr: "127.0.0.1:7004", MetricsAddr: "127.0.0.1:9104", Database: "accrue_timeexpense"})
	collectors := append(app.Collectors(), rejectedClosedPeriod, entriesRejectedClosedPeriod)
	base, err := service.Boot(ctx, r, cfg, migrateOnly, store.Migrations(), collectors...)
	if base == nil || err != nil {
		return err
	}
	st := store.New(base.Pool, base.Outbox, base.Queue)
	uc := app.New(st)
	base.Insight.AddTraceHook(st.TraceRecords)
	base.Insight.AddKpiSource(func(ctx context.Context) ([]insight.KpiValue, error) {
		k, err := uc.ClosedPeriodKPIs(ctx)
		if err != nil {
			return nil, err
		}
		return []insight.KpiValue{{KPI: "timesheets_rejected_closed_period", Value: strconv.FormatInt(k.Total.Timesheets, 10)}}, nil
	})
	if _, err := base.Consume(projectv1.EventStream, events.ProjectTypes, events.Projects(uc)); err != nil {
		return err
	}
	if _, err := base.Consume(resourcev1.EventStream, events.ResourceTypes, events.Resources(uc)); err != nil {
		return err
	}
	// Posting answers arrive as one event per posting batch: no linger.
	if _, err := base.Consume(billingv1.EventStream, events.BillingTypes, events.Billing(uc), service.NoLinger); err != nil {
		return err
	}
	timeexpensev1.RegisterTimeExpenseServiceServer(base.GRPC, grpcapi.New(uc))
	base.Add(lifecycle.Every(5*time.Second, func(ctx context.Context) {
		if k, err := uc.ClosedPeriodKPIs(ctx); err == nil {
			for where, c := range map[string]te.ClosedPeriodCount{te.RefusedAtRecordTime: k.RecordTime, te.RejectedAtPosting: k.Posting} {
				rejectedClosedPeriod.WithLabelValues(where).Set(float64(c.Timesheets))
				entriesRejectedClosedPeriod.WithLabelValues(where).Set(float64(c.Entries))
			}
		}
	}))
	return base.Run(ctx)
}
