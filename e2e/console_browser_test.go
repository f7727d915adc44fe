package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"google.golang.org/protobuf/proto"

	"github.com/accrue/accrue/e2e/internal/harness"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
)

// consoleScopes are what an analyst's console token carries: the ops scopes and the reads behind
// the KPIs' click-throughs.
var consoleScopes = []string{"ops:read", "ops:write", "billing:read", "projects:read", "time:read", "resources:read", "invoices:read"}

// chromiumPath finds Debian's chromium (or $CHROMIUM). Without one the test is skipped, except
// under CI (CI=true), where a missing browser is a failure: .ci/run and make deps install it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true and no Chromium on PATH (nor $CHROMIUM): the console's browser test must run; `make deps` installs it")
	}
	t.Skip("no Chromium on PATH (apt-get install chromium, or set CHROMIUM): the console's browser test is skipped")
	return ""
}

// browser starts headless Chromium with the flags that work as root without a network.
func browser(t *testing.T, path string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 860))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelT(); cancel(); cancelAlloc() })
	return ctx
}

// Issue 18's browser test: an analyst signs in to the console with a token, sees the five seed
// KPIs with the API's values, retries an exception (an opportunity converted while billing was
// down) and sees it resolved, and traces an opportunity to its project, time entry, posting and
// invoice. With ACCRUE_CONSOLE_SCREENSHOTS=<dir> it also saves a screenshot of each view (docs/console/).
func TestConsoleInABrowser(t *testing.T) {
	chrome := chromiumPath(t)
	t.Parallel()
	env := harness.Start(t, harness.WithEnv("project", "ACCRUE_ACTIVATION_RETRY_AFTER", "1h"))
	le := createLegalEntityUS01(t, env)

	// The traced opportunity: its project, an approved time entry posted to the ledger, an invoice.
	oppID := "006-console-" + env.ID()
	conv := mustConvert(t, env, postingOpportunity(oppID, "001-console-"+env.ID(), le.GetCode()), http.StatusCreated)
	fx := postingFixtureOf(t, env, le, conv)
	ada := newPostingResource(t, env, le, "Ada Console", "CONSULTANT", consultantCostRate)
	imp := mustImport(t, env, timeItem(withRef(timeIn(ada, fx.projectID, fx.billable, date(2026, 6, 8), "4", true), "console-"+env.ID())))
	entryID := imp.GetResults()[0].GetEntryId()
	waitPostingStatus(t, env, stPosted, entryID)
	var proposed billingv1.ProposeInvoiceResponse
	invoice := proposeOrPost(t, env, "/v1/contracts/"+fx.contractID+"/invoices:propose", "console-p1",
		`{"cut_off":{"year":2026,"month":6,"day":30}}`, &proposed)
	importApproved(t, env, ada, fx, date(2026, 7, 6), "2", "console-unbilled") // unbilled time the KPI shows

	// An exception to retry: a conversion while billing is down waits for financial activation.
	pendingOpp := opportunity("006-console-wait-"+env.ID(), "001-console-wait-"+env.ID(), 100)
	pending, exc := convertWhileBillingDown(t, env, pendingOpp)
	env.Restart("billing")

	want := consoleKPIsFromAPI(t, env)
	ctx := browser(t, chrome)
	shots := os.Getenv("ACCRUE_CONSOLE_SCREENSHOTS")
	shoot := func(name string) {
		if shots == "" {
			return
		}
		if err := chromedp.Do(ctx, chromedp.Sleep(300*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Sign in by pasting a token.
	token := env.Token(consoleScopes...)
	if err := chromedp.Do(ctx, chromedp.Navigate(env.URL("/console/")), chromedp.WaitVisible(chromedp.CSS(`#token`))); err != nil {
		t.Fatalf("open the console: %v", err)
	}
	shoot("signin")
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`#token`), token), chromedp.Click(chromedp.CSS(`#signin-form button`)),
		chromedp.WaitVisible(chromedp.CSS(`article[data-kpi="assignments_missing_cost_rates"]`))); err != nil {
		t.Fatalf("sign in: %v", err)
	}

	// The five seed KPIs show the API's values.
	for kpi, v := range want {
		res, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`article[data-kpi="`+kpi+`"] .value`), "data-raw"))
		if err != nil {
			t.Fatalf("KPI %s: %v", kpi, err)
		}
		if raw := res.Value; raw != v {
			t.Errorf("console KPI %s = %q, the API says %q", kpi, raw, v)
		}
	}
	if want["projects_awaiting_financial_activation"] != "1" || !strings.HasPrefix(want["unbilled_time"], "USD ") {
		t.Errorf("API KPIs %v: want one project awaiting activation and unbilled time in USD", want)
	}
	shoot("kpis")

	// Retry the activation exception until it resolves (billing may still be coming back).
	row := `#exc-table tr[data-id="` + exc.GetExceptionId() + `"]`
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[data-view="exceptions"]`)), chromedp.WaitVisible(chromedp.CSS(row))); err != nil {
		t.Fatalf("exceptions view: %v", err)
	}
	// Its details show the payload the retry re-drives.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(row+` button.details`)), chromedp.WaitVisible(chromedp.CSS(`#exc-payload`))); err != nil {
		t.Fatalf("exception details: %v", err)
	}
	harness.Eventually(t, 10*time.Second, 100*time.Millisecond, func() error {
		p, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#exc-payload`)))
		if err != nil || p == "Loading…" || strings.HasPrefix(p, "The payload cannot be read") {
			return fmt.Errorf("payload %q (%v)", p, err)
		}
		return nil
	})
	shoot("exceptions")
	resolved := false
	for attempt := 0; attempt < 20 && !resolved; attempt++ {
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(row+` button.retry`)), chromedp.Sleep(700*time.Millisecond)); err != nil {
			t.Fatalf("retry: %v", err)
		}
		st, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(row+` td.status`)))
		if err != nil {
			t.Fatalf("retry: %v", err)
		}
		resolved = st == "RESOLVED"
	}
	if !resolved {
		t.Fatalf("exception %s still open after 20 retries from the console", exc.GetExceptionId())
	}
	if p := getProject(t, env, pending.GetProject().GetId()); p.GetStatus() != projectv1.ProjectStatus_PROJECT_STATUS_ACTIVE {
		t.Errorf("project after the console's retry: %s, want ACTIVE", p.GetStatus())
	}

	// Trace the opportunity across the services.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[data-view="trace"]`)), chromedp.WaitVisible(chromedp.CSS(`#trace-key`)),
		chromedp.SendKeys(chromedp.CSS(`#trace-key`), oppID), chromedp.Click(chromedp.CSS(`#trace-form button`))); err != nil {
		t.Fatalf("trace: %v", err)
	}
	for what, sel := range map[string]string{
		"the project":    `#trace-table tr[data-kind="PROJECT"][data-entity="` + fx.projectID + `"]`,
		"the time entry": `#trace-table tr[data-kind="TIME_ENTRY"][data-entity="` + entryID + `"]`,
		"a posting":      `#trace-table tr[data-kind="POSTING"]`,
		"the invoice":    `#trace-table tr[data-kind="INVOICE"][data-entity="` + invoice.GetInvoiceId() + `"]`,
	} {
		wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.CSS(sel)))
		cancel()
		if err != nil {
			text, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#view-trace`)))
			t.Fatalf("the trace of %s does not show %s: %v\n%s", oppID, what, err, text)
		}
	}
	shoot("trace")

	if shots != "" {
		for _, v := range []string{"streams", "reconciliation"} {
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[data-view="`+v+`"]`)), chromedp.Sleep(time.Second)); err != nil {
				t.Fatal(err)
			}
			shoot(v)
		}
	}
}

// postingFixtureOf waits until the converted project is known everywhere (as newPostingProject).
func postingFixtureOf(t *testing.T, env *harness.Env, le *billingv1.LegalEntity, conv *projectv1.ConvertOpportunityResponse) *postingFixture {
	t.Helper()
	p := getProject(t, env, conv.GetProject().GetId())
	fx := &postingFixture{le: le, projectID: p.GetProjectId(), contractID: conv.GetContract().GetId(), taskCount: len(p.GetTasks())}
	fx.billable = billableLeafTask(t, p, "IMPL-1").GetTaskId()
	harness.Eventually(t, 15*time.Second, 20*time.Millisecond, func() error {
		if n := env.Count("timeexpense", `SELECT count(*) FROM project_tasks WHERE project_id = $1`, fx.projectID); n != fx.taskCount {
			return fmt.Errorf("the time & expense service knows %d of the %d tasks", n, fx.taskCount)
		}
		if n := env.Count("billing", `SELECT count(*) FROM task_replicas WHERE project_id = $1`, fx.projectID); n != fx.taskCount {
			return fmt.Errorf("billing knows %d of the %d tasks", n, fx.taskCount)
		}
		return nil
	})
	return fx
}

// consoleKPIsFromAPI reads the five seed KPIs from the services' own APIs, in the console's raw
// form ("USD 360.00" per currency joined by "; ", counts as integers).
func consoleKPIsFromAPI(t *testing.T, env *harness.Env) map[string]string {
	t.Helper()
	h := env.Bearer(consoleScopes)
	var b billingv1.GetBillingKpisResponse
	mustGet(t, env, "/v1/billing/kpis", h, &b)
	var te timeexpensev1.GetTimeExpenseKpisResponse
	mustGet(t, env, "/v1/time-expense/kpis", h, &te)
	var pr projectv1.ListProjectsResponse
	mustGet(t, env, "/v1/projects?status=PROJECT_STATUS_PENDING_FINANCIAL_ACTIVATION&page_size=500", h, &pr)
	var as resourcev1.ListAssignmentsResponse
	mustGet(t, env, "/v1/assignments?rate_missing_only=true&page_size=500", h, &as)
	var unbilled []string
	for _, m := range b.GetUnbilledTime() {
		unbilled = append(unbilled, m.GetCurrencyCode()+" "+m.GetAmount())
	}
	return map[string]string{
		"unbilled_time":                          strings.Join(unbilled, "; "),
		"projects_awaiting_financial_activation": fmt.Sprint(len(pr.GetProjects())),
		"timesheets_rejected_closed_period":      fmt.Sprint(te.GetClosedPeriodTotal().GetTimesheets()),
		"invoices_blocked_tax":                   fmt.Sprint(b.GetInvoicesBlockedTax()),
		"assignments_missing_cost_rates":         fmt.Sprint(len(as.GetAssignments())),
	}
}

func mustGet(t *testing.T, env *harness.Env, path string, h map[string]string, m proto.Message) {
	t.Helper()
	st, _, body := env.Do(http.MethodGet, path, nil, h)
	if st != http.StatusOK {
		t.Fatalf("GET %s: %d: %s", path, st, body)
	}
	decode(t, body, m)
}
