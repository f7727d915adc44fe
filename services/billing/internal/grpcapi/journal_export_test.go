package grpcapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"google.golang.org/grpc/codes"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/services/billing/internal/erpexport"
)

type exportedLine struct {
	Cursor           string          `json:"cursor"`
	EntryID          string          `json:"entry_id"`
	LineNo           int             `json:"line_no"`
	LegalEntityID    string          `json:"legal_entity_id"`
	Period           string          `json:"period"`
	Debit            decimal.Decimal `json:"debit"`
	Credit           decimal.Decimal `json:"credit"`
	FunctionalDebit  decimal.Decimal `json:"functional_debit"`
	FunctionalCredit decimal.Decimal `json:"functional_credit"`
	SourceID         string          `json:"source_id"`
	CorrelationID    string          `json:"correlation_id"`
}

func parseJSONL(t *testing.T, b []byte) []exportedLine {
	t.Helper()
	var out []exportedLine
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var l exportedLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	return out
}

const jsonl, csvFormat = billingv1.JournalExportFormat_JOURNAL_EXPORT_FORMAT_JSONL, billingv1.JournalExportFormat_JOURNAL_EXPORT_FORMAT_CSV

func TestJournalExportLinesAreBalancedAndComplete(t *testing.T) {
	t.Parallel()
	env, cl := startExport(t)
	us, de := entity(t, env, cl, "US01", "USD"), entity(t, env, cl, "DE01", "EUR")
	ctx := context.Background()
	postEntries(t, ctx, env.DB.Pool, us, "us", 2600) // 5,200 lines: three pages
	postEntries(t, ctx, env.DB.Pool, de, "de", 7)
	waitExportable(t, env.DB.Pool, us)

	b, cursor, n := mustExport(t, env.Ctx(exportScope), cl, &billingv1.ExportJournalRequest{LegalEntityId: us, Format: jsonl})
	lines := parseJSONL(t, b)
	if n != 5200 || len(lines) != 5200 || cursor != lines[len(lines)-1].Cursor {
		t.Fatalf("got %d lines (%d counted, last cursor %q), want 5200 ending at the last line's cursor", len(lines), n, cursor)
	}
	seen := map[string]bool{}
	debit, credit := map[string]decimal.Decimal{}, map[string]decimal.Decimal{}
	for _, l := range lines {
		key := l.EntryID + "/" + string(rune('0'+l.LineNo))
		if seen[key] || l.LegalEntityID != us || l.Period != "2026-12" || l.CorrelationID == "" || l.SourceID == "" {
			t.Fatalf("line %+v is repeated or incomplete", l)
		}
		seen[key] = true
		debit[l.EntryID], credit[l.EntryID] = debit[l.EntryID].Add(l.FunctionalDebit), credit[l.EntryID].Add(l.FunctionalCredit)
		if !l.Debit.Equal(l.FunctionalDebit) || !l.Credit.Equal(l.FunctionalCredit) {
			t.Fatalf("line %+v: USD amounts differ from the USD functional ones", l)
		}
	}
	if len(debit) != 2600 {
		t.Fatalf("got %d entries, want 2600", len(debit))
	}
	for id, d := range debit {
		if !d.Equal(credit[id]) || d.IsZero() {
			t.Fatalf("entry %s: debits %s, credits %s", id, d, credit[id])
		}
	}

	c, _, n := mustExport(t, env.Ctx(exportScope), cl, &billingv1.ExportJournalRequest{LegalEntityId: us, Format: csvFormat})
	rows, err := csv.NewReader(bytes.NewReader(c)).ReadAll()
	if err != nil || n != 5200 || len(rows) != 5201 || strings.Join(rows[0], ",") != strings.Join(erpexport.Columns, ",") {
		t.Fatalf("csv: %v, %d rows (%d lines), header %v", err, len(rows), n, rows[0])
	}
	if rows[1][0] != lines[0].Cursor || rows[5200][1] != lines[5199].EntryID {
		t.Fatalf("csv and JSON lines differ in order: %v vs %+v", rows[1], lines[0])
	}
}

func TestJournalExportResumedFromACursorYieldsIdenticalBytes(t *testing.T) {
	t.Parallel()
	env, cl := startExport(t)
	us := entity(t, env, cl, "US01", "USD")
	postEntries(t, context.Background(), env.DB.Pool, us, "us", 1500)
	waitExportable(t, env.DB.Pool, us)
	ctx := env.Ctx(exportScope)

	for _, f := range []billingv1.JournalExportFormat{jsonl, csvFormat} {
		full, _, _ := mustExport(t, ctx, cl, &billingv1.ExportJournalRequest{LegalEntityId: us, Format: f})
		// An ERP that imported 1,234 lines (a first export capped there) resumes from its cursor.
		_, cursor, n := mustExport(t, ctx, cl, &billingv1.ExportJournalRequest{LegalEntityId: us, Format: f, MaxLines: 1234})
		first, _, _ := mustExport(t, ctx, cl, &billingv1.ExportJournalRequest{LegalEntityId: us, Format: f, Cursor: cursor})
		again, _, _ := mustExport(t, ctx, cl, &billingv1.ExportJournalRequest{LegalEntityId: us, Format: f, Cursor: cursor})
		if n != 1234 || !bytes.Equal(first, again) {
			t.Fatalf("%s: re-running from the same cursor gave different bytes (%d vs %d)", f, len(first), len(again))
		}
		all := strings.SplitAfter(string(full), "\n")
		tail := strings.Join(all[1234:], "") // JSON lines: the lines after the 1,234th
		if f == csvFormat {
			tail = all[0] + strings.Join(all[1235:], "") // CSV: the header, then the same
		}
		if string(first) != tail {
			t.Fatalf("%s: the resumed export is not the full one's tail", f)
		}
	}
}

func TestJournalExportAcknowledgementIsIdempotent(t *testing.T) {
	t.Parallel()
	env, cl := startExport(t)
	us := entity(t, env, cl, "US01", "USD")
	postEntries(t, context.Background(), env.DB.Pool, us, "us", 300)
	waitExportable(t, env.DB.Pool, us)
	ctx := env.Ctx(exportScope)

	_, cursor100, _ := mustExport(t, ctx, cl, &billingv1.ExportJournalRequest{LegalEntityId: us, MaxLines: 100})
	_, cursor400, _ := mustExport(t, ctx, cl, &billingv1.ExportJournalRequest{LegalEntityId: us, MaxLines: 400})
	var statuses []*billingv1.JournalExportStatus
	for _, c := range []string{cursor100, cursor400, cursor400, cursor100} {
		resp, err := cl.x.AcknowledgeJournalExport(ctx, &billingv1.AcknowledgeJournalExportRequest{LegalEntityId: us, Cursor: c})
		if err != nil {
			t.Fatal(err)
		}
		statuses = append(statuses, resp.GetStatus())
	}
	if got := statuses[0].GetAcknowledgedLines(); got != 100 {
		t.Fatalf("first acknowledgement covers %d lines, want 100", got)
	}
	for _, st := range statuses[1:] {
		if st.GetAcknowledgedLines() != 400 || st.GetAcknowledgedCursor() != cursor400 || st.GetExportedLines() != 400 || st.GetAvailableLines() != 600 {
			t.Fatalf("after acknowledging 400 lines: %v", st)
		}
	}
	if n := env.Count("audit_log WHERE action = 'journal_export.acknowledged'"); n != 2 {
		t.Fatalf("%d acknowledgements audited, want 2 (100 lines, then 400; the repeats changed nothing)", n)
	}
	beyond := erpexport.Position{Xact: 1 << 40, Seq: 1}.Cursor()
	_, err := cl.x.AcknowledgeJournalExport(ctx, &billingv1.AcknowledgeJournalExportRequest{LegalEntityId: us, Cursor: beyond})
	wantErr(t, err, codes.FailedPrecondition, "EXPORT_CURSOR_NOT_EXPORTED")
	_, err = cl.x.AcknowledgeJournalExport(ctx, &billingv1.AcknowledgeJournalExportRequest{LegalEntityId: us, Cursor: "not-a-cursor"})
	wantErr(t, err, codes.InvalidArgument, "EXPORT_CURSOR_INVALID")
	_, _, _, err = export(t, ctx, cl, &billingv1.ExportJournalRequest{LegalEntityId: us, Cursor: "bm90LWEtY3Vyc29y"})
	wantErr(t, err, codes.InvalidArgument, "EXPORT_CURSOR_INVALID")

	report, err := cl.x.GetJournalExportReport(ctx, &billingv1.GetJournalExportReportRequest{})
	if err != nil || len(report.GetLegalEntities()) != 1 || report.GetLegalEntities()[0].GetAcknowledgedLines() != 400 ||
		report.GetLegalEntities()[0].GetAcknowledgedBy() != "test-client" {
		t.Fatalf("report: %v, %v", report, err)
	}
}

func TestJournalExportShowsNoOtherEntitysLines(t *testing.T) {
	t.Parallel()
	env, cl := startExport(t)
	us, de := entity(t, env, cl, "US01", "USD"), entity(t, env, cl, "DE01", "EUR")
	postEntries(t, context.Background(), env.DB.Pool, us, "us", 20)
	postEntries(t, context.Background(), env.DB.Pool, de, "de", 30)
	waitExportable(t, env.DB.Pool, de)
	usOnly := env.EntityCtx([]string{us}, exportScope)

	_, _, _, err := export(t, usOnly, cl, &billingv1.ExportJournalRequest{LegalEntityId: de})
	wantErr(t, err, codes.PermissionDenied, "LEGAL_ENTITY_FORBIDDEN")
	_, err = cl.x.AcknowledgeJournalExport(usOnly, &billingv1.AcknowledgeJournalExportRequest{LegalEntityId: de,
		Cursor: erpexport.Position{Xact: 1, Seq: 1}.Cursor()})
	wantErr(t, err, codes.PermissionDenied, "LEGAL_ENTITY_FORBIDDEN")
	_, _, _, err = export(t, env.Ctx([]string{"billing:read"}), cl, &billingv1.ExportJournalRequest{LegalEntityId: us})
	if got := grpcCode(err); got != codes.PermissionDenied {
		t.Fatalf("export without journal:export: %v", err)
	}

	b, _, n := mustExport(t, usOnly, cl, &billingv1.ExportJournalRequest{LegalEntityId: us})
	for _, l := range parseJSONL(t, b) {
		if l.LegalEntityID != us {
			t.Fatalf("US01's export holds a line of %s", l.LegalEntityID)
		}
	}
	report, err := cl.x.GetJournalExportReport(usOnly, &billingv1.GetJournalExportReportRequest{})
	if err != nil || n != 40 || len(report.GetLegalEntities()) != 1 || report.GetLegalEntities()[0].GetLegalEntityId() != us ||
		report.GetLegalEntities()[0].GetExportedLines() != 40 {
		t.Fatalf("export of %d lines, report %v, %v", n, report, err)
	}
}

// A transaction that began writing first but commits last must not be skipped by a cursor taken
// in between: the export stops below it until it ends.
func TestJournalExportNeverSkipsALateCommit(t *testing.T) {
	t.Parallel()
	env, cl := startExport(t)
	us := entity(t, env, cl, "US01", "USD")
	ctx := env.Ctx(exportScope)
	bg := context.Background()

	early, err := env.DB.Pool.Begin(bg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = early.Rollback(bg) }()
	postEntries(t, bg, early, us, "early", 5)
	postEntries(t, bg, env.DB.Pool, us, "late", 3) // commits first

	b, cursor, n := mustExport(t, ctx, cl, &billingv1.ExportJournalRequest{LegalEntityId: us})
	if n != 0 || len(b) != 0 {
		t.Fatalf("exported %d lines while an earlier transaction was open, want none", n)
	}
	if err := early.Commit(bg); err != nil {
		t.Fatal(err)
	}
	waitExportable(t, env.DB.Pool, us)
	b, _, n = mustExport(t, ctx, cl, &billingv1.ExportJournalRequest{LegalEntityId: us, Cursor: cursor})
	lines := parseJSONL(t, b)
	if n != 16 || !strings.HasPrefix(lines[0].SourceID, "early-") || !strings.HasPrefix(lines[15].SourceID, "late-") {
		t.Fatalf("after the early commit: %d lines, first %+v", n, lines[0])
	}
}
