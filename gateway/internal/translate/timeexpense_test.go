package translate_test

import (
	"context"
	"testing"

	"google.golang.org/grpc"

	"github.com/accrue/accrue/gateway/internal/translate"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/fault"
)

// recorder is the service's client as far as the translator sees it: it keeps the request.
type recorder struct {
	timeexpensev1.TimeExpenseServiceClient
	got *timeexpensev1.ImportApprovedEntriesRequest
}

func (r *recorder) ImportApprovedEntries(_ context.Context, req *timeexpensev1.ImportApprovedEntriesRequest, _ ...grpc.CallOption) (*timeexpensev1.ImportApprovedEntriesResponse, error) {
	r.got = req
	return &timeexpensev1.ImportApprovedEntriesResponse{Accepted: int32(len(req.GetItems()))}, nil
}

func TestApprovedEntries(t *testing.T) {
	rec := &recorder{}
	tr := translate.ApprovedEntries(rec)
	body := `{"event_id": "evt-42", "items": [
		{"time": {"resource_id": "01a2210c-0000-7000-8000-00000000000a", "project_id": "01a2210c-0000-7000-8000-0000000000b1",
		  "task_id": "01a2210c-0000-7000-8000-0000000000c1", "work_date": {"year": 2026, "month": 6, "day": 9}, "hours": "7.5",
		  "billable": true, "external_reference": {"object_type": "TimeEntry", "external_id": "T-1"}}},
		{"expense": {"resource_id": "01a2210c-0000-7000-8000-00000000000a", "project_id": "01a2210c-0000-7000-8000-0000000000b1",
		  "task_id": "01a2210c-0000-7000-8000-0000000000c1", "expense_date": {"year": 2026, "month": 6, "day": 9},
		  "category": "TRAVEL", "amount": {"amount": "42.00", "currency_code": "EUR"},
		  "external_reference": {"system": "expensify", "object_type": "Expense", "external_id": "E-1"}}}]}`
	cmd, err := tr("harvest", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if cmd.EventID != "evt-42" {
		t.Fatalf("event id = %q", cmd.EventID)
	}
	if _, err := cmd.Call(context.Background()); err != nil {
		t.Fatal(err)
	}
	items := rec.got.GetItems()
	if len(items) != 2 || items[0].GetTime().GetHours() != "7.5" || items[1].GetExpense().GetAmount().GetAmount() != "42.00" {
		t.Fatalf("request: %v", rec.got)
	}
	if s := items[0].GetTime().GetExternalReference().GetSystem(); s != "harvest" {
		t.Fatalf("a reference without system takes the webhook source: %q", s)
	}
	if s := items[1].GetExpense().GetExternalReference().GetSystem(); s != "expensify" {
		t.Fatalf("a reference's own system is kept: %q", s)
	}

	for name, bad := range map[string]string{
		"not json":   `{`,
		"no items":   `{"event_id": "evt-1", "items": []}`,
		"no eventid": `{"items": [{"time": {"hours": "1"}}]}`,
		"unknown":    `{"event_id": "evt-1", "entries": []}`,
	} {
		if _, err := tr("harvest", []byte(bad)); fault.ReasonOf(err) != translate.ReasonMalformed {
			t.Errorf("%s: got %v, want %s", name, err, translate.ReasonMalformed)
		}
	}
}
