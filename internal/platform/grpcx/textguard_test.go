package grpcx_test

import (
	"strings"
	"testing"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/grpcx"
)

func TestCheckTextNamesEveryFieldWithControlCharacters(t *testing.T) {
	t.Parallel()
	ok := &timeexpensev1.RecordTimeEntryRequest{Entry: &timeexpensev1.TimeEntryInput{
		Description: "line one\nline two\ttabbed, Zürich"}}
	if err := grpcx.CheckText(ok.ProtoReflect()); err != nil {
		t.Fatalf("CheckText(clean text) = %v", err)
	}
	bad := &timeexpensev1.ImportApprovedEntriesRequest{Items: []*timeexpensev1.ImportItem{
		{Item: &timeexpensev1.ImportItem_Time{Time: &timeexpensev1.TimeEntryInput{Description: "fine"}}},
		{Item: &timeexpensev1.ImportItem_Time{Time: &timeexpensev1.TimeEntryInput{Description: "a\x00b",
			ExternalReference: &commonv1.ExternalReference{ExternalId: "x\x1by"}}}},
		{Item: &timeexpensev1.ImportItem_Expense{Expense: &timeexpensev1.ExpenseInput{ReceiptReference: "\u0085",
			Description: strings.Repeat("é", grpcx.MaxStringLen+1)}}},
	}}
	fe, isFault := fault.As(grpcx.CheckText(bad.ProtoReflect()))
	if !isFault || fe.Kind != fault.Invalid || fe.Reason != grpcx.ReasonValidationFailed {
		t.Fatalf("CheckText(control characters) = %v, want Invalid / VALIDATION_FAILED", fe)
	}
	got := map[string]bool{}
	for _, v := range fe.Violations {
		got[v.Field] = true
	}
	for _, want := range []string{"items[1].time.description", "items[1].time.external_reference.external_id",
		"items[2].expense.receipt_reference", "items[2].expense.description"} {
		if !got[want] {
			t.Errorf("no violation for %s in %+v", want, fe.Violations)
		}
	}
	if len(fe.Violations) != 4 {
		t.Errorf("violations = %+v, want 4", fe.Violations)
	}
}
