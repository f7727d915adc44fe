package invoice

import (
	"testing"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/money"
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
	}, map[string]Cap{"L1": {Limit: usd("1000.00"), Billed: usd("0")}})
	if total.String() != "1075.00 USD" || over.String() != "200.00 USD" || len(lines) != 3 {
		t.Fatalf("total %s over cap %s, %d lines; want 1075.00, 200.00 and 3 lines", total, over, len(lines))
	}
	if b := lines[1]; b.Amount.String() != "100.00 USD" || b.Quantity.String() != "1.1111" {
		t.Fatalf("crossing line %s for %s h, want 100.00 for 1.1111 h", b.Amount, b.Quantity)
	}
	// What earlier invoices billed counts toward the cap.
	_, total, over = Propose("USD", []Open{open("a", "L1", "10", "90.00", "900.00")}, map[string]Cap{"L1": {Limit: usd("1000.00"), Billed: usd("1000.00")}})
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
