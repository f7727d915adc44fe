package e2e

import (
	"context"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/accrue/accrue/e2e/internal/harness"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
)

// Workflow 3 (approved time & expense → posting): the fixture and the helpers of the posting
// tests.

// Scopes of the time & expense API.
var (
	timeWrite   = []string{"time:write"}
	timeApprove = []string{"time:approve"}
	timeRead    = []string{"time:read"}
)

// Posting statuses of time entries.
const (
	stPending  = timeexpensev1.PostingStatus_POSTING_STATUS_PENDING
	stPosted   = timeexpensev1.PostingStatus_POSTING_STATUS_POSTED
	stRejected = timeexpensev1.PostingStatus_POSTING_STATUS_REJECTED_CLOSED_PERIOD
	stParked   = timeexpensev1.PostingStatus_POSTING_STATUS_PARKED_RATE_MISSING
	stReversed = timeexpensev1.PostingStatus_POSTING_STATUS_REVERSED
)

// Bill rates of the posting fixture's rate card and cost rates of its resources (per hour).
const (
	consultantBillRate = "50.00"
	architectBillRate  = "90.00"
	consultantCostRate = "20.00"
	architectCostRate  = "70.00"
)

// postingFixture is an ACTIVE project of a legal entity, billed time and materials (consultants
// at 50.00/h, architects at 90.00/h from 2026-01-01, expenses rebilled with a 10 % markup), with
// a billable and a non-billable task, and resources known to billing with their cost rates.
type postingFixture struct {
	le          *billingv1.LegalEntity
	projectID   string
	contractID  string
	taskCount   int
	billable    string // a billable leaf task of line IMPL-1
	nonBillable string // "Project management", not billable
}

// createLegalEntity creates a USD legal entity with the given closed-period policy and waits
// until the project service (conversions check it) and the time & expense service (entries are
// checked against its policy) know it.
func createLegalEntity(t testing.TB, env *harness.Env, code string, policy billingv1.ClosedPeriodPolicy) *billingv1.LegalEntity {
	t.Helper()
	in := &billingv1.LegalEntityInput{Code: code, Name: "Accrue Consulting " + code, FunctionalCurrency: "USD", CountryCode: "US",
		TaxRegistration: "US-12-3456789", ClosedPeriodPolicy: policy}
	st, _, body := env.Do(http.MethodPost, "/v1/legal-entities", restJSON(t, in), env.Bearer(billingWrite))
	if st != http.StatusCreated {
		t.Fatalf("POST /v1/legal-entities %s: %d, want 201: %s", code, st, body)
	}
	var resp billingv1.CreateLegalEntityResponse
	decode(t, body, &resp)
	le := resp.GetLegalEntity()
	wantPolicy := strings.TrimPrefix(policy.String(), "CLOSED_PERIOD_POLICY_")
	harness.Eventually(t, 10*time.Second, 20*time.Millisecond, func() error {
		if n := env.Count("project", `SELECT count(*) FROM legal_entities WHERE code = $1`, code); n != 1 {
			return fmt.Errorf("the project service's legal entity replica has %d %s rows", n, code)
		}
		if n := env.Count("timeexpense", `SELECT count(*) FROM legal_entities WHERE id = lower($1) AND closed_period_policy = $2`,
			le.GetLegalEntityId(), wantPolicy); n != 1 {
			return fmt.Errorf("the time & expense service does not know %s with policy %s yet", code, wantPolicy)
		}
		return nil
	})
	return le
}

// postingOpportunity is a closed-won deal of 200,000.00 USD signed by legal entity leCode with one
// IMPLEMENTATION line billed time and materials: consultants at 50.00/h and architects at 90.00/h
// from 2026-01-01, expenses rebilled with a 10 % markup. The project runs April to December 2026.
func postingOpportunity(oppID, acct, leCode string) *projectv1.Opportunity {
	o := opportunity(oppID, acct, 100)
	o.Name = "Umbrella analytics rollout"
	o.LegalEntityCode = leCode
	o.Amount = usd("200000.00")
	o.StartDate, o.EndDate = date(2026, 4, 1), date(2026, 12, 31)
	o.ServiceLines = []*projectv1.OpportunityServiceLine{{LineKey: "IMPL-1", ServiceLine: "IMPLEMENTATION",
		Description: "Analytics rollout", Amount: usd("200000.00"), BudgetHours: "2000", ExpenseMarkupPercent: "10",
		BillingMethod: billingv1.BillingMethod_BILLING_METHOD_TIME_AND_MATERIALS, RevenueMethod: billingv1.RevenueMethod_REVENUE_METHOD_AS_DELIVERED,
		RateCard: []*billingv1.RateCardEntry{
			{Role: "CONSULTANT", BillRate: usd(consultantBillRate), EffectiveFrom: date(2026, 1, 1)},
			{Role: "ARCHITECT", BillRate: usd(architectBillRate), EffectiveFrom: date(2026, 1, 1)},
		}}}
	return o
}

// newPostingProject converts postingOpportunity for le into an ACTIVE project and waits until the
// time & expense service (entry validation) and billing (posting) hold its replica with its tasks
// and contract.
func newPostingProject(t testing.TB, env *harness.Env, le *billingv1.LegalEntity, name string) *postingFixture {
	t.Helper()
	conv := mustConvert(t, env, postingOpportunity("006-"+name+"-"+env.ID(), "001-"+name+"-"+env.ID(), le.GetCode()), http.StatusCreated)
	if conv.GetProjectStatus() != projectv1.ProjectStatus_PROJECT_STATUS_ACTIVE || conv.GetContract().GetId() == "" {
		t.Fatalf("conversion of %s: %v, want an ACTIVE project with a contract", name, conv)
	}
	p := getProject(t, env, conv.GetProject().GetId())
	fx := &postingFixture{le: le, projectID: p.GetProjectId(), contractID: conv.GetContract().GetId(), taskCount: len(p.GetTasks())}
	fx.billable = billableLeafTask(t, p, "IMPL-1").GetTaskId()
	for _, task := range p.GetTasks() {
		if !task.GetBillable() && task.GetParentTaskId() != "" {
			fx.nonBillable = task.GetTaskId()
		}
	}
	if fx.nonBillable == "" {
		t.Fatalf("project %s has no non-billable task: %v", fx.projectID, p.GetTasks())
	}
	harness.Eventually(t, 15*time.Second, 20*time.Millisecond, func() error {
		if n := env.Count("timeexpense", `SELECT count(*) FROM projects WHERE id = $1 AND status = 'ACTIVE'`, fx.projectID); n != 1 {
			return fmt.Errorf("the time & expense service does not know project %s as ACTIVE yet", fx.projectID)
		}
		if n := env.Count("timeexpense", `SELECT count(*) FROM project_tasks WHERE project_id = $1`, fx.projectID); n != fx.taskCount {
			return fmt.Errorf("the time & expense service knows %d of the %d tasks", n, fx.taskCount)
		}
		if n := env.Count("billing", `SELECT count(*) FROM project_replicas WHERE project_id = $1 AND contract_id = $2`,
			fx.projectID, fx.contractID); n != 1 {
			return fmt.Errorf("billing does not know project %s with contract %s yet", fx.projectID, fx.contractID)
		}
		if n := env.Count("billing", `SELECT count(*) FROM task_replicas WHERE project_id = $1`, fx.projectID); n != fx.taskCount {
			return fmt.Errorf("billing knows %d of the %d tasks", n, fx.taskCount)
		}
		return nil
	})
	return fx
}

// newPostingResource creates an employee of le with role and, unless costRate is empty, an
// open-ended cost rate from 2026-01-01, and waits until billing's replica has the role and the
// rate.
func newPostingResource(t testing.TB, env *harness.Env, le *billingv1.LegalEntity, name, role, costRate string) string {
	t.Helper()
	in := &resourcev1.ResourceInput{Kind: resourcev1.ResourceKind_RESOURCE_KIND_EMPLOYEE, Name: name,
		Email: strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.com", HomeLegalEntityCode: le.GetCode(), Location: "Austin, TX",
		Role: role, WeeklyCapacityHours: "40", UtilizationTargetPercent: "75", Status: resourcev1.ResourceStatus_RESOURCE_STATUS_ACTIVE,
		ExternalReferences: []*commonv1.ExternalReference{{System: "workday", ObjectType: "Worker", ExternalId: "W-" + strings.ReplaceAll(name, " ", "") + "-" + env.ID()}}}
	st, _, body := env.Do(http.MethodPost, "/v1/resources:upsert", restJSON(t, in), env.Bearer(resourcesWrite))
	if st != http.StatusCreated {
		t.Fatalf("POST /v1/resources:upsert %s: %d, want 201: %s", name, st, body)
	}
	var resp resourcev1.UpsertResourceResponse
	decode(t, body, &resp)
	id := resp.GetResource().GetResourceId()
	if costRate != "" {
		setCostRate(t, env, id, costRate, date(2026, 1, 1), nil)
	}
	harness.Eventually(t, 10*time.Second, 20*time.Millisecond, func() error {
		if n := env.Count("billing", `SELECT count(*) FROM resource_replicas WHERE resource_id = $1 AND role = $2`, id, role); n != 1 {
			return fmt.Errorf("billing does not know %s as %s yet", name, role)
		}
		if costRate != "" {
			if n := env.Count("billing", `SELECT count(*) FROM cost_rate_replicas WHERE resource_id = $1 AND rate = $2::numeric`, id, costRate); n != 1 {
				return fmt.Errorf("billing does not know the cost rate of %s yet", name)
			}
		}
		return nil
	})
	return id
}

// timeIn is a time entry input.
func timeIn(resourceID, projectID, taskID string, d *commonv1.Date, hours string, billable bool) *timeexpensev1.TimeEntryInput {
	return &timeexpensev1.TimeEntryInput{ResourceId: resourceID, ProjectId: projectID, TaskId: taskID, WorkDate: d, Hours: hours,
		Billable: billable, Description: "e2e work"}
}

// withRef gives a time entry input the T&E tool's reference ("tetool"/TimeEntry/extID).
func withRef(in *timeexpensev1.TimeEntryInput, extID string) *timeexpensev1.TimeEntryInput {
	in.ExternalReference = &commonv1.ExternalReference{System: "tetool", ObjectType: "TimeEntry", ExternalId: extID}
	return in
}

// expenseIn is an expense input in USD.
func expenseIn(resourceID, projectID, taskID string, d *commonv1.Date, amount string, billable bool) *timeexpensev1.ExpenseInput {
	return &timeexpensev1.ExpenseInput{ResourceId: resourceID, ProjectId: projectID, TaskId: taskID, ExpenseDate: d, Category: "TRAVEL",
		Amount: usd(amount), Billable: billable, Description: "e2e expense", ReceiptReference: "RCPT-1"}
}

func timeItem(in *timeexpensev1.TimeEntryInput) *timeexpensev1.ImportItem {
	return &timeexpensev1.ImportItem{Item: &timeexpensev1.ImportItem_Time{Time: in}}
}

func expenseItem(in *timeexpensev1.ExpenseInput) *timeexpensev1.ImportItem {
	return &timeexpensev1.ImportItem{Item: &timeexpensev1.ImportItem_Expense{Expense: in}}
}

// recordTime posts a time entry (POST /v1/time-entries) and returns the raw answer.
func recordTime(t testing.TB, env *harness.Env, in *timeexpensev1.TimeEntryInput) (int, http.Header, []byte) {
	t.Helper()
	return env.Do(http.MethodPost, "/v1/time-entries", restJSON(t, in), env.Bearer(timeWrite))
}

// mustRecordTime records a time entry and expects a DRAFT entry awaiting approval.
func mustRecordTime(t testing.TB, env *harness.Env, in *timeexpensev1.TimeEntryInput) *timeexpensev1.TimeEntry {
	t.Helper()
	st, _, body := recordTime(t, env, in)
	if st != http.StatusOK {
		t.Fatalf("POST /v1/time-entries (%s h on %v): %d, want 200: %s", in.GetHours(), in.GetWorkDate(), st, body)
	}
	var resp timeexpensev1.RecordTimeEntryResponse
	decode(t, body, &resp)
	e := resp.GetEntry()
	if e.GetApprovalStatus() != timeexpensev1.TimesheetStatus_TIMESHEET_STATUS_DRAFT ||
		e.GetPostingStatus() != timeexpensev1.PostingStatus_POSTING_STATUS_NOT_APPROVED || e.GetTimesheetId() == "" ||
		e.GetKind() != timeexpensev1.EntryKind_ENTRY_KIND_TIME || !sameDecimal(e.GetHours(), in.GetHours()) {
		t.Fatalf("recorded entry %v, want a DRAFT time entry of %s h on a timesheet, not approved", e, in.GetHours())
	}
	return e
}

// mustRecordExpense records an expense and expects a DRAFT item awaiting approval.
func mustRecordExpense(t testing.TB, env *harness.Env, in *timeexpensev1.ExpenseInput) *timeexpensev1.TimeEntry {
	t.Helper()
	st, _, body := env.Do(http.MethodPost, "/v1/expenses", restJSON(t, in), env.Bearer(timeWrite))
	if st != http.StatusOK {
		t.Fatalf("POST /v1/expenses: %d, want 200: %s", st, body)
	}
	var resp timeexpensev1.RecordExpenseResponse
	decode(t, body, &resp)
	e := resp.GetEntry()
	if e.GetKind() != timeexpensev1.EntryKind_ENTRY_KIND_EXPENSE || !moneyIs(e.GetAmount(), in.GetAmount().GetAmount()) ||
		e.GetPostingStatus() != timeexpensev1.PostingStatus_POSTING_STATUS_NOT_APPROVED || e.GetTimesheetId() == "" {
		t.Fatalf("recorded expense %v, want a DRAFT expense of %s on a timesheet", e, in.GetAmount().GetAmount())
	}
	return e
}

// submitTimesheet submits a timesheet (time:write) and expects it SUBMITTED.
func submitTimesheet(t testing.TB, env *harness.Env, id string) *timeexpensev1.Timesheet {
	t.Helper()
	st, _, body := env.Do(http.MethodPost, "/v1/timesheets/"+id+":submit", map[string]any{}, env.Bearer(timeWrite))
	if st != http.StatusOK {
		t.Fatalf("submit timesheet %s: %d, want 200: %s", id, st, body)
	}
	var resp timeexpensev1.SubmitTimesheetResponse
	decode(t, body, &resp)
	if resp.GetTimesheet().GetStatus() != timeexpensev1.TimesheetStatus_TIMESHEET_STATUS_SUBMITTED {
		t.Fatalf("submitted timesheet %s is %s", id, resp.GetTimesheet().GetStatus())
	}
	return resp.GetTimesheet()
}

// approveTimesheet approves a submitted timesheet (time:approve) and expects it APPROVED by the
// caller, its entries approved and pending posting.
func approveTimesheet(t testing.TB, env *harness.Env, id string) *timeexpensev1.Timesheet {
	t.Helper()
	st, _, body := env.Do(http.MethodPost, "/v1/timesheets/"+id+":approve", map[string]any{}, env.Bearer(timeApprove))
	if st != http.StatusOK {
		t.Fatalf("approve timesheet %s: %d, want 200: %s", id, st, body)
	}
	var resp timeexpensev1.ApproveTimesheetResponse
	decode(t, body, &resp)
	ts := resp.GetTimesheet()
	if ts.GetStatus() != timeexpensev1.TimesheetStatus_TIMESHEET_STATUS_APPROVED || ts.GetDecidedBy() != "e2e" || len(ts.GetEntries()) == 0 {
		t.Fatalf("approved timesheet %s: %v, want APPROVED by e2e with its entries", id, ts)
	}
	for _, e := range ts.GetEntries() {
		if e.GetApprovalStatus() != timeexpensev1.TimesheetStatus_TIMESHEET_STATUS_APPROVED || e.GetPostingStatus() != stPending {
			t.Errorf("entry %s of the approved timesheet: %s, %s; want APPROVED and PENDING posting", e.GetEntryId(), e.GetApprovalStatus(), e.GetPostingStatus())
		}
	}
	return ts
}

// importItems posts items to POST /v1/time-entries:importApproved with a time:approve token.
func importItems(t testing.TB, env *harness.Env, items ...*timeexpensev1.ImportItem) (int, http.Header, []byte) {
	t.Helper()
	return env.Do(http.MethodPost, "/v1/time-entries:importApproved", restJSON(t, &timeexpensev1.ImportApprovedEntriesRequest{Items: items}),
		env.Bearer(timeApprove))
}

// mustImport imports items and expects 200 with one result per item, in order, and counts that
// add up.
func mustImport(t testing.TB, env *harness.Env, items ...*timeexpensev1.ImportItem) *timeexpensev1.ImportApprovedEntriesResponse {
	t.Helper()
	st, _, body := importItems(t, env, items...)
	if st != http.StatusOK {
		t.Fatalf("import of %d items: %d, want 200: %s", len(items), st, body)
	}
	var resp timeexpensev1.ImportApprovedEntriesResponse
	decode(t, body, &resp)
	checkImportResults(t, &resp, len(items))
	return &resp
}

func checkImportResults(t testing.TB, resp *timeexpensev1.ImportApprovedEntriesResponse, n int) {
	t.Helper()
	if len(resp.GetResults()) != n || int(resp.GetAccepted()+resp.GetDuplicates()+resp.GetRejected()) != n {
		t.Fatalf("import of %d items answered %d results (%d accepted, %d duplicates, %d rejected)", n, len(resp.GetResults()),
			resp.GetAccepted(), resp.GetDuplicates(), resp.GetRejected())
	}
	for i, r := range resp.GetResults() {
		if int(r.GetIndex()) != i {
			t.Errorf("result %d has index %d", i, r.GetIndex())
		}
		if r.GetOutcome() != timeexpensev1.ImportOutcome_IMPORT_OUTCOME_REJECTED && r.GetEntryId() == "" {
			t.Errorf("result %d (%s) names no entry", i, r.GetOutcome())
		}
	}
}

// getTimeEntry reads an entry through GET /v1/time-entries/{id}.
func getTimeEntry(t testing.TB, env *harness.Env, id string) *timeexpensev1.TimeEntry {
	t.Helper()
	st, _, body := env.Do(http.MethodGet, "/v1/time-entries/"+id, nil, env.Bearer(timeRead))
	if st != http.StatusOK {
		t.Fatalf("GET /v1/time-entries/%s: %d: %s", id, st, body)
	}
	var resp timeexpensev1.GetTimeEntryResponse
	decode(t, body, &resp)
	return resp.GetEntry()
}

// waitPostingStatus polls GET /v1/time-entries/{id} until every entry shows want, and returns
// the entries.
func waitPostingStatus(t testing.TB, env *harness.Env, want timeexpensev1.PostingStatus, ids ...string) map[string]*timeexpensev1.TimeEntry {
	t.Helper()
	out := map[string]*timeexpensev1.TimeEntry{}
	took := harness.Eventually(t, 20*time.Second, 50*time.Millisecond, func() error {
		for _, id := range ids {
			if e, ok := out[id]; ok && e.GetPostingStatus() == want {
				continue
			}
			e := getTimeEntry(t, env, id)
			out[id] = e
			if e.GetPostingStatus() != want {
				return fmt.Errorf("entry %s (%s h, %v) is %s %q, want %s", id, e.GetHours(), e.GetAmount(), e.GetPostingStatus(), e.GetPostingReason(), want)
			}
		}
		return nil
	})
	t.Logf("%d entries %s after %s", len(ids), want, took.Round(time.Millisecond))
	return out
}

// trialBalance reads GET /v1/legal-entities/{id}/trial-balance (period "" for all).
func trialBalance(t testing.TB, env *harness.Env, leID, period string) *billingv1.GetTrialBalanceResponse {
	t.Helper()
	path := "/v1/legal-entities/" + leID + "/trial-balance"
	if period != "" {
		path += "?period=" + period
	}
	st, _, body := env.Do(http.MethodGet, path, nil, env.Bearer(billingRead))
	if st != http.StatusOK {
		t.Fatalf("GET %s: %d: %s", path, st, body)
	}
	var resp billingv1.GetTrialBalanceResponse
	decode(t, body, &resp)
	return &resp
}

// checkTrialBalance checks that a trial balance balances with the given totals and that every
// account's balance (debit − credit) is the one in want, or 0.00 when want does not name it.
func checkTrialBalance(t testing.TB, what string, tb *billingv1.GetTrialBalanceResponse, total string, want map[string]string) {
	t.Helper()
	if !tb.GetBalanced() || !moneyIs(tb.GetTotalDebit(), total) || !moneyIs(tb.GetTotalCredit(), total) {
		t.Errorf("%s: total debit %v, total credit %v, balanced %v; want %s USD on both sides, balanced", what,
			tb.GetTotalDebit(), tb.GetTotalCredit(), tb.GetBalanced(), total)
	}
	got := map[string]string{}
	for _, l := range tb.GetLines() {
		got[l.GetAccountCode()] = l.GetBalance().GetAmount()
		if l.GetBalance().GetCurrencyCode() != "USD" {
			t.Errorf("%s: account %s balance in %q, want USD", what, l.GetAccountCode(), l.GetBalance().GetCurrencyCode())
		}
	}
	for code := range want {
		if _, ok := got[code]; !ok {
			t.Errorf("%s: no trial balance line for account %s", what, code)
		}
	}
	codes := make([]string, 0, len(got))
	for c := range got {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		w, ok := want[c]
		if !ok {
			w = "0.00"
		}
		if got[c] != w {
			t.Errorf("%s: account %s balance %s, want %s", what, c, got[c], w)
		}
	}
}

// listJournal lists journal entries (GET /v1/journal-entries?query), all pages.
func listJournal(t testing.TB, env *harness.Env, query url.Values) []*billingv1.JournalEntry {
	t.Helper()
	var out []*billingv1.JournalEntry
	query.Set("page_size", "500")
	for {
		st, _, body := env.Do(http.MethodGet, "/v1/journal-entries?"+query.Encode(), nil, env.Bearer(billingRead))
		if st != http.StatusOK {
			t.Fatalf("GET /v1/journal-entries?%s: %d: %s", query.Encode(), st, body)
		}
		var resp billingv1.ListJournalEntriesResponse
		decode(t, body, &resp)
		out = append(out, resp.GetEntries()...)
		if resp.GetNextPageToken() == "" {
			return out
		}
		query.Set("page_token", resp.GetNextPageToken())
	}
}

// listCandidates lists invoice candidates (GET /v1/invoice-candidates?query), all pages.
func listCandidates(t testing.TB, env *harness.Env, query url.Values) []*billingv1.InvoiceCandidate {
	t.Helper()
	var out []*billingv1.InvoiceCandidate
	query.Set("page_size", "500")
	for {
		st, _, body := env.Do(http.MethodGet, "/v1/invoice-candidates?"+query.Encode(), nil, env.Bearer(billingRead))
		if st != http.StatusOK {
			t.Fatalf("GET /v1/invoice-candidates?%s: %d: %s", query.Encode(), st, body)
		}
		var resp billingv1.ListInvoiceCandidatesResponse
		decode(t, body, &resp)
		out = append(out, resp.GetCandidates()...)
		if resp.GetNextPageToken() == "" {
			return out
		}
		query.Set("page_token", resp.GetNextPageToken())
	}
}

func byProject(id string) url.Values { return url.Values{"project_id": {id}} }
func bySource(id string) url.Values  { return url.Values{"source_id": {id}} }

// billingKpis reads GET /v1/billing/kpis.
func billingKpis(t testing.TB, env *harness.Env) *billingv1.GetBillingKpisResponse {
	t.Helper()
	st, _, body := env.Do(http.MethodGet, "/v1/billing/kpis", nil, env.Bearer(billingRead))
	if st != http.StatusOK {
		t.Fatalf("GET /v1/billing/kpis: %d: %s", st, body)
	}
	var resp billingv1.GetBillingKpisResponse
	decode(t, body, &resp)
	return &resp
}

// rat parses a decimal string (0 when empty).
func rat(s string) *big.Rat {
	if s == "" {
		return new(big.Rat)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic("not a decimal: " + s)
	}
	return r
}

// lineTotals sums the lines of entries per account, debit − credit, written with two decimals.
// It fails t when an entry does not balance or a line is not one-sided.
func lineTotals(t testing.TB, entries ...*billingv1.JournalEntry) map[string]string {
	t.Helper()
	sum := map[string]*big.Rat{}
	for _, e := range entries {
		dr, cr := new(big.Rat), new(big.Rat)
		for i, l := range e.GetLines() {
			d, c := rat(l.GetDebit().GetAmount()), rat(l.GetCredit().GetAmount())
			if (d.Sign() != 0) == (c.Sign() != 0) || d.Sign() < 0 || c.Sign() < 0 {
				t.Errorf("journal entry %s line %d (%s): debit %s credit %s; want exactly one positive side", e.GetJournalEntryId(), i,
					l.GetAccountCode(), l.GetDebit().GetAmount(), l.GetCredit().GetAmount())
			}
			dr.Add(dr, d)
			cr.Add(cr, c)
			if sum[l.GetAccountCode()] == nil {
				sum[l.GetAccountCode()] = new(big.Rat)
			}
			sum[l.GetAccountCode()].Add(sum[l.GetAccountCode()], new(big.Rat).Sub(d, c))
		}
		if dr.Cmp(cr) != 0 || dr.Sign() == 0 {
			t.Errorf("journal entry %s (%s %s) does not balance: debits %s, credits %s", e.GetJournalEntryId(), e.GetSourceType(),
				e.GetSourceId(), dr.FloatString(2), cr.FloatString(2))
		}
	}
	out := map[string]string{}
	for k, v := range sum {
		if v.Sign() != 0 {
			out[k] = v.FloatString(2)
		}
	}
	return out
}

// sameMap reports whether two account → amount maps are equal.
func sameMap(a, b map[string]string) bool {
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

func sameDate(d *commonv1.Date, y, m, day int) bool {
	return d.GetYear() == int32(y) && d.GetMonth() == int32(m) && d.GetDay() == int32(day)
}

// closePeriod closes a period of a legal entity (billing:write) and waits until the time &
// expense service's replica has it closed.
func closePeriod(t testing.TB, env *harness.Env, leID, period string) {
	t.Helper()
	path := "/v1/legal-entities/" + leID + "/periods/" + period + ":close"
	st, _, body := env.Do(http.MethodPost, path, map[string]any{}, env.Bearer(billingWrite))
	if st != http.StatusOK {
		t.Fatalf("POST %s: %d, want 200: %s", path, st, body)
	}
	var resp billingv1.ClosePeriodResponse
	decode(t, body, &resp)
	if resp.GetPeriod().GetStatus() != billingv1.PeriodStatus_PERIOD_STATUS_CLOSED || resp.GetPeriod().GetPeriod() != period {
		t.Fatalf("close %s: %v, want it CLOSED", period, resp.GetPeriod())
	}
	harness.Eventually(t, 10*time.Second, 20*time.Millisecond, func() error {
		if n := env.Count("timeexpense", `SELECT count(*) FROM periods WHERE legal_entity_id = lower($1) AND period = $2 AND status = 'CLOSED'`,
			leID, period); n != 1 {
			return fmt.Errorf("the time & expense service does not know %s as closed yet", period)
		}
		return nil
	})
}

// teCounts counts what entry intake writes in the time & expense database: entries, timesheets,
// outbox events.
type teCounts struct{ Entries, Timesheets, Events int }

func countTE(t testing.TB, env *harness.Env) teCounts {
	t.Helper()
	return teCounts{
		Entries:    env.Count("timeexpense", `SELECT count(*) FROM time_entries`),
		Timesheets: env.Count("timeexpense", `SELECT count(*) FROM timesheets`),
		Events:     env.Count("timeexpense", `SELECT count(*) FROM outbox`),
	}
}

// utilization reads a resource's utilization of June 2026 (one period).
func juneUtilization(t testing.TB, env *harness.Env, resourceID string) *resourcev1.UtilizationPeriod {
	t.Helper()
	q := url.Values{"from.year": {"2026"}, "from.month": {"6"}, "from.day": {"1"}, "to.year": {"2026"}, "to.month": {"6"}, "to.day": {"30"}}
	path := "/v1/resources/" + resourceID + "/utilization?" + q.Encode()
	st, _, body := env.Do(http.MethodGet, path, nil, env.Bearer(resourcesRead))
	if st != http.StatusOK {
		t.Fatalf("GET %s: %d: %s", path, st, body)
	}
	var resp resourcev1.GetUtilizationResponse
	decode(t, body, &resp)
	if len(resp.GetPeriods()) != 1 {
		t.Fatalf("utilization of June 2026: %d periods, want 1: %s", len(resp.GetPeriods()), body)
	}
	return resp.GetPeriods()[0]
}

// waitConsumed waits until billing's consumer group has read and acknowledged everything in
// <prefix>timeexpense.events.
func waitConsumed(t testing.TB, env *harness.Env) {
	t.Helper()
	rdb, prefix := env.Redis()
	ctx := context.Background()
	stream := prefix + "timeexpense.events"
	harness.Eventually(t, 20*time.Second, 20*time.Millisecond, func() error {
		last, err := rdb.XRevRangeN(ctx, stream, "+", "-", 1).Result()
		if err != nil || len(last) != 1 {
			return fmt.Errorf("last entry of %s: %v %v", stream, last, err)
		}
		groups, err := rdb.XInfoGroups(ctx, stream).Result()
		if err != nil {
			return err
		}
		for _, g := range groups {
			if g.Name != "billing" {
				continue
			}
			if g.LastDeliveredID != last[0].ID || g.Pending != 0 {
				return fmt.Errorf("billing's group: last delivered %s of %s, %d pending", g.LastDeliveredID, last[0].ID, g.Pending)
			}
			return nil
		}
		return fmt.Errorf("no billing group on %s", stream)
	})
}

// waitBillingAPI waits until the gateway reaches billing again after a restart (it reconnects on
// its own schedule and answers 503 until then).
func waitBillingAPI(t testing.TB, env *harness.Env) {
	t.Helper()
	harness.Eventually(t, 15*time.Second, 50*time.Millisecond, func() error {
		if st, _, body := env.Do(http.MethodGet, "/v1/billing/kpis", nil, env.Bearer(billingRead)); st != http.StatusOK {
			return fmt.Errorf("GET /v1/billing/kpis: %d: %s", st, body)
		}
		return nil
	})
}
