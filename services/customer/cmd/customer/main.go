// Command customer serves accrue.customer.v1.CustomerService: customers, their hierarchy, tax
// profiles and cross-system references. `customer migrate` applies the migrations and exits.
package main

import (
	"context"

	customerv1 "github.com/accrue/accrue/gen/go/accrue/customer/v1"
	"github.com/accrue/accrue/internal/platform/config"
	"github.com/accrue/accrue/internal/platform/pgstore"
	"github.com/accrue/accrue/internal/platform/service"
	"github.com/accrue/accrue/services/customer/internal/app"
	"github.com/accrue/accrue/services/customer/internal/grpcapi"
	"github.com/accrue/accrue/services/customer/internal/store"
)

func main() { service.Main(run) }

func run(ctx context.Context, migrateOnly bool) error {
	r := config.FromEnv()
	cfg := service.LoadConfig(r, "customer", service.Defaults{GRPCAddr: "127.0.0.1:7001", MetricsAddr: "127.0.0.1:9101", Database: "accrue_customer"})
	base, err := service.Boot(ctx, r, cfg, migrateOnly, store.Migrations())
	if base == nil || err != nil {
		return err
	}
	st := store.New(pgstore.New(base.Pool, base.Outbox, base.Queue))
	customerv1.RegisterCustomerServiceServer(base.GRPC, grpcapi.New(app.New(st)))
	return base.Run(ctx)
}
