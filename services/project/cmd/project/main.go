// Command project serves accrue.project.v1.ProjectService and keeps the project service's
// replicas (customer directory) up to date from events. `project migrate` applies migrations.
package main

import (
	"context"

	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/internal/platform/config"
	"github.com/accrue/accrue/internal/platform/service"
	"github.com/accrue/accrue/internal/platform/stream"
	"github.com/accrue/accrue/services/project/internal/events"
	"github.com/accrue/accrue/services/project/internal/grpcapi"
	"github.com/accrue/accrue/services/project/internal/store"
)

func main() { service.Main(run) }

func run(ctx context.Context, migrateOnly bool) error {
	r := config.FromEnv()
	cfg := service.LoadConfig(r, "project", service.Defaults{GRPCAddr: "127.0.0.1:7002", MetricsAddr: "127.0.0.1:9102", Database: "accrue_project"})
	consumer := stream.Config{
		Stream:        events.CustomerStream,
		BatchSize:     r.Int("ACCRUE_CONSUMER_BATCH_SIZE", 256),
		Block:         r.Duration("ACCRUE_CONSUMER_BLOCK", 0),
		ClaimMinIdle:  r.Duration("ACCRUE_CONSUMER_CLAIM_MIN_IDLE", 0),
		MaxDeliveries: int64(r.Int("ACCRUE_CONSUMER_MAX_DELIVERIES", 0)),
	}
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
	if _, err := base.Consumer(consumer, events.CustomerDirectory(base.Log)); err != nil {
		return err
	}
	projectv1.RegisterProjectServiceServer(base.GRPC, grpcapi.New(base.Pool))
	return base.Run(ctx)
}
