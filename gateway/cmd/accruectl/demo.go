package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/accrue/accrue/gateway/internal/webhook"
)

// demo walks a newcomer through the three workflows Accrue runs, against a running gateway:
// a Salesforce closed-won webhook becomes a customer, a contract and an active project; a
// consultant is staffed on it and the project forecast shows cost, revenue and margin; approved
// time and an expense are imported, posted to the ledger, and show up as WIP, invoice candidates,
// a balanced trial balance and project actuals.
type demoRun struct {
	base, token, stamp string
	secretsFile        string
	client             *http.Client
}

func runDemo(base, keyFile, secretsFile, example string) error {
	priv, err := os.ReadFile(keyFile)
	if err != nil {
		return err
	}
	tok, err := signAll(priv)
	if err != nil {
		return err
	}
	d := &demoRun{base: strings.TrimSuffix(base, "/"), token: tok, stamp: time.Now().UTC().Format("150405"),
		secretsFile: secretsFile, client: &http.Client{Timeout: 20 * time.Second}}
	return d.run(example)
}

func (d *demoRun) call(method, path string, body any) (int, map[string]any, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, d.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+d.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, nil
}

func (d *demoRun) must(method, path string, body any) map[string]any {
	st, out, err := d.call(method, path, body)
	if err != nil || st >= 300 {
		b, _ := json.Marshal(out)
		fmt.Fprintf(os.Stderr, "demo: %s %s: %d %v %s\n", method, path, st, err, b)
		os.Exit(1)
	}
	return out
}

func get(m map[string]any, path ...string) any {
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[p]
	}
	return v
}

func str(m map[string]any, path ...string) string { s, _ := get(m, path...).(string); return s }

func money(m map[string]any, path ...string) string {
	return str(m, append(path, "amount")...) + " " + str(m, append(path, "currency_code")...)
}

func (d *demoRun) wait(what string, check func() bool) {
	for i := 0; i < 100; i++ {
		if check() {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	fmt.Fprintf(os.Stderr, "demo: %s did not happen within 20 s\n", what)
	os.Exit(1)
}

func step(n int, title string) { fmt.Printf("\n%d. %s\n", n, title) }

func (d *demoRun) run(example string) error {
	hooks := d.subscribeListener()
	step(1, "A legal entity of the firm (US01, books in USD)")
	st, le, err := d.call(http.MethodPost, "/v1/legal-entities", map[string]any{"code": "US01", "name": "Accrue Consulting US Inc.",
		"functional_currency": "USD", "country_code": "US", "closed_period_policy": "CLOSED_PERIOD_POLICY_REJECT"})
	if err != nil {
		return err
	}
	leID := str(le, "legal_entity", "legal_entity_id")
	if st == http.StatusConflict { // US01 exists already (an earlier setup): use it
		for _, x := range get(d.must(http.MethodGet, "/v1/legal-entities", nil), "legal_entities").([]any) {
			if xm := x.(map[string]any); xm["code"] == "US01" {
				leID = xm["legal_entity_id"].(string)
			}
		}
	} else if st >= 300 {
		return fmt.Errorf("legal entity: %d %v", st, le)
	}
	fmt.Println("   legal entity", leID)
	time.Sleep(500 * time.Millisecond) // the project service learns legal entities from billing's events

	step(2, "Salesforce: an opportunity reaches Closed Won (signed CDC webhook)")
	raw, err := os.ReadFile(example)
	if err != nil {
		return err
	}
	body := strings.NewReplacer("006Dn00000SfDemo1", "006DEMO"+d.stamp, "001Dn00000InitUS", "001INIT"+d.stamp,
		"001Dn00000InitHQ", "001HQ"+d.stamp, "5c1b9e7e-2f0e-4a9b-9f10-0d5a7a1e0001", "demo-"+d.stamp).Replace(string(raw))
	secret, err := secretFor(d.secretsFile, "salesforce.opportunities", "salesforce")
	if err != nil {
		return err
	}
	req, _ := http.NewRequest(http.MethodPost, d.base+"/webhooks/salesforce/salesforce/opportunities", strings.NewReader(body))
	req.Header.Set(webhook.SignatureHeader, webhook.Sign(secret, time.Now(), []byte(body)))
	resp, err := d.client.Do(req)
	if err != nil {
		return err
	}
	var conv map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&conv)
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("webhook: %d %v", resp.StatusCode, conv)
	}
	projectID := str(conv, "project", "id")
	fmt.Printf("   %s: customer %s, contract %s, project %s\n   %s\n", str(conv, "outcome"), str(conv, "customer", "id"),
		str(conv, "contract", "id"), projectID, str(conv, "message"))
	project := d.must(http.MethodGet, "/v1/projects/"+projectID, nil)
	var task string
	for _, t := range get(project, "project", "tasks").([]any) {
		tm := t.(map[string]any)
		if tm["contract_line_key"] == "00kDn000003Line1" && tm["billable"] == true && strings.Count(tm["wbs_code"].(string), ".") == 1 {
			task = tm["task_id"].(string)
			break
		}
	}
	fmt.Printf("   project %q is %s with %d tasks; staffing task %s\n", str(project, "project", "name"),
		str(project, "project", "status"), len(get(project, "project", "tasks").([]any)), task)

	step(3, "Staffing: a consultant costing 60.00/h, then 66.00/h from Feb 16, on the project 40 h/week for two weeks")
	res := d.must(http.MethodPost, "/v1/resources:upsert", map[string]any{"kind": "RESOURCE_KIND_EMPLOYEE", "name": "Demo Consultant",
		"email": "consultant-" + d.stamp + "@example.com", "home_legal_entity_code": "US01", "role": "CONSULTANT", "weekly_capacity_hours": "40",
		"utilization_target_percent": "75",
		"external_references":        []any{map[string]any{"system": "workday", "object_type": "Worker", "external_id": "DEMO-" + d.stamp}}})
	rid := str(res, "resource", "resource_id")
	date := func(y, m, dd int) map[string]any { return map[string]any{"year": y, "month": m, "day": dd} }
	usd := func(a string) map[string]any { return map[string]any{"amount": a, "currency_code": "USD"} }
	d.must(http.MethodPost, "/v1/resources/"+rid+"/cost-rates", map[string]any{"rate": usd("60.00"), "effective_from": date(2027, 1, 1), "effective_to": date(2027, 2, 15)})
	d.must(http.MethodPost, "/v1/resources/"+rid+"/cost-rates", map[string]any{"rate": usd("66.00"), "effective_from": date(2027, 2, 16)})
	var asg map[string]any
	d.wait("the assignment (the resource service learns the project from its events)", func() bool {
		st, out, _ := d.call(http.MethodPost, "/v1/assignments", map[string]any{"resource_id": rid, "project_id": projectID, "task_id": task,
			"start_date": date(2027, 2, 8), "end_date": date(2027, 2, 19), "hours_per_week": "40", "status": "ASSIGNMENT_STATUS_CONFIRMED"})
		asg = out
		return st == http.StatusCreated
	})
	fmt.Printf("   planned %s h costing %s  (6 days × 8 h × 60.00 + 4 days × 8 h × 66.00 = 4992.00)\n",
		str(asg, "assignment", "planned_hours"), money(asg, "assignment", "planned_cost"))
	var fin map[string]any
	d.wait("the forecast", func() bool {
		fin = d.must(http.MethodGet, "/v1/projects/"+projectID+"/financials", nil)
		return str(fin, "financials", "planned_cost", "amount") == "4992.00"
	})
	fmt.Printf("   forecast: cost %s, revenue %s (80 h × 150.00 + the 20000.00 fixed-fee line), margin %s = %s %%\n",
		money(fin, "financials", "planned_cost"), money(fin, "financials", "forecast_revenue"),
		money(fin, "financials", "forecast_margin"), str(fin, "financials", "forecast_margin_percent"))

	step(4, "Time & expense: a T&E tool sends approved entries (batch import); billing posts them")
	item := func(ext, day, hours string, billable bool) map[string]any {
		return map[string]any{"time": map[string]any{"resource_id": rid, "project_id": projectID, "task_id": task,
			"work_date": date(2027, 2, atoi(day)), "hours": hours, "billable": billable,
			"external_reference": map[string]any{"system": "tne", "object_type": "TimeEntry", "external_id": ext + d.stamp}}}
	}
	// Items of a resource the time & expense service has not heard of yet come back REJECTED
	// (REFERENCE_NOT_YET_KNOWN); the import is idempotent on the items' references, so send it
	// again until none is.
	var imp map[string]any
	d.wait("the import (the time & expense service learns the resource from its events)", func() bool {
		imp = d.must(http.MethodPost, "/v1/time-entries:importApproved", map[string]any{"items": []any{
			item("T1-", "8", "8", true), item("T2-", "9", "7.5", true), item("T3-", "16", "2", false),
			map[string]any{"expense": map[string]any{"resource_id": rid, "project_id": projectID, "task_id": task, "expense_date": date(2027, 2, 10),
				"category": "TRAVEL", "amount": usd("120.00"), "billable": true, "receipt_reference": "RCPT-1",
				"external_reference": map[string]any{"system": "tne", "object_type": "Expense", "external_id": "X1-" + d.stamp}}},
		}})
		n, _ := get(imp, "rejected").(float64)
		return n == 0
	})
	fmt.Printf("   accepted %v, duplicates %v, rejected %v\n", get(imp, "accepted"), get(imp, "duplicates"), get(imp, "rejected"))
	var ids []string
	for _, r := range get(imp, "results").([]any) {
		ids = append(ids, r.(map[string]any)["entry_id"].(string))
	}
	d.wait("the postings", func() bool {
		for _, id := range ids {
			if e := d.must(http.MethodGet, "/v1/time-entries/"+id, nil); str(e, "entry", "posting_status") != "POSTING_STATUS_POSTED" {
				return false
			}
		}
		return true
	})
	cands := d.must(http.MethodGet, "/v1/invoice-candidates?project_id="+projectID, nil)
	for _, c := range get(cands, "candidates").([]any) {
		cm := c.(map[string]any)
		fmt.Printf("   invoice candidate %s: %s × %s = %s\n", cm["source_type"], cm["quantity"], money(cm, "unit_price"), money(cm, "amount"))
	}
	fmt.Println("   (8 h and 7.5 h at 150.00 = 1200.00 and 1125.00; the 120.00 expense with the 10 % markup = 132.00; the non-billable 2 h post cost only)")
	tb := d.must(http.MethodGet, "/v1/legal-entities/"+leID+"/trial-balance", nil)
	fmt.Println("   trial balance of US01 (it includes every earlier demo run on these databases; `make reset` starts afresh):")
	for _, l := range get(tb, "lines").([]any) {
		lm := l.(map[string]any)
		if str(lm, "debit", "amount") != "0.00" || str(lm, "credit", "amount") != "0.00" {
			fmt.Printf("   %s %-32s debit %10s  credit %10s\n", lm["account_code"], lm["account_name"], str(lm, "debit", "amount"), str(lm, "credit", "amount"))
		}
	}
	fmt.Printf("   trial balance: debits %s = credits %s, balanced %v\n", money(tb, "total_debit"), money(tb, "total_credit"), get(tb, "balanced"))
	d.wait("the project actuals", func() bool {
		fin = d.must(http.MethodGet, "/v1/projects/"+projectID+"/financials", nil)
		return str(fin, "financials", "actual_hours") == "17.50"
	})
	fmt.Printf("   project actuals: %s h, cost %s, revenue %s, margin %s\n", str(fin, "financials", "actual_hours"),
		money(fin, "financials", "actual_cost"), money(fin, "financials", "actual_revenue"), money(fin, "financials", "actual_margin"))

	if err := d.receivables(leID, str(conv, "contract", "id"), str(conv, "customer", "id")); err != nil {
		return err
	}

	step(6, "KPIs")
	k := d.must(http.MethodGet, "/v1/billing/kpis", nil)
	pending := d.must(http.MethodGet, "/v1/projects?status=PROJECT_STATUS_PENDING_FINANCIAL_ACTIVATION&page_size=1", nil)
	missing := d.must(http.MethodGet, "/v1/assignments?rate_missing_only=true&page_size=1", nil)
	var unbilled []string
	for _, m := range asList(get(k, "unbilled_time")) {
		if mm, ok := m.(map[string]any); ok {
			unbilled = append(unbilled, money(mm))
		}
	}
	if len(unbilled) == 0 {
		unbilled = []string{"none"}
	}
	fmt.Printf("   unbilled time %s; projects awaiting financial activation %v; assignments missing cost rates %v;\n   entries rejected for closed periods %v; postings parked for missing rates %v\n",
		strings.Join(unbilled, ", "), get(pending, "total_count"), get(missing, "total_count"), get(k, "entries_rejected_closed_period"), get(k, "postings_parked_rate_missing"))
	d.showDeliveries(hooks, str(conv, "contract", "id"))
	fmt.Println("\nDemo done. Every step above is a REST call you can repeat with curl (see README, Workflows).")
	return nil
}

// receivables is step 5: the posted time becomes an invoice with terms 50 % at 30 days / 50 %
// at 60 days, a partial payment pays the first instalment and part of the second, and the AR
// aging 75 days after the invoice date shows what is left, overdue, beside the ledger.
func (d *demoRun) receivables(leID, contractID, customerID string) error {
	step(5, "Invoice, a partial payment and the AR aging")
	date := func(y, m, dd int) map[string]any { return map[string]any{"year": y, "month": m, "day": dd} }
	d.must(http.MethodPost, "/v1/legal-entities/"+leID+"/payment-terms", map[string]any{"payment_terms": map[string]any{
		"code": "50-30/50-60", "description": "half at 30 days, half at 60 days",
		"instalments": []any{map[string]any{"percent": "50", "due_days": 30}, map[string]any{"percent": "50", "due_days": 60}}}})
	d.must(http.MethodPost, "/v1/legal-entities/"+leID+"/receivables-policy", map[string]any{"policy": map[string]any{
		"default_terms_code": "50-30/50-60", "write_off_tolerance": "0.05"}})
	fmt.Println("   payment terms 50-30/50-60 (50 % due after 30 days, 50 % after 60) are US01's default; write-off tolerance 0.05")
	// Billing up to the invoice date: the 20000.00 training line, a fixed fee without a billing
	// schedule, is billed whole by the first proposal whose cut-off reaches its service start
	// (2027-05-01), so it stays off this invoice.
	draft := d.must(http.MethodPost, "/v1/contracts/"+contractID+"/invoices:propose", map[string]any{"cut_off": date(2027, 2, 28)})
	invID := str(draft, "invoice", "invoice_id")
	inv := d.must(http.MethodPost, "/v1/invoices/"+invID+":post", map[string]any{"issue_date": date(2027, 2, 28)})
	fmt.Printf("   invoice %s issued 2027-02-28: %d lines, total %s (1200.00 + 1125.00 + 132.00 = 2457.00), gross %s\n",
		str(inv, "invoice", "number"), len(asList(get(inv, "invoice", "lines"))), money(inv, "invoice", "total"), money(inv, "invoice", "gross"))
	fmt.Println("   (work up to the cut-off 2027-02-28; the 20000.00 training fee is billed whole once a cut-off reaches its service start, 2027-05-01)")
	inv = d.must(http.MethodGet, "/v1/invoices/"+invID, nil)
	for _, x := range asList(get(inv, "invoice", "instalments")) {
		xm := x.(map[string]any)
		fmt.Printf("   instalment %v: %s due %s\n", xm["instalment_no"], money(xm, "amount"), day(get(xm, "due_date")))
	}
	fmt.Println("   (2457.00 / 2 = 1228.50 due 2027-03-30 and 1228.50 due 2027-04-29)")
	pay := d.must(http.MethodPost, "/v1/payments", map[string]any{"legal_entity_id": leID, "customer_id": customerID,
		"reference": "BANK-" + d.stamp, "amount": map[string]any{"amount": "1500.00", "currency_code": "USD"}, "payment_date": date(2027, 3, 25)})
	payID := str(pay, "payment", "payment_id")
	app := d.must(http.MethodPost, "/v1/payments/"+payID+":apply", map[string]any{"allocations": []any{
		map[string]any{"invoice_id": invID, "amount": "1500.00"}}})
	for _, x := range asList(get(app, "instalments")) {
		xm := x.(map[string]any)
		fmt.Printf("   payment BANK-%s of 1500.00 on 2027-03-25: %s to instalment %v\n", d.stamp, money(xm, "applied"), xm["instalment_no"])
	}
	for _, x := range asList(get(app, "invoices")) {
		xm := x.(map[string]any)
		fmt.Printf("   invoice %s is %s, open %s  (2457.00 - 1500.00 = 957.00)\n", xm["invoice_number"], xm["status"], money(xm, "open"))
	}
	aging := d.must(http.MethodGet, "/v1/legal-entities/"+leID+"/ar-aging?as_of.year=2027&as_of.month=5&as_of.day=14", nil)
	fmt.Println("   AR aging of US01 as of 2027-05-14 (75 days after the invoice; the second instalment is 15 days overdue):")
	fmt.Printf("   %-38s %10s %10s %10s %10s %10s %10s\n", "customer", "current", "1-30", "31-60", "61-90", "over 90", "total")
	row := func(name string, b map[string]any) {
		fmt.Printf("   %-38s %10s %10s %10s %10s %10s %10s\n", name, str(b, "current", "amount"), str(b, "days_1_30", "amount"),
			str(b, "days_31_60", "amount"), str(b, "days_61_90", "amount"), str(b, "over_90", "amount"), str(b, "total", "amount"))
	}
	for _, x := range asList(get(aging, "customers")) {
		xm := x.(map[string]any)
		name := str(xm, "customer_id")
		if name == customerID {
			name += " *"
		}
		row(name, get(xm, "buckets").(map[string]any))
	}
	if t, ok := get(aging, "total").(map[string]any); ok {
		row("total", t)
	}
	fmt.Printf("   receivable account 1100 in the ledger on 2027-05-14: %s (equals the aging total)\n", money(aging, "ledger_receivable"))
	fmt.Println("   (* this run's customer: 957.00 in 1-30; earlier demo runs on these databases add their own rows)")
	return nil
}

// day formats a {year, month, day} JSON date.
func day(v any) string {
	m, _ := v.(map[string]any)
	n := func(k string) int { f, _ := m[k].(float64); return int(f) }
	return fmt.Sprintf("%04d-%02d-%02d", n("year"), n("month"), n("day"))
}

func asList(v any) []any { l, _ := v.([]any); return l }

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}
