package main

import (
	"go/token"
	"strings"
	"testing"
)

// The contracts' RPCs are read with their REST routes.
func TestReadRPCs(t *testing.T) {
	rpcs, err := readRPCs("../..")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]rpc{}
	for _, r := range rpcs {
		byName[r.service+"."+r.name] = r
	}
	if len(rpcs) < 40 {
		t.Fatalf("%d RPCs read, want the contracts' 50 or so", len(rpcs))
	}
	for name, want := range map[string]rpc{
		"ProjectService.ConvertOpportunity":    {domain: "project", request: "ConvertOpportunityRequest", verb: "POST", path: "/v1/opportunities:convert"},
		"TimeExpenseService.SubmitTimesheet":   {domain: "timeexpense", request: "SubmitTimesheetRequest", verb: "POST", path: "/v1/timesheets/{timesheet_id}:submit"},
		"ContractService.GetContract":          {domain: "billing", request: "GetContractRequest", verb: "GET", path: "/v1/contracts/{contract_id}"},
		"ExceptionService.ListExceptions":      {domain: "ops", request: "ListExceptionsRequest", verb: "GET"},
		"CustomerService.UpsertCustomer":       {domain: "customer", request: "UpsertCustomerRequest", verb: "POST"},
		"AssignmentService.CreateAssignment":   {domain: "resource", request: "CreateAssignmentRequest", verb: "POST"},
		"LegalEntityService.CreateLegalEntity": {domain: "billing", request: "CreateLegalEntityRequest", verb: "POST"},
	} {
		got, ok := byName[name]
		if !ok || got.domain != want.domain || got.request != want.request || got.verb != want.verb || (want.path != "" && got.path != want.path) {
			t.Errorf("%s = %+v, want %+v", name, got, want)
		}
	}
}

// A reason's codes, HTTP statuses, meaning and callers are written as the doc says.
func TestRender(t *testing.T) {
	pr := &program{kindCodes: map[string]string{"fault.FailedPrecondition": "FAILED_PRECONDITION", "fault.NotFound": "NOT_FOUND"},
		statusByReason: map[string]int{"IDEMPOTENCY_KEY_REUSED": 422}}
	d := &doc{pr: pr, byReason: map[string]*entry{}, rpcs: []rpc{
		{service: "TimeExpenseService", name: "RecordTimeEntry"}, {service: "TimeExpenseService", name: "RecordExpense"},
		{service: "TimeExpenseService", name: "GetTimesheet"},
	}}
	e := d.entry("TIMESHEET_NOT_EDITABLE", []site{
		{reason: "TIMESHEET_NOT_EDITABLE", code: "kind:FailedPrecondition", message: "the timesheet %s is | submitted", pos: token.Position{Line: 1}},
		{reason: "TIMESHEET_NOT_EDITABLE", code: "kind:FailedPrecondition", message: "the timesheet %s is | submitted", pos: token.Position{Line: 2}},
	})
	e.rpcs["TimeExpenseService.RecordTimeEntry"] = d.rpcs[0]
	e.rpcs["TimeExpenseService.RecordExpense"] = d.rpcs[1]
	d.entry("IDEMPOTENCY_KEY_REUSED", []site{{reason: "IDEMPOTENCY_KEY_REUSED", code: "kind:FailedPrecondition"}}).every = true
	d.entry("REPLAYED_EVENT", []site{{reason: "REPLAYED_EVENT", http: 409}}).webhooks = true
	d.entry("EVENT_UNROUTABLE", []site{{reason: "EVENT_UNROUTABLE", code: "kind:NotFound"}}).defined = map[string]bool{"internal/platform/stream": true}
	text := d.render()
	for _, want := range []string{
		"| `TIMESHEET_NOT_EDITABLE` | FAILED_PRECONDITION | 400 | the timesheet … is \\| submitted | TimeExpenseService: RecordExpense, RecordTimeEntry |",
		"| `IDEMPOTENCY_KEY_REUSED` | FAILED_PRECONDITION | 422 |  | any RPC (gRPC server interceptors) |",
		"| `REPLAYED_EVENT` | — | 409 |  | webhook routes (`/webhooks/…`) |",
		"| `EVENT_UNROUTABLE` | NOT_FOUND | — |  | no API call (made in internal/platform/stream) |",
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("the doc lacks the line\n%s\n---\n%s", want, text)
		}
	}
	if strings.Index(text, "EVENT_UNROUTABLE") > strings.Index(text, "TIMESHEET_NOT_EDITABLE") {
		t.Error("reasons are not sorted")
	}
}

func TestCodeName(t *testing.T) {
	for in, want := range map[string]string{"codes.InvalidArgument": "INVALID_ARGUMENT", "codes.Unavailable": "UNAVAILABLE", "codes.DeadlineExceeded": "DEADLINE_EXCEEDED"} {
		if got := codeName(in); got != want {
			t.Errorf("codeName(%s) = %s, want %s", in, got, want)
		}
	}
}
