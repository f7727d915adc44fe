package main

import (
	"strings"
	"testing"
)

func TestViolation(t *testing.T) {
	const (
		pgx      = "github.com/jackc/pgx/v5"
		pgxpool  = "github.com/jackc/pgx/v5/pgxpool"
		grpc     = "google.golang.org/grpc"
		billGen  = repo + "gen/go/accrue/billing/v1"
		platPg   = repo + "internal/platform/pg"
		platFlt  = repo + "internal/platform/fault"
		billing  = repo + "services/billing"
		customer = repo + "services/customer"
	)
	for _, c := range []struct {
		pkg, imp string
		test     bool
		want     string // a word of the rule, "" for allowed
	}{
		// domain packages: no pgx, no grpc, no generated code, no other layer of their service
		{billing + "/internal/ledger", pgx, false, "domain package imports pgx"},
		// test-support packages (billingtest) wire real stores: only the cross-service rule
		{billing + "/internal/billingtest", pgx, false, ""},
		{billing + "/internal/ledger", platPg, false, "exposes it"},
		{billing + "/internal/ledger/sub", grpc + "/status", false, "imports grpc"},
		{billing + "/internal/ledger", billGen, false, "generated code"},
		{billing + "/internal/ledger", billing + "/internal/store", false, "imports store"},
		{billing + "/internal/ledger", billing + "/internal/wire", false, "imports wire"},
		{billing + "/internal/ledger", platFlt, false, ""},
		{billing + "/internal/ledger", "github.com/shopspring/decimal", false, ""},
		{billing + "/internal/ledger", pgx, true, ""}, // the layer rules bind production code
		// app
		{billing + "/internal/app", pgxpool, false, "app package imports pgx"},
		{billing + "/internal/app", platPg, false, "app package imports pgx"},
		{billing + "/internal/app", billing + "/internal/store", false, "imports the store"},
		{billing + "/internal/app", billing + "/internal/ledger", false, ""},
		{billing + "/internal/app", billing + "/internal/wire", false, ""},
		{billing + "/internal/app", billGen, false, ""},
		{billing + "/internal/app", repo + "internal/platform/outbox", false, ""},
		// transports
		{billing + "/internal/grpcapi", billing + "/internal/store", false, "transport imports the store"},
		{billing + "/internal/events", pgx, false, "transport imports pgx"},
		{billing + "/internal/events", billing + "/internal/app", false, ""},
		{billing + "/internal/grpcapi", grpc, false, ""},
		// store
		{billing + "/internal/store", billGen, false, "store imports generated code"},
		{billing + "/internal/store", billing + "/internal/wire", false, "store imports wire"},
		{billing + "/internal/store", pgx, false, ""},
		// wiring and wire
		{billing + "/cmd/billing", billing + "/internal/store", false, ""},
		{billing + "/cmd/billing", pgxpool, false, ""},
		{billing + "/internal/wire", billGen, false, ""},
		// between modules, tests included
		{billing + "/internal/app", customer + "/internal/wire", false, "another service"},
		{billing + "/internal/app", customer + "/internal/wire", true, "another service"},
		{repo + "internal/platform/stream", billing + "/internal/ledger", true, "platform imports a service"},
		{repo + "gateway/internal/gateway", customer, false, "gateway imports a service"},
		{repo + "e2e", billing + "/internal/wire", true, "black-box"},
		{repo + "gateway/internal/gateway", billGen, false, ""},
		{repo + "internal/platform/stream", pgx, false, ""},
	} {
		got := violation(c.pkg, c.imp, c.test)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("violation(%s → %s, test=%v) = %q, want %q", short(c.pkg), short(c.imp), c.test, got, c.want)
		}
	}
}

func TestPackageViolationsNamesPackageAndImport(t *testing.T) {
	p := listed{ImportPath: repo + "services/project/internal/project", Imports: []string{"fmt", "github.com/jackc/pgx/v5"},
		XTestImports: []string{repo + "services/billing/internal/wire"}}
	got := packageViolations(p)
	want := []string{
		"services/project/internal/project → github.com/jackc/pgx/v5: a domain package imports pgx",
		"services/project/internal/project (tests) → services/billing/internal/wire: a service imports another service (use its generated client)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("packageViolations =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
