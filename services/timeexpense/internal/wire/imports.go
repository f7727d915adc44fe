package wire

import (
	"strconv"

	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
)

// ImportItems converts an import request's items; an item that cannot be converted carries its
// error (it is reported REJECTED, the others go on).
func ImportItems(req *timeexpensev1.ImportApprovedEntriesRequest) []te.ImportItem {
	items := make([]te.ImportItem, len(req.GetItems()))
	for i, it := range req.GetItems() {
		field := "items[" + strconv.Itoa(i) + "]"
		if t := it.GetTime(); t != nil {
			items[i].Input, items[i].Err = TimeInput(t, field+".time")
		} else {
			items[i].Input, items[i].Err = ExpenseInput(it.GetExpense(), field+".expense")
		}
	}
	return items
}

var importOutcomes = map[te.ImportOutcome]timeexpensev1.ImportOutcome{
	te.ImportAccepted:  timeexpensev1.ImportOutcome_IMPORT_OUTCOME_ACCEPTED,
	te.ImportDuplicate: timeexpensev1.ImportOutcome_IMPORT_OUTCOME_DUPLICATE,
	te.ImportRejected:  timeexpensev1.ImportOutcome_IMPORT_OUTCOME_REJECTED,
}

// ImportResponse converts an import's summary.
func ImportResponse(sum te.ImportSummary) *timeexpensev1.ImportApprovedEntriesResponse {
	resp := &timeexpensev1.ImportApprovedEntriesResponse{Results: make([]*timeexpensev1.ImportResult, len(sum.Results)),
		Accepted: int32(sum.Accepted), Duplicates: int32(sum.Duplicates), Rejected: int32(sum.Rejected)}
	for i, r := range sum.Results {
		resp.Results[i] = &timeexpensev1.ImportResult{Index: int32(r.Index), ExternalId: r.ExternalID, Outcome: importOutcomes[r.Outcome],
			EntryId: r.EntryID, Reason: r.Reason, Message: r.Message}
	}
	return resp
}
