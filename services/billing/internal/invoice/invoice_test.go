package invoice

import (
	"testing"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/contract"
)

func usd(s string) money.Amount {
	return money.Amount{Value: decimal.RequireFromString(s), Currency: "USD"}
}

func open(id, key, qty, price, amount string) Open {
	return Open{CandidateID: id, LineKey: key, SourceType: "time_entry", SourceID: id, Quantity: decimal.RequireFromString(qty),
		UnitPrice: usd(price), Amount: usd(amount)}
}

// 1,200.00 of candidates under a 1,000.00 cap: 1,000.00 billed, the crossing candidate split at
// the headroom (100.00 of 90.00/h = 1.1111 h), 200.00 over cap; an uncapped line is untouched.
func TestProposeStopsAtTheCapAndSplitsTheCrossingCandidate(t *testing.T) {
	lines, total, over := Propose("USD", []Open{
		open("a", "L1", "10", "90.00", "900.00"),
		open("b", "L1", "3", "90.00", "270.00"),
		open("c", "L1", "1", "30.00", "30.00"),
		open("d", "L2", "1.5", "50.00", "75.00"),
	}, map[string]Cap{"L1": {Limit: usd("1000.00"), Billed: usd("0")}}, contract.PerEntry)
	if total.String() != "1075.00 USD" || over.String() != "200.00 USD" || len(lines) != 3 {
		t.Fatalf("total %s over cap %s, %d lines; want 1075.00, 200.00 and 3 lines", total, over, len(lines))
	}
	if b := lines[1]; b.Amount.String() != "100.00 USD" || b.Quantity.String() != "1.1111" {
		t.Fatalf("crossing line %s for %s h, want 100.00 for 1.1111 h", b.Amount, b.Quantity)
	}
	// What earlier invoices billed counts toward the cap.
	_, total, over = Propose("USD", []Open{open("a", "L1", "10", "90.00", "900.00")}, map[string]Cap{"L1": {Limit: usd("1000.00"), Billed: usd("1000.00")}}, contract.PerEntry)
	if !total.IsZero() || over.String() != "900.00 USD" {
		t.Fatalf("exhausted cap billed %s, over %s; want 0.00 and 900.00", total, over)
	}
}

// A partial credit is quantity × unit price rounded once half-up; the rest of the line is its
// net amount, so credits add up to the line exactly.
func TestCreditRoundsOnceAndNeverPassesTheLine(t *testing.T) {
	inv := Invoice{Currency: "USD", Number: "US01-2026-000001", Lines: []Line{
		{No: 1, CandidateID: "a", Quantity: decimal.RequireFromString("2.5"), UnitPrice: usd("0.05"), Amount: usd("0.13")}}}
	lines, total, err := Credit(inv, nil, []CreditRequest{{LineNo: 1, Quantity: decimal.RequireFromString("0.5")}})
	if err != nil || total.String() != "-0.03 USD" || lines[0].Quantity.String() != "-0.5" {
		t.Fatalf("credit of 0.5 × 0.05 = %s (%v), want -0.03 (0.025 rounded half-up)", total, err)
	}
	credited := map[string][2]decimal.Decimal{"a": {decimal.RequireFromString("0.5"), decimal.RequireFromString("0.03")}}
	if _, total, err = Credit(inv, credited, nil); err != nil || total.String() != "-0.10 USD" {
		t.Fatalf("credit of the rest = %s (%v), want -0.10", total, err)
	}
	if _, _, err = Credit(inv, credited, []CreditRequest{{LineNo: 1, Quantity: decimal.NewFromInt(3)}}); err != ErrOverCredit {
		t.Fatalf("credit past the line: %v, want CREDIT_EXCEEDS_INVOICED", err)
	}
	if _, _, err = Credit(inv, nil, []CreditRequest{{LineNo: 9}}); err != ErrUnknownLine {
		t.Fatalf("credit of line 9: %v, want INVOICE_LINE_UNKNOWN", err)
	}
}

func byResource(id, resource, day, qty, price, amount string) Open {
	o := open(id, "L1", qty, price, amount)
	o.ResourceID, o.Role, o.SourceDate = resource, "consultant", mustDate(day)
	return o
}

// Grouped per resource: one line per resource and unit price, its quantity the sum of the
// entries' and its amount rounded once (0.333 h + 0.333 h at 90.10 = 0.666 × 90.10 = 60.0066 →
// 60.01, where rounding each entry would give 30.00 + 30.00 = 60.00); a different unit price is
// a line of its own.
func TestProposeGroupsPerResourceAndRoundsOnce(t *testing.T) {
	lines, total, _ := Propose("USD", []Open{
		byResource("a", "r1", "2026-03-02", "0.333", "90.10", "30.00"),
		byResource("b", "r2", "2026-03-02", "8", "90.10", "720.80"),
		byResource("c", "r1", "2026-03-03", "0.333", "90.10", "30.00"),
		byResource("d", "r1", "2026-03-04", "1", "120.00", "120.00"),
	}, nil, contract.PerResource)
	if len(lines) != 3 || total.String() != "900.81 USD" {
		t.Fatalf("%d lines, total %s; want 3 lines (r1 at 90.10, r2, r1 at 120.00) and 900.81", len(lines), total)
	}
	l := lines[0]
	if l.Quantity.String() != "0.666" || l.Amount.String() != "60.01 USD" || len(l.Parts) != 2 || l.CandidateID != "" {
		t.Fatalf("r1 line %s h %s with %d parts, want 0.666 h, 60.01 and 2 parts", l.Quantity, l.Amount, len(l.Parts))
	}
	if p := l.Parts[1]; p.CandidateID != "c" || p.Amount.String() != "30.01 USD" {
		t.Fatalf("latest part %s %s, want c carrying the rounding cent (30.01)", p.CandidateID, p.Amount)
	}
}

// Crediting 4 h of a grouped 10.5 h line (8 h on the 2nd, 2.5 h on the 3rd) takes the latest
// entry whole (2.5 h) and 1.5 h of the one before: 360.00 back to unbilled.
func TestCreditOfAGroupedLineTakesTheLatestEntriesFirst(t *testing.T) {
	lines, _, _ := Propose("USD", []Open{
		byResource("a", "r1", "2026-03-02", "8", "90.00", "720.00"),
		byResource("b", "r1", "2026-03-03", "2.5", "90.00", "225.00"),
	}, nil, contract.PerResource)
	inv := Invoice{Currency: "USD", Number: "US01-2026-000001", Lines: lines}
	if len(lines) != 1 || lines[0].Amount.String() != "945.00 USD" {
		t.Fatalf("grouped line %v, want one line of 945.00", lines)
	}
	cl, total, err := Credit(inv, nil, []CreditRequest{{LineNo: 1, Quantity: decimal.NewFromInt(4)}})
	if err != nil || total.String() != "-360.00 USD" || len(cl) != 1 || len(cl[0].Parts) != 2 {
		t.Fatalf("credit of 4 h: %v %s (%v), want -360.00 over two parts", cl, total, err)
	}
	a, b := cl[0].Parts[0], cl[0].Parts[1]
	if a.CandidateID != "a" || a.Quantity.String() != "-1.5" || a.Amount.String() != "-135.00 USD" ||
		b.CandidateID != "b" || b.Quantity.String() != "-2.5" || b.Amount.String() != "-225.00 USD" {
		t.Fatalf("parts %+v %+v, want a -1.5 h -135.00 and b -2.5 h -225.00", a, b)
	}
	credited := map[string][2]decimal.Decimal{"a": {decimal.RequireFromString("1.5"), decimal.RequireFromString("135.00")},
		"b": {decimal.RequireFromString("2.5"), decimal.RequireFromString("225.00")}}
	if _, total, err = Credit(inv, credited, nil); err != nil || total.String() != "-585.00 USD" {
		t.Fatalf("credit of the rest = %s (%v), want -585.00 (6.5 h)", total, err)
	}
}

func mustDate(s string) civil.Date {
	d, err := civil.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}
