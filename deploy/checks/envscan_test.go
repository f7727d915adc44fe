package checks_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/accrue/accrue/deploy/checks"
)

// The scan drives every environment check, so its reading of the code is pinned by a few facts
// that hold as long as the services are configured the way ARCHITECTURE.md describes.
func TestEnvScanReadsTheCode(t *testing.T) {
	t.Parallel()
	progs := programs(t)
	for name, p := range progs {
		t.Logf("%s requires %s", name, strings.Join(p.Required(), " "))
		for _, k := range p.Required() {
			t.Logf("  %s: %s (%s)", k, p.Env[k].Why, p.Env[k].Pos)
		}
	}
	services, err := checks.Deployables(root(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(services) < 6 {
		t.Fatalf("services = %v", services)
	}
	for _, s := range services {
		req := progs[s].Required()
		for _, k := range []string{"ACCRUE_DATABASE_URL", "ACCRUE_REDIS_ADDR", "ACCRUE_GRPC_ADDR", "ACCRUE_METRICS_ADDR"} {
			if !slices.Contains(req, k) {
				t.Errorf("%s: %s not found required (required: %v)", s, k, req)
			}
		}
		if v, ok := progs[s].Env["ACCRUE_LOG_LEVEL"]; !ok || v.Required {
			t.Errorf("%s: ACCRUE_LOG_LEVEL = %+v, want read and optional", s, v)
		}
		if _, ok := progs["gateway"].Env["ACCRUE_"+strings.ToUpper(s)+"_ADDR"]; !ok {
			t.Errorf("gateway: no upstream address for %s", s)
		}
	}
	if !slices.Contains(progs["project"].Required(), "ACCRUE_BILLING_ADDR") {
		t.Error("project: its billing address is not required")
	}
}
