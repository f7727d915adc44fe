package grpcapi_test

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/internal/platform/pgstore"
	"github.com/accrue/accrue/internal/platform/servicetest"
	"github.com/accrue/accrue/services/resource/internal/app"
	"github.com/accrue/accrue/services/resource/internal/grpcapi"
	"github.com/accrue/accrue/services/resource/internal/store"
)

var rw = []string{"resources:read", "resources:write", "costrates:read", "costrates:write"}

func start(t *testing.T) (*servicetest.Env, resourcev1.ResourceServiceClient) {
	t.Parallel()
	env := servicetest.New(t, "resource", store.Migrations(), func(e *servicetest.Env) {
		st := store.New(pgstore.New(e.DB.Pool, e.Outbox, e.Queue))
		resourcev1.RegisterResourceServiceServer(e.Server, grpcapi.New(app.New(app.Deps{Store: st, Log: e.Log})))
	})
	return env, resourcev1.NewResourceServiceClient(env.Conn)
}

func wantErr(t *testing.T, err error, code codes.Code, reason string) {
	t.Helper()
	if status.Code(err) != code || grpcx.ReasonOf(err) != reason {
		t.Fatalf("got %v (reason %q), want %s / %s", err, grpcx.ReasonOf(err), code, reason)
	}
}

func input(name string) *resourcev1.ResourceInput {
	return &resourcev1.ResourceInput{Kind: resourcev1.ResourceKind_RESOURCE_KIND_EMPLOYEE, Name: name, Email: "x@example.com",
		HomeLegalEntityCode: "US01", Role: "ENGINEER",
		ExternalReferences: []*commonv1.ExternalReference{{System: "workday", ObjectType: "Worker", ExternalId: name}}}
}

func date(y, m, d int32) *commonv1.Date { return &commonv1.Date{Year: y, Month: m, Day: d} }

func TestResourcesPageAndDefaultToFortyHours(t *testing.T) {
	env, c := start(t)
	ctx := env.Ctx(rw)
	var ids []string
	for _, name := range []string{"ada", "grace", "alan"} {
		resp, err := c.UpsertResource(ctx, &resourcev1.UpsertResourceRequest{Resource: input(name)})
		if err != nil || resp.GetOutcome() != resourcev1.Outcome_OUTCOME_CREATED || resp.GetResource().GetWeeklyCapacityHours() != "40" {
			t.Fatalf("upsert %s: %v %v", name, resp, err)
		}
		ids = append(ids, resp.GetResource().GetResourceId())
	}
	var seen []string
	token := ""
	for range 3 {
		page, err := c.ListResources(ctx, &resourcev1.ListResourcesRequest{PageSize: 2, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.GetResources() {
			seen = append(seen, r.GetResourceId())
		}
		if token = page.GetNextPageToken(); token == "" {
			break
		}
	}
	if len(seen) != 3 {
		t.Fatalf("listed %v, want the 3 of %v", seen, ids)
	}
	_, err := c.ListResources(ctx, &resourcev1.ListResourcesRequest{PageToken: "garbage"})
	wantErr(t, err, codes.InvalidArgument, "INVALID_PAGE_TOKEN")
	_, err = c.GetResource(ctx, &resourcev1.GetResourceRequest{ResourceId: "01a2210c-0000-7000-8000-000000000000"})
	wantErr(t, err, codes.NotFound, "RESOURCE_NOT_FOUND")
}

func TestRatesAndUtilizationRules(t *testing.T) {
	env, c := start(t)
	ctx := env.Ctx(rw)
	res, err := c.UpsertResource(ctx, &resourcev1.UpsertResourceRequest{Resource: input("ada")})
	if err != nil {
		t.Fatal(err)
	}
	id := res.GetResource().GetResourceId()
	for _, r := range []struct {
		amount   string
		from, to *commonv1.Date
	}{{"60.00", date(2026, 1, 1), nil}, {"66.125", date(2026, 6, 1), nil}} {
		if _, err := c.SetCostRate(ctx, &resourcev1.SetCostRateRequest{ResourceId: id, Rate: &commonv1.Money{Amount: r.amount, CurrencyCode: "USD"},
			EffectiveFrom: r.from, EffectiveTo: r.to}); err != nil {
			t.Fatal(err)
		}
	}
	rates, err := c.ListCostRates(ctx, &resourcev1.ListCostRatesRequest{ResourceId: id, IncludeHistory: true})
	if err != nil || len(rates.GetCurrent()) != 2 || rates.GetCurrent()[1].GetRate().GetAmount() != "66.125" ||
		len(rates.GetHistory()) != 1 || rates.GetHistory()[0].GetSupersededTime() == nil {
		t.Fatalf("rates: %v %v", rates, err)
	}
	_, err = c.SyncWorker(ctx, &resourcev1.SyncWorkerRequest{Worker: &resourcev1.WorkerRecord{HcmSystem: "workday", WorkerId: "ada",
		Version: 1, Kind: resourcev1.ResourceKind_RESOURCE_KIND_EMPLOYEE, Name: "ada", Email: "x@example.com", HomeLegalEntityCode: "US01",
		Role: "ENGINEER", Active: true, CostRate: &commonv1.Money{Amount: "70.00", CurrencyCode: "USD"}}})
	wantErr(t, err, codes.InvalidArgument, "RATE_DATE_REQUIRED")
	_, err = c.GetUtilization(ctx, &resourcev1.GetUtilizationRequest{ResourceId: id, From: date(2026, 1, 1), To: date(2028, 3, 12)})
	wantErr(t, err, codes.InvalidArgument, "INVALID_PERIOD")
	u, err := c.GetUtilization(ctx, &resourcev1.GetUtilizationRequest{ResourceId: id, From: date(2026, 6, 1), To: date(2026, 6, 30)})
	if err != nil || len(u.GetPeriods()) != 1 || u.GetPeriods()[0].GetCapacityHours() != "176.00" || u.GetPeriods()[0].GetActualBillableHours() != "" {
		t.Fatalf("utilization: %v %v", u, err)
	}
}
