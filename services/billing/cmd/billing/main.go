// Command billing serves Accrue's billing domain: legal entities, contracts (and, with later
// workflows, periods, the ledger, invoices and payments). `billing migrate` applies migrations.
package main

import (
	"context"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/config"
	"github.com/accrue/accrue/internal/platform/service"
	"github.com/accrue/accrue/services/billing/internal/app"
	"github.com/accrue/accrue/services/billing/internal/grpcapi"
	"github.com/accrue/accrue/services/billing/internal/store"
)

func main() { service.Main(run) }

func run(ctx context.Context, migrateOnly bool) error {
	r := config.FromEnv()
	cfg := service.LoadConfig(r, "billing", service.Defaults{GRPCAddr: "127.0.0.1:7005", MetricsAddr: "127.0.0.1:9105", Database: "accrue_billing"})
	if err := r.Err(); err != nil {
		return err
	}
	if migrateOnly {
		return service.MigrateOnly(ctx, cfg, store.Migrations())
	}
	base, err := service.Start(ctx, cfg, store.Migrations())
	if err != nil {
		return err
	}
	srv := grpcapi.New(app.New(base.Pool, base.Outbox))
	billingv1.RegisterLegalEntityServiceServer(base.GRPC, srv)
	billingv1.RegisterContractServiceServer(base.GRPC, srv)
	return base.Run(ctx)
}
