package invoice

import (
	"testing"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/services/billing/internal/contract"
)

func day(s string) civil.Date {
	d, err := civil.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// A FIXED_FEE line of 20,000.00 without a schedule, service from 1 September: nothing up to 31
// August; the whole 20,000.00 up to 30 September (item schedule:2026-09-01); nothing once that
// is billed. Its contract starts 1 June: without a service start the fee is dated 1 June.
// Amended to two 10,000.00 instalments after the whole fee was billed, it bills nothing more (the
// line never bills past its amount); with 5,000.00 of the whole fee credited, 5,000.00.
func TestFeeLinesBillAFixedFeeWithoutScheduleWholeOnce(t *testing.T) {
	terms := contract.Terms{Currency: "USD", Start: day("2026-06-01"), End: day("2026-12-31"), Lines: []contract.Line{
		{Key: "F", Billing: contract.FixedFee, Amount: usd("20000.00"), ServiceStart: day("2026-09-01"), ServiceEnd: day("2026-09-30")}}}
	if lines, _ := FeeLines(terms, nil, day("2026-08-31"), nil, "P", 1); len(lines) != 0 {
		t.Fatalf("up to 31 August: %+v, want nothing", lines)
	}
	lines, total := FeeLines(terms, nil, day("2026-09-30"), nil, "P", 3)
	if total.String() != "20000.00 USD" || len(lines) != 1 || lines[0].Item != "schedule:2026-09-01" || lines[0].No != 3 ||
		lines[0].SourceDate != day("2026-09-01") {
		t.Fatalf("up to 30 September: %s %+v, want one line 3 of 20000.00 dated 2026-09-01", total, lines)
	}
	billed := map[string]ItemBilled{"F\x00schedule:2026-09-01": {Net: usd("20000.00").Value, Live: 1}}
	if lines, _ := FeeLines(terms, nil, civil.Date{}, billed, "P", 1); len(lines) != 0 {
		t.Fatalf("after the fee was billed: %+v, want nothing", lines)
	}
	noStart := terms
	noStart.Lines = []contract.Line{{Key: "F", Billing: contract.FixedFee, Amount: usd("20000.00")}}
	if lines, _ := FeeLines(noStart, nil, day("2026-06-30"), nil, "P", 1); len(lines) != 1 || lines[0].Item != "schedule:2026-06-01" {
		t.Fatalf("without a service start: %+v, want the fee dated the contract start", lines)
	}

	amended := terms
	amended.Lines = []contract.Line{{Key: "F", Billing: contract.FixedFee, Amount: usd("20000.00"), Schedule: []contract.ScheduleEntry{
		{Date: day("2026-10-01"), Amount: usd("10000.00")}, {Date: day("2026-11-01"), Amount: usd("10000.00")}}}}
	if lines, _ := FeeLines(amended, nil, civil.Date{}, billed, "P", 1); len(lines) != 0 {
		t.Fatalf("amended to a schedule after the whole fee was billed: %+v, want nothing", lines)
	}
	billed["F\x00schedule:2026-09-01"] = ItemBilled{Net: usd("15000.00").Value}
	if _, total := FeeLines(amended, nil, civil.Date{}, billed, "P", 1); total.String() != "5000.00 USD" {
		t.Fatalf("with 5,000.00 credited: %s, want 5000.00", total)
	}
}
