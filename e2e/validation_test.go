package e2e

import (
	"net/http"
	"slices"
	"testing"

	"github.com/accrue/accrue/e2e/internal/harness"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
)

// writes counts what careless input could have written: customers, cost rates, time entries,
// timesheets, and every service's outbox.
func writes(env *harness.Env) map[string]int {
	out := map[string]int{
		"customers":  env.Count("customer", `SELECT count(*) FROM customers`),
		"cost rates": env.Count("resource", `SELECT count(*) FROM cost_rates`),
		"entries":    env.Count("timeexpense", `SELECT count(*) FROM time_entries`),
		"timesheets": env.Count("timeexpense", `SELECT count(*) FROM timesheets`),
		"postings":   env.Count("billing", `SELECT count(*) FROM journal_entries`),
	}
	for _, db := range serviceDBs {
		out[db+" outbox"] = env.Count(db, `SELECT count(*) FROM outbox`)
	}
	return out
}

// Careless input is a 400 naming the field at fault and writes nothing: a negative cost rate, a
// NUL byte in a name, a time entry or an expense of a resource no one has, a 19-digit amount
// (and an 18-digit one, whose WIP line with markup would not fit the money format), 25 hours in
// one entry and 25 hours over one day. A resource id minted a moment ago is early, not wrong: 409
// REFERENCE_NOT_YET_KNOWN with Retry-After.
func TestCarelessInputIsA400NamingTheFieldAndWritesNothing(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	le := createLegalEntity(t, env, "US01", billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT)
	pa := newPostingProject(t, env, le, "careless")
	ada := newPostingResource(t, env, le, "Ada Lovelace", "CONSULTANT", consultantCostRate)
	june22 := date(2026, 6, 22)
	mustRecordTime(t, env, timeIn(ada, pa.projectID, pa.billable, june22, "20", true))
	const nobody = "01a2210c-0000-7000-8000-0000000000ee" // a UUIDv7 minted 2026-11-28 that no service has

	costRate := func(rate string) *resourcev1.SetCostRateRequest {
		return &resourcev1.SetCostRateRequest{Rate: usd(rate), EffectiveFrom: date(2026, 7, 1), Reason: "e2e"}
	}
	cases := []struct {
		name, method, path string
		body               any
		scopes             []string
		reason, field      string
	}{
		{"negative cost rate", http.MethodPost, "/v1/resources/" + ada + "/cost-rates", restJSON(t, costRate("-10.00")), costRatesWrite,
			"VALIDATION_FAILED", "rate"},
		{"NUL byte in a customer name", http.MethodPost, "/v1/customers", customerInput("Acme\x00 Corp", "USD", ""), customersWrite,
			"VALIDATION_FAILED", "customer.name"},
		{"time entry of an unknown resource", http.MethodPost, "/v1/time-entries",
			restJSON(t, timeIn(nobody, pa.projectID, pa.billable, june22, "2", true)), timeWrite, "RESOURCE_NOT_FOUND", "entry.resource_id"},
		{"expense of an unknown resource", http.MethodPost, "/v1/expenses",
			restJSON(t, expenseIn(nobody, pa.projectID, pa.billable, june22, "12.00", true)), timeWrite, "RESOURCE_NOT_FOUND", "expense.resource_id"},
		{"19-digit amount", http.MethodPost, "/v1/expenses",
			restJSON(t, expenseIn(ada, pa.projectID, pa.billable, june22, "1234567890123456789.00", true)), timeWrite, "VALIDATION_FAILED", "expense.amount.amount"},
		{"18-digit amount", http.MethodPost, "/v1/expenses",
			restJSON(t, expenseIn(ada, pa.projectID, pa.billable, june22, "999999999999999999.99", true)), timeWrite, "VALIDATION_FAILED", "expense.amount"},
		{"25 hours in one entry", http.MethodPost, "/v1/time-entries",
			restJSON(t, timeIn(ada, pa.projectID, pa.billable, date(2026, 6, 23), "25", true)), timeWrite, "INVALID_HOURS", "entry.hours"},
		{"25 hours in a day", http.MethodPost, "/v1/time-entries",
			restJSON(t, timeIn(ada, pa.projectID, pa.billable, june22, "5", true)), timeWrite, "DAILY_HOURS_EXCEEDED", "entry.hours"},
	}
	before := writes(env)
	for _, c := range cases {
		st, hdr, body := env.Do(c.method, c.path, c.body, env.Bearer(c.scopes))
		p := expectProblem(t, c.name, http.StatusBadRequest, c.reason, st, hdr, body)
		if !slices.Contains(p.Fields(), c.field) {
			t.Errorf("%s: violations name %v, want %s: %s", c.name, p.Fields(), c.field, body)
		}
		if after := writes(env); !mapsEqual(after, before) {
			t.Fatalf("%s wrote: %v, before %v", c.name, after, before)
		}
	}

	// Early is not wrong: a resource id minted a moment ago (its resource may not have reached
	// the time & expense service yet) is a 409 to retry, naming the field, writing nothing.
	st, hdr, body := env.Do(http.MethodPost, "/v1/time-entries",
		restJSON(t, timeIn(freshID(), pa.projectID, pa.billable, date(2026, 6, 23), "2", true)), env.Bearer(timeWrite))
	p := expectProblem(t, "time entry of a resource minted a moment ago", http.StatusConflict, "REFERENCE_NOT_YET_KNOWN", st, hdr, body)
	if hdr.Get("Retry-After") != "1" || !slices.Contains(p.Fields(), "entry.resource_id") || p.Metadata["not_found_reason"] != "RESOURCE_NOT_FOUND" {
		t.Errorf("early reference: Retry-After %q, fields %v, metadata %v; want 1, entry.resource_id, RESOURCE_NOT_FOUND",
			hdr.Get("Retry-After"), p.Fields(), p.Metadata)
	}
	if after := writes(env); !mapsEqual(after, before) {
		t.Fatalf("the early reference wrote: %v, before %v", after, before)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
