package erpexport_test

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/services/billing/internal/erpexport"
)

func TestCursorNamesTheSamePositionBack(t *testing.T) {
	p := erpexport.Position{Xact: 123456789012, Seq: 42}
	got, err := erpexport.ParseCursor("cursor", p.Cursor())
	if err != nil || got != p {
		t.Fatalf("round trip: %v, %v", got, err)
	}
	if zero, err := erpexport.ParseCursor("cursor", ""); err != nil || !zero.IsZero() {
		t.Fatalf("empty cursor: %v, %v", zero, err)
	}
	for _, bad := range []string{"xyz", "ajEuMS4", "ajEuMC4w" /* j1.0.0 */, "ajIuMS4x" /* j2.1.1 */} {
		if _, err := erpexport.ParseCursor("cursor", bad); fault.ReasonOf(err) != "EXPORT_CURSOR_INVALID" {
			t.Errorf("%q: %v, want EXPORT_CURSOR_INVALID", bad, err)
		}
	}
	if !(erpexport.Position{Xact: 2, Seq: 1}).After(erpexport.Position{Xact: 1, Seq: 9}) {
		t.Fatal("a later transaction comes after an earlier one, whatever the sequence")
	}
}

func TestALineIsOneRowWithItsDebitOrCredit(t *testing.T) {
	d, c := erpexport.Split(decimal.RequireFromString("-12.50"))
	if !d.IsZero() || c.String() != "12.5" {
		t.Fatalf("a negative transaction amount is a credit: %s / %s", d, c)
	}
	l := erpexport.Line{Position: erpexport.Position{Xact: 7, Seq: 1}, EntryID: "e1", LineNo: 2, PostingDate: civil.Date{Year: 2026, Month: 12, Day: 3},
		LegalEntityID: "le", Account: "2150", Debit: d, Credit: c, Currency: "EUR", FunctionalDebit: decimal.Zero,
		FunctionalCredit: decimal.RequireFromString("13.75"), FunctionalCurrency: "USD", FXRate: decimal.RequireFromString("1.1"),
		SourceType: "time_entry", SourceID: "te, \"quoted\"", SourceVersion: 1, CorrelationID: "c1"}
	csv := erpexport.NewEncoder(erpexport.CSV)
	if err := csv.Write(l); err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSuffix(csv.Buf.String(), "\n"), "\n")
	if len(rows) != 2 || rows[0] != strings.Join(erpexport.Columns, ",") ||
		!strings.Contains(rows[1], ",e1,2,2026-12-03,2026-12,le,2150,0,12.5,EUR,0,13.75,USD,1.1,,,time_entry,\"te, \"\"quoted\"\"\",1,c1") {
		t.Fatalf("csv: %q", csv.Buf.String())
	}
	js := erpexport.NewEncoder(erpexport.JSONLines)
	if err := js.Write(l); err != nil {
		t.Fatal(err)
	}
	if s := js.Buf.String(); !strings.HasSuffix(s, "}\n") || strings.Count(s, "\n") != 1 || !strings.Contains(s, `"functional_credit":"13.75"`) {
		t.Fatalf("json: %q", s)
	}
}
