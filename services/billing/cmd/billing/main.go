// Command billing serves the billing domain of Accrue. `billing migrate` applies migrations and exits.
package main

import (
	"context"

	"github.com/accrue/accrue/internal/platform/config"
	"github.com/accrue/accrue/internal/platform/service"
)

func main() { service.Main(run) }

func run(ctx context.Context, migrateOnly bool) error {
	r := config.FromEnv()
	cfg := service.LoadConfig(r, "billing", service.Defaults{GRPCAddr: "127.0.0.1:7005", MetricsAddr: "127.0.0.1:9105", Database: "accrue_billing"})
	if err := r.Err(); err != nil {
		return err
	}
	if migrateOnly {
		return service.MigrateOnly(ctx, cfg, nil)
	}
	base, err := service.Start(ctx, cfg, nil)
	if err != nil {
		return err
	}
	return base.Run(ctx)
}
