package project

import (
	"fmt"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
)

func usd(s string) money.Amount {
	return money.Amount{Value: decimal.RequireFromString(s), Currency: "USD"}
}

func day(s string) civil.Date {
	d, _ := civil.Parse(s)
	return d
}

func deal() Deal {
	return Deal{Amount: usd("150000.00"), Start: day("2026-12-01"), End: day("2027-05-31"),
		Lines: []DealLine{
			{Key: "L1", ServiceLine: "IMPLEMENTATION", Amount: usd("120000.00"), BudgetHours: decimal.NewFromInt(800)},
			{Key: "L2", ServiceLine: "TRAINING", Amount: usd("30000.00"), BudgetHours: decimal.RequireFromString("40.5")},
		},
		AccountChain: []string{"001G", "001P"}}
}

func reason(err error) string { return fault.ReasonOf(err) }

func TestDealValidation(t *testing.T) {
	if err := deal().Validate(); err != nil {
		t.Fatalf("valid deal: %v", err)
	}
	if got := deal().BudgetHours(); !got.Equal(decimal.RequireFromString("840.5")) {
		t.Fatalf("budget hours = %s, want 840.5", got)
	}
	d := deal()
	d.Amount = usd("150000.01")
	if reason(d.Validate()) != ReasonLinesMismatch {
		t.Fatalf("lines 150000.00 vs deal 150000.01: %v", d.Validate())
	}
	d = deal()
	d.Lines[1].Amount = money.Amount{Value: decimal.NewFromInt(30000), Currency: "EUR"}
	if err := d.Validate(); reason(err) != ReasonCurrencyMismatch {
		t.Fatalf("EUR line in a USD deal: %v", err)
	}
	d = deal()
	d.Lines[1].Key = "L1"
	if reason(d.Validate()) != ReasonDuplicateLine {
		t.Fatalf("duplicate keys: %v", d.Validate())
	}
	d = deal()
	d.AccountChain = []string{"001G", "001P", "001G"}
	err := d.Validate()
	if reason(err) != ReasonHierarchyCycle {
		t.Fatalf("cycle: %v", err)
	}
	if fe, _ := fault.As(err); fe.Kind != fault.FailedPrecondition || fe.Violations[0].Field != "opportunity.parent_accounts[1].account_id" {
		t.Fatalf("cycle fault: %+v", fe)
	}
	d = deal()
	d.End = day("2026-11-30")
	if reason(d.Validate()) != ReasonInvalidPeriod {
		t.Fatalf("end before start: %v", d.Validate())
	}
}

func TestLifecycleAllowsOnlyListedTransitions(t *testing.T) {
	all := []Status{Draft, PendingFinancialActivation, Active, OnHold, Closed}
	allowed := map[string]bool{
		"DRAFT>PENDING_FINANCIAL_ACTIVATION": true, "DRAFT>CLOSED": true,
		"PENDING_FINANCIAL_ACTIVATION>ACTIVE": true, "PENDING_FINANCIAL_ACTIVATION>CLOSED": true,
		"ACTIVE>ON_HOLD": true, "ACTIVE>CLOSED": true, "ON_HOLD>ACTIVE": true, "ON_HOLD>CLOSED": true,
	}
	for _, from := range all {
		for _, to := range all {
			if from == to {
				continue
			}
			p := Project{Status: from, ContractID: "c"}
			err := p.Move(to)
			want := allowed[fmt.Sprintf("%s>%s", from, to)]
			if want != (err == nil) {
				t.Errorf("%s → %s: err %v, allowed %v", from, to, err, want)
			}
			if !want && reason(err) != "INVALID_STATUS_TRANSITION" {
				t.Errorf("%s → %s: reason %s", from, to, reason(err))
			}
		}
	}
	p := Project{Status: PendingFinancialActivation}
	if reason(p.Move(Active)) != "PROJECT_NOT_FINANCIALLY_ACTIVE" {
		t.Fatal("activation without a contract must be refused")
	}
}

func TestLineTasksBuildTheTemplateTreeUnderTheLine(t *testing.T) {
	tmpl := Template{ServiceLine: "IMPLEMENTATION", Tasks: []TemplateTask{
		{Key: "plan", Name: "Plan", Billable: true},
		{Key: "build", Name: "Build", Billable: true},
		{Key: "config", ParentKey: "build", Name: "Configuration", Billable: true},
		{Key: "integr", ParentKey: "build", Name: "Integrations", Billable: true},
		{Key: "pm", Name: "PM", Billable: false},
	}}
	if err := tmpl.Validate(); err != nil {
		t.Fatal(err)
	}
	n := 0
	tasks := LineTasks(2, "L2", "ERP build", tmpl, func() string { n++; return fmt.Sprint("t", n) })
	got := map[string]Task{}
	for _, task := range tasks {
		got[task.WBS] = task
		if task.ContractLineKey != "L2" || task.ServiceLine != "IMPLEMENTATION" {
			t.Errorf("task %s not linked to the line: %+v", task.WBS, task)
		}
	}
	want := map[string]string{"2": "ERP build", "2.1": "Plan", "2.2": "Build", "2.2.1": "Configuration", "2.2.2": "Integrations", "2.3": "PM"}
	if len(got) != len(want) {
		t.Fatalf("tasks = %d, want %d: %+v", len(got), len(want), tasks)
	}
	for wbs, name := range want {
		if got[wbs].Name != name {
			t.Errorf("wbs %s = %q, want %q", wbs, got[wbs].Name, name)
		}
	}
	if got["2.2.1"].ParentID != got["2.2"].ID || got["2.1"].ParentID != got["2"].ID || got["2"].ParentID != "" {
		t.Error("parent links are wrong")
	}
	if !got["2"].Billable || got["2.3"].Billable {
		t.Error("billable flags are wrong")
	}
	bad := Template{Tasks: []TemplateTask{{Key: "a", ParentKey: "b", Name: "A"}, {Key: "b", Name: "B"}}}
	if reason(bad.Validate()) != "INVALID_TASK_TREE" {
		t.Error("a child listed before its parent must be refused")
	}
}
