package app_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/services/timeexpense/internal/app"
)

// rejected returns accrue_time_entries_rejected_total{reason}.
func rejected(t *testing.T, reason string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(app.Collectors()...)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "accrue_time_entries_rejected_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == reason {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func TestRefusedEntriesAreCounted(t *testing.T) {
	t.Parallel()
	uc := setup(t).uc
	ctx := context.Background()
	notFound, notBillable := rejected(t, "PROJECT_NOT_FOUND"), rejected(t, "TASK_NOT_BILLABLE")

	in := month("M", 1, 0)[0].Input
	in.Ref, in.ProjectID = nil, "01a2210c-0000-7000-8001-999999999999"
	if _, err := uc.Record(ctx, in); fault.ReasonOf(err) != "PROJECT_NOT_FOUND" {
		t.Fatalf("record: %v", err)
	}
	items := month("M", 3, 0)
	items[1].Input.TaskID = taskID(1, 0) // project 1's non-billable task
	items[2].Input.TaskID = taskID(2, 0)
	items[2].Input.Hours = decimal.NewFromInt(2)
	sum, err := uc.Import(ctx, items)
	if err != nil || sum.Accepted != 1 || sum.Rejected != 2 {
		t.Fatalf("import: %+v %v", sum, err)
	}
	if d := rejected(t, "PROJECT_NOT_FOUND") - notFound; d != 1 {
		t.Errorf("PROJECT_NOT_FOUND counted %v times, want 1", d)
	}
	if d := rejected(t, "TASK_NOT_BILLABLE") - notBillable; d != 2 {
		t.Errorf("TASK_NOT_BILLABLE counted %v times, want 2", d)
	}
}
