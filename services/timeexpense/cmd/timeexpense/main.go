// Command timeexpense serves the timeexpense domain of Accrue. `timeexpense migrate` applies migrations and exits.
package main

import (
	"context"

	"github.com/accrue/accrue/internal/platform/config"
	"github.com/accrue/accrue/internal/platform/service"
)

func main() { service.Main(run) }

func run(ctx context.Context, migrateOnly bool) error {
	r := config.FromEnv()
	cfg := service.LoadConfig(r, "timeexpense", service.Defaults{GRPCAddr: "127.0.0.1:7004", MetricsAddr: "127.0.0.1:9104", Database: "accrue_timeexpense"})
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
