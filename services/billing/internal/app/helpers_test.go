package app_test

import (
	"testing"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/internal/platform/paging"
	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
)

// env is the use cases over a fresh billing database holding a USD legal entity.
type env struct{ *billingtest.Env }

func newEnv(t *testing.T, policy legalentity.ClosedPeriodPolicy) env {
	t.Helper()
	t.Parallel()
	return env{billingtest.New(t, policy)}
}

// post posts sources in one batch and returns the results by source id.
func (e env) post(sources ...ledger.Source) map[string]ledger.Result {
	e.T.Helper()
	results, err := e.UC.PostBatch(e.Ctx, sources)
	if err != nil {
		e.T.Fatal(err)
	}
	out := map[string]ledger.Result{}
	for _, r := range results {
		out[r.Source.ID] = r
	}
	return out
}

// outcome is how the ledger stands on a source now.
func (e env) outcome(sourceID string) string {
	e.T.Helper()
	return billingtest.Scalar[string](e.Env, `SELECT outcome FROM posting_results WHERE source_id = $1 ORDER BY source_version DESC LIMIT 1`, sourceID)
}

// hours is billable time of resource on task of the project.
func hours(id, resource, task, date, h string) ledger.Source {
	return ledger.Source{Type: ledger.SourceTime, ID: id, Version: 1, ResourceID: resource, ProjectID: billingtest.Project, TaskID: task,
		Date: billingtest.Day(date), Hours: decimal.RequireFromString(h), Billable: true}
}

// expense is a billable expense of the consultant on the billable task.
func expense(id, date string, a money.Amount) ledger.Source {
	return ledger.Source{Type: ledger.SourceExpense, ID: id, Version: 1, ResourceID: billingtest.Consult, ProjectID: billingtest.Project,
		TaskID: billingtest.TaskBill, Date: billingtest.Day(date), Amount: a, Billable: true}
}

// pageOf is the first page of a list, n rows long.
func pageOf(n int) paging.Request { return paging.Request{Size: n} }

// wantMoney fails unless got is want (e.g. "100.00 USD").
func wantMoney(t *testing.T, what string, got money.Amount, want string) {
	t.Helper()
	if got.String() != want {
		t.Errorf("%s = %s, want %s", what, got, want)
	}
}

// wantReason fails unless err carries reason.
func wantReason(t *testing.T, err error, reason string) {
	t.Helper()
	if fault.ReasonOf(err) != reason {
		t.Fatalf("err = %v (reason %q), want reason %s", err, fault.ReasonOf(err), reason)
	}
}
