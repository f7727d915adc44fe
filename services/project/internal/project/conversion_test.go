package project

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestJudgeComparesARequestWithTheStoredConversion(t *testing.T) {
	c := Conversion{Version: 3, Fingerprint: []byte("abc"), State: ConversionActive}
	for _, tc := range []struct {
		name    string
		version int64
		fp      string
		state   string
		want    Verdict
		reason  string
	}{
		{"older version", 2, "zzz", ConversionActive, Stale, ""},
		{"same version, other content", 3, "zzz", ConversionActive, Todo, ReasonSourceVersionReused},
		{"same version, done", 3, "abc", ConversionActive, Done, ""},
		{"same version, waiting for the contract", 3, "abc", ConversionPending, Todo, ""},
		{"newer version", 4, "zzz", ConversionActive, Todo, ""},
	} {
		c.State = tc.state
		got, err := c.Judge(tc.version, []byte(tc.fp))
		if got != tc.want || reason(err) != tc.reason {
			t.Errorf("%s: %v (%v), want %v (%q)", tc.name, got, err, tc.want, tc.reason)
		}
	}
}

func TestCheckSetupNeedsTemplatesAndALegalEntityInAnyCurrency(t *testing.T) {
	look := ConversionLookup{Templates: map[string]Template{"IMPLEMENTATION": {}, "TRAINING": {}},
		LegalEntity: LegalEntity{Code: "US01", FunctionalCurrency: "USD"}, LegalEntityFound: true}
	d := deal()
	d.LegalEntityCode = "US01"
	if err := d.CheckSetup(look); err != nil {
		t.Fatalf("known setup: %v", err)
	}
	noTraining := look
	noTraining.Templates = map[string]Template{"IMPLEMENTATION": {}}
	unknown := look
	unknown.LegalEntityFound = false
	// A USD deal signed by a legal entity keeping its books in EUR is a foreign-currency contract.
	euro := look
	euro.LegalEntity.FunctionalCurrency = "EUR"
	if err := d.CheckSetup(euro); err != nil {
		t.Errorf("a deal in another currency than the books: %v, want accepted", err)
	}
	for name, tc := range map[string]struct {
		look   ConversionLookup
		reason string
	}{
		"no template":     {noTraining, ReasonUnknownServiceLine},
		"no legal entity": {unknown, ReasonUnknownLegalEntity},
	} {
		if got := reason(d.CheckSetup(tc.look)); got != tc.reason {
			t.Errorf("%s: %q, want %s", name, got, tc.reason)
		}
	}
}

func TestDealBuildsItsProjectThenAmendsIt(t *testing.T) {
	n := 0
	newID := func() string { n++; return "id-" + strconv.Itoa(n) }
	tmpl := map[string]Template{
		"IMPLEMENTATION": {ServiceLine: "IMPLEMENTATION", Name: "System implementation", Tasks: []TemplateTask{{Key: "build", Name: "Build", Billable: true}}},
		"TRAINING":       {ServiceLine: "TRAINING", Name: "Training", Tasks: []TemplateTask{{Key: "deliver", Name: "Delivery", Billable: true}}},
	}
	d := deal()
	d.Lines[0].Description = "ERP build"
	now := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	p, err := d.NewProject("cust", "le", "", tmpl, now, newID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != PendingFinancialActivation || len(p.Tasks) != 4 || p.Tasks[0].Name != "ERP build" || p.Tasks[2].Name != "Training" ||
		p.Budget.Revenue.Format() != "150000.00" || p.Budget.Hours.String() != "840.5" {
		t.Fatalf("project %+v, want PENDING_FINANCIAL_ACTIVATION with 4 tasks named after the lines and the deal's budget", p)
	}
	active, err := d.NewProject("cust", "le", "contract-1", tmpl, now, newID)
	if err != nil || active.Status != Active || active.ContractID != "contract-1" {
		t.Fatalf("with a contract: %s %q (%v), want ACTIVE", active.Status, active.ContractID, err)
	}

	d.Name = "ERP rollout, phase 2"
	d.Lines = append(d.Lines, DealLine{Key: "L3", ServiceLine: "TRAINING", Amount: usd("1.00")})
	added := p.Amend(d, "cust-2", tmpl, now.Add(time.Hour), newID)
	if len(added) != 2 || added[0].WBS != "3" || added[1].WBS != "3.1" || len(p.Tasks) != 6 || p.Version != 2 ||
		p.Name != "ERP rollout, phase 2" || p.CustomerID != "cust-2" {
		t.Fatalf("amended %+v (added %+v), want tasks 3 and 3.1 for the new line, version 2, new name and customer", p, added)
	}
}

func TestAttachContractActivatesAWaitingProjectOnce(t *testing.T) {
	now := time.Now()
	p := Project{ID: "p", Status: PendingFinancialActivation, Version: 1}
	if changed, err := p.AttachContract("c1", now); err != nil || !changed || p.Status != Active || p.Version != 2 {
		t.Fatalf("first attach: %v %v, project %s v%d; want ACTIVE at version 2", changed, err, p.Status, p.Version)
	}
	if changed, _ := p.AttachContract("c1", now); changed || p.Version != 2 {
		t.Fatalf("same contract again changed the project (version %d)", p.Version)
	}
	p.Status = OnHold
	if changed, _ := p.AttachContract("c2", now); !changed || p.Status != OnHold || p.ContractID != "c2" {
		t.Fatalf("new contract on hold: %s %s, want ON_HOLD with c2", p.Status, p.ContractID)
	}
	if err := p.CheckVersion(2); reason(err) != "VERSION_CONFLICT" {
		t.Fatalf("stale version check: %v, want VERSION_CONFLICT", err)
	}
}

func TestSummarySaysWhatTheConversionDid(t *testing.T) {
	r := ConversionResult{Customer: ConvertedRecord{Outcome: OutcomeCreated}, Contract: ConvertedRecord{Outcome: OutcomePending},
		Project: ConvertedRecord{Outcome: OutcomeCreated}, ProjectStatus: PendingFinancialActivation, TaskCount: 4}
	got := r.Summary()
	if !strings.HasPrefix(got, "customer created, contract pending, project created (PENDING_FINANCIAL_ACTIVATION, 4 tasks); billing is unavailable") {
		t.Fatalf("summary %q", got)
	}
}
