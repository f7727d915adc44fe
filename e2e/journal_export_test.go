package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/accrue/accrue/e2e/internal/harness"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
)

// The ERP pulls the journal of the hand-checked example (see posting_test.go) through the
// gateway as JSON lines: every line of every posted entry once, balanced, with the cross-system
// ids; it acknowledges the last cursor and the report says so.
func TestJournalExportThroughTheGateway(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	le := createLegalEntity(t, env, "US01", billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT)
	fx := newPostingProject(t, env, le, "export")
	ada := newPostingResource(t, env, le, "Ada Lovelace", "CONSULTANT", consultantCostRate)
	c2h := mustRecordTime(t, env, timeIn(ada, fx.projectID, fx.billable, date(2026, 6, 8), "2", true))
	exp := mustRecordExpense(t, env, expenseIn(ada, fx.projectID, fx.billable, date(2026, 6, 10), "120.00", true))
	submitTimesheet(t, env, c2h.GetTimesheetId())
	approveTimesheet(t, env, c2h.GetTimesheetId())
	waitPostingStatus(t, env, stPosted, c2h.GetEntryId(), exp.GetEntryId())
	// 2 h consultant: 5000/2150 40.00, 1200/4000 100.00; expense: 5100/2100 120.00, 1200/4100 132.00.
	const wantLines, wantDebits = 8, "392"

	erp := env.Bearer([]string{"journal:export"})
	path := "/v1/legal-entities/" + le.GetLegalEntityId() + "/journal-export"
	type line struct {
		Cursor, EntryID, SourceID, ProjectID, CustomerID, CorrelationID string
		LineNo                                                          int
		FunctionalDebit, FunctionalCredit                               string
	}
	var lines []line
	var body []byte
	harness.Eventually(t, 30*time.Second, 200*time.Millisecond, func() error {
		st, hdr, b := env.Do(http.MethodGet, path, nil, erp)
		if st != http.StatusOK || hdr.Get("Content-Type") != "application/x-ndjson" {
			return fmt.Errorf("export: %d %s: %s", st, hdr.Get("Content-Type"), b)
		}
		lines, body = nil, b
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				return err
			}
			lines = append(lines, line{Cursor: m["cursor"].(string), EntryID: m["entry_id"].(string), SourceID: m["source_id"].(string),
				ProjectID: m["project_id"].(string), CustomerID: m["customer_id"].(string), CorrelationID: m["correlation_id"].(string),
				LineNo: int(m["line_no"].(float64)), FunctionalDebit: m["functional_debit"].(string), FunctionalCredit: m["functional_credit"].(string)})
		}
		if len(lines) != wantLines {
			return fmt.Errorf("%d lines exported, want %d", len(lines), wantLines)
		}
		return nil
	})
	debits, credits, seen := new(big.Rat), new(big.Rat), map[string]bool{}
	for _, l := range lines {
		key := fmt.Sprintf("%s/%d", l.EntryID, l.LineNo)
		if seen[key] || l.ProjectID != fx.projectID || l.CustomerID == "" || l.CorrelationID == "" ||
			(l.SourceID != c2h.GetEntryId() && l.SourceID != exp.GetEntryId()) {
			t.Errorf("line %+v: repeated, or missing its project, customer, correlation id or source", l)
		}
		seen[key] = true
		debits.Add(debits, rat(l.FunctionalDebit))
		credits.Add(credits, rat(l.FunctionalCredit))
	}
	if debits.Cmp(credits) != 0 || debits.Cmp(rat(wantDebits)) != 0 {
		t.Errorf("debits %s, credits %s; want both %s", debits.FloatString(2), credits.FloatString(2), wantDebits)
	}
	if st, _, again := env.Do(http.MethodGet, path+"?cursor="+lines[3].Cursor, nil, erp); st != http.StatusOK ||
		!bytes.Equal(again, body[len(body)-len(again):]) || bytes.Count(again, []byte("\n")) != wantLines-4 {
		t.Errorf("resumed after the 4th line: %d %q", st, again)
	}

	last := lines[len(lines)-1].Cursor
	for range 2 {
		st, _, b := env.Do(http.MethodPost, path+":acknowledge", map[string]any{"cursor": last}, erp)
		if st != http.StatusOK {
			t.Fatalf("acknowledge: %d %s", st, b)
		}
	}
	st, _, b := env.Do(http.MethodGet, "/v1/journal-export/report", nil, erp)
	var report struct {
		LegalEntities []struct {
			LegalEntityID      string `json:"legal_entity_id"`
			ExportedLines      string `json:"exported_lines"`
			AcknowledgedLines  string `json:"acknowledged_lines"`
			AcknowledgedCursor string `json:"acknowledged_cursor"`
		} `json:"legal_entities"`
	}
	if err := json.Unmarshal(b, &report); st != http.StatusOK || err != nil || len(report.LegalEntities) != 1 ||
		report.LegalEntities[0].AcknowledgedLines != "8" || report.LegalEntities[0].ExportedLines != "8" ||
		report.LegalEntities[0].AcknowledgedCursor != last {
		t.Errorf("report: %d %s (%v)", st, b, err)
	}
}
