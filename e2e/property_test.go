package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/accrue/accrue/e2e/internal/harness"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
)

// propertyRequestsPerRoute is how many requests the property test sends to each REST route (a
// third plausible, the rest with something hostile); ACCRUE_PROPERTY_REQUESTS overrides it.
const propertyRequestsPerRoute = 12

var allScopes = []string{"customers:read", "customers:write", "projects:read", "projects:write", "resources:read",
	"resources:write", "costrates:read", "costrates:write", "time:read", "time:write", "time:approve",
	"billing:read", "billing:write", "ops:read", "ops:write"}

var serviceDBs = []string{"customer", "project", "resource", "timeexpense", "billing"}

// TestRESTPropertyNever5xxNothingWrittenOn4xx sends generated requests to every REST route of the
// gateway's OpenAPI document: plausible bodies and bodies with one hostile field (boundary
// values, control characters, huge numbers, the wrong JSON type), hostile path and query
// parameters, and hostile whole bodies. No answer may be a 5xx, and an answer in 4xx must have
// written nothing in any service: no outbox event, audit record or exception carrying the
// request's correlation id, and no stored Idempotency-Key; a 4xx is a problem document, and a
// VALIDATION_FAILED one names the fields at fault. The seed is printed (and taken from
// ACCRUE_PROPERTY_SEED) so that a failure can be replayed.
func TestRESTPropertyNever5xxNothingWrittenOn4xx(t *testing.T) {
	t.Parallel()
	env := harness.Start(t, harness.WithEnv(harness.Gateway, "ACCRUE_RATE_LIMIT_CLIENT_RPS", "100000"),
		harness.WithEnv(harness.Gateway, "ACCRUE_RATE_LIMIT_CLIENT_BURST", "100000"))
	seed := uint64(20261203)
	if v, err := strconv.ParseUint(os.Getenv("ACCRUE_PROPERTY_SEED"), 10, 64); err == nil {
		seed = v
	}
	perRoute := propertyRequestsPerRoute
	if v, err := strconv.Atoi(os.Getenv("ACCRUE_PROPERTY_REQUESTS")); err == nil && v > 0 {
		perRoute = v
	}
	st, _, raw := env.Do(http.MethodGet, "/openapi.json", nil, nil)
	if st != http.StatusOK {
		t.Fatalf("GET /openapi.json: %d", st)
	}
	var sp spec
	if err := json.Unmarshal(raw, &sp); err != nil {
		t.Fatal(err)
	}
	routes := sp.routes()
	if len(routes) < 50 {
		t.Fatalf("the OpenAPI document lists %d operations; want every REST route (50+)", len(routes))
	}
	g := gen{r: rand.New(rand.NewPCG(seed, seed)), defs: sp.Definitions, known: propertyFixtures(t, env)}
	token := "Bearer " + env.Token(allScopes...)
	var sent, fiveXX, fourXX, twoXX int
	for _, rt := range routes {
		for i := range perRoute {
			path, body, note := g.request(rt, i%3 == 0)
			cid := freshID()
			key := "prop-" + cid
			hdr := map[string]string{"Authorization": token, "X-Correlation-ID": cid}
			mutating := rt.method != http.MethodGet
			if mutating {
				hdr["Idempotency-Key"] = key
			}
			var b any
			if body != nil {
				b = body
			}
			code, _, out := env.Do(rt.method, path, b, hdr)
			sent++
			switch {
			case code >= 500:
				fiveXX++
				t.Errorf("%s %s (%s): %d: %s\n  body: %.300s", rt.method, path, note, code, out, body)
			case code >= 400:
				fourXX++
				var p harness.Problem
				if err := json.Unmarshal(out, &p); err != nil || p.Status != code {
					t.Errorf("%s %s (%s): %d without a problem document: %s", rt.method, path, note, code, out)
				} else if p.Reason == "VALIDATION_FAILED" && len(p.Violations) == 0 {
					t.Errorf("%s %s (%s): VALIDATION_FAILED naming no field: %s", rt.method, path, note, out)
				}
				if mutating {
					if w := written(t, env, cid, key); w != "" {
						t.Errorf("%s %s (%s): %d but wrote %s: %s\n  body: %.300s", rt.method, path, note, code, w, out, body)
					}
				}
			default:
				twoXX++
			}
		}
	}
	t.Logf("property: %d routes, %d generated requests (seed %d): %d 2xx, %d 4xx, %d 5xx", len(routes), sent, seed, twoXX, fourXX, fiveXX)
	line := fmt.Sprintf("property: %d routes, %d generated requests (seed %d): %d 2xx, %d 4xx, %d 5xx\n", len(routes), sent, seed, twoXX, fourXX, fiveXX)
	fmt.Print(line)
	// `make test` runs this test with the others (go test shows a passing package's output only
	// with -v) and prints the counts from ACCRUE_PROPERTY_REPORT afterwards.
	if f := os.Getenv("ACCRUE_PROPERTY_REPORT"); f != "" {
		if err := os.WriteFile(f, []byte(line), 0o644); err != nil {
			t.Errorf("ACCRUE_PROPERTY_REPORT: %v", err)
		}
	}
}

// written returns what any service wrote under correlation id cid or Idempotency-Key key ("" for
// nothing).
func written(t *testing.T, env *harness.Env, cid, key string) string {
	t.Helper()
	var found []string
	for _, db := range serviceDBs {
		if n := env.Count(db, `SELECT (SELECT count(*) FROM outbox WHERE position(convert_to($1, 'UTF8') in envelope) > 0)
			+ (SELECT count(*) FROM audit_log WHERE correlation_id = $1)
			+ (SELECT count(*) FROM exceptions WHERE correlation_id = $1)
			+ (SELECT count(*) FROM idempotency_keys WHERE key = $2)`, cid, key); n > 0 {
			found = append(found, fmt.Sprintf("%d rows in %s", n, db))
		}
	}
	return strings.Join(found, ", ")
}

// propertyFixtures creates records for the generated requests to name: a legal entity, a
// converted project (customer, contract, tasks), a resource with a cost rate, and a time entry on
// its timesheet; it returns their ids by the field names that carry them.
func propertyFixtures(t *testing.T, env *harness.Env) map[string][]string {
	t.Helper()
	le := createLegalEntity(t, env, "US01", billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT)
	fx := newPostingProject(t, env, le, "property")
	ada := newPostingResource(t, env, le, "Prop Erty", "CONSULTANT", consultantCostRate)
	entry := mustRecordTime(t, env, timeIn(ada, fx.projectID, fx.billable, date(2026, 6, 10), "4", true))
	p := getProject(t, env, fx.projectID)
	return map[string][]string{
		"legal_entity_id": {le.GetLegalEntityId()},
		"project_id":      {fx.projectID},
		"customer_id":     {p.GetCustomerId()},
		"contract_id":     {fx.contractID},
		"task_id":         {fx.billable, fx.nonBillable},
		"resource_id":     {ada},
		"entry_id":        {entry.GetEntryId()},
		"timesheet_id":    {entry.GetTimesheetId()},
	}
}
