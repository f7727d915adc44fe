package contract

import (
	"testing"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
)

func usd(s string) money.Amount {
	return money.Amount{Value: decimal.RequireFromString(s), Currency: "USD"}
}

func day(s string) civil.Date {
	d, err := civil.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

func tm(card ...RateEntry) Line {
	return Line{Key: "L1", ServiceLine: "IMPLEMENTATION", Billing: TimeAndMaterials, Amount: usd("1000.00"), Revenue: AsDelivered, RateCard: card}
}

func terms(lines ...Line) Terms {
	return Terms{CustomerID: "c", LegalEntityID: "le", Name: "n", Currency: "USD", Start: day("2026-01-01"), End: day("2026-12-31"), Lines: lines}
}

// wantReason fails unless err carries reason, or is nil when reason is "" (it then reports
// false: there is nothing more to check).
func wantReason(t *testing.T, err error, reason string) bool {
	t.Helper()
	if reason == "" {
		if err != nil {
			t.Fatalf("want valid, got %v", err)
		}
		return false
	}
	if got := reasonOf(t, err); got != reason {
		t.Fatalf("reason = %s, want %s (%v)", got, reason, err)
	}
	return true
}

func reasonOf(t *testing.T, err error) string {
	t.Helper()
	fe, ok := fault.As(err)
	if !ok {
		t.Fatalf("want a fault, got %v", err)
	}
	return fe.Reason
}

func TestRateCardOverlapIsRefusedPerRole(t *testing.T) {
	cases := []struct {
		name string
		card []RateEntry
		want string
	}{
		{"adjacent periods", []RateEntry{
			{Role: "DEV", Rate: usd("100"), From: day("2026-01-01"), To: day("2026-06-30")},
			{Role: "DEV", Rate: usd("110"), From: day("2026-07-01")},
		}, ""},
		{"overlap by one day", []RateEntry{
			{Role: "DEV", Rate: usd("100"), From: day("2026-01-01"), To: day("2026-07-01")},
			{Role: "DEV", Rate: usd("110"), From: day("2026-07-01")},
		}, ReasonRateCardOverlap},
		{"open-ended first period", []RateEntry{
			{Role: "DEV", Rate: usd("110"), From: day("2026-07-01")},
			{Role: "DEV", Rate: usd("100"), From: day("2026-01-01")},
		}, ReasonRateCardOverlap},
		{"same period, different roles", []RateEntry{
			{Role: "DEV", Rate: usd("100"), From: day("2026-01-01")},
			{Role: "ARCHITECT", Rate: usd("200"), From: day("2026-01-01")},
		}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := terms(tm(c.card...)).Validate("")
			if !wantReason(t, err, c.want) {
				return
			}
			fe, _ := fault.As(err)
			if len(fe.Violations) == 0 || fe.Violations[0].Field != "contract.lines[0].rate_card[1]" {
				t.Fatalf("violations = %+v, want contract.lines[0].rate_card[1]", fe.Violations)
			}
		})
	}
}

// A new contract may be in any currency (its legal entity's books convert it); an amendment keeps
// the contract's currency; line amounts and rates are in the contract currency.
func TestCurrencyIsFreeWhenNewAndKeptByAmendments(t *testing.T) {
	tt := terms(tm(RateEntry{Role: "DEV", Rate: usd("100"), From: day("2026-01-01")}))
	if err := tt.Validate(""); err != nil {
		t.Fatalf("new USD contract (any legal entity): %v", err)
	}
	if err := tt.Validate("USD"); err != nil {
		t.Fatalf("amending a USD contract in USD: %v", err)
	}
	if err := tt.Validate("EUR"); reasonOf(t, err) != ReasonCurrencyMismatch {
		t.Fatalf("amendment changing the currency: %v", err)
	}
	l := tm(RateEntry{Role: "DEV", Rate: money.Amount{Value: decimal.NewFromInt(90), Currency: "EUR"}, From: day("2026-01-01")})
	err := terms(l).Validate("")
	fe, _ := fault.As(err)
	if fe == nil || fe.Reason != ReasonCurrencyMismatch || fe.Violations[0].Field != "contract.lines[0].rate_card[0].bill_rate.currency_code" {
		t.Fatalf("EUR rate on a USD contract: %+v", fe)
	}
}

func TestLineRules(t *testing.T) {
	rate := RateEntry{Role: "DEV", Rate: usd("100"), From: day("2026-01-01")}
	cases := []struct {
		name string
		line Line
		want string
	}{
		{"t&m without a rate card", tm(), ReasonRateCardRequired},
		{"milestones not summing to the line", Line{Key: "L", Billing: MilestoneBilling, Amount: usd("1000.00"), Revenue: MilestoneRevenue,
			Milestones: []Milestone{{Key: "M1", Amount: usd("400.00"), Due: day("2026-03-01")}, {Key: "M2", Amount: usd("500.00"), Due: day("2026-06-01")}}}, ReasonMilestonesMismatch},
		{"milestone billing without milestones", Line{Key: "L", Billing: MilestoneBilling, Amount: usd("1000.00"), Revenue: AsDelivered}, ReasonMilestonesRequired},
		{"straight line without service period", Line{Key: "L", Billing: FixedFee, Amount: usd("1000.00"), Revenue: StraightLine}, ReasonServicePeriodNeeded},
		{"cap on a fixed fee", Line{Key: "L", Billing: FixedFee, Amount: usd("1000.00"), Revenue: PercentComplete, NotToExceed: ptr(usd("2000.00"))}, ReasonNotToExceed},
		{"negative amount", Line{Key: "L", Billing: FixedFee, Amount: usd("-1.00"), Revenue: PercentComplete}, ReasonNegativeAmount},
		{"valid milestones", Line{Key: "L", Billing: MilestoneBilling, Amount: usd("1000.00"), Revenue: MilestoneRevenue,
			Milestones: []Milestone{{Key: "M1", Amount: usd("400.00"), Due: day("2026-03-01")}, {Key: "M2", Amount: usd("600.00"), Due: day("2026-06-01")}}}, ""},
		{"schedule not summing to the line", Line{Key: "L", Billing: FixedFee, Amount: usd("1000.00"), Revenue: PercentComplete,
			Schedule: []ScheduleEntry{{Date: day("2026-03-01"), Amount: usd("400.00")}, {Date: day("2026-06-01"), Amount: usd("500.00")}}}, ReasonBillingSchedule},
		{"schedule date twice", Line{Key: "L", Billing: FixedFee, Amount: usd("1000.00"), Revenue: PercentComplete,
			Schedule: []ScheduleEntry{{Date: day("2026-03-01"), Amount: usd("500.00")}, {Date: day("2026-03-01"), Amount: usd("500.00")}}}, ReasonBillingSchedule},
		{"schedule on a t&m line", Line{Key: "L", Billing: TimeAndMaterials, Amount: usd("1000.00"), Revenue: AsDelivered, RateCard: []RateEntry{rate},
			Schedule: []ScheduleEntry{{Date: day("2026-03-01"), Amount: usd("1000.00")}}}, ReasonBillingSchedule},
		{"valid schedule", Line{Key: "L", Billing: FixedFee, Amount: usd("1000.00"), Revenue: PercentComplete,
			Schedule: []ScheduleEntry{{Date: day("2026-03-01"), Amount: usd("400.00")}, {Date: day("2026-06-01"), Amount: usd("600.00")}}}, ""},
		{"valid t&m with cap", Line{Key: "L", Billing: TimeAndMaterials, Amount: usd("1000.00"), Revenue: AsDelivered, RateCard: []RateEntry{rate}, NotToExceed: ptr(usd("1200.00"))}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantReason(t, terms(c.line).Validate(""), c.want)
		})
	}
}

func TestDuplicateLineKeysAndTotal(t *testing.T) {
	a := Line{Key: "L", Billing: FixedFee, Amount: usd("1000.00"), Revenue: PercentComplete}
	if got := reasonOf(t, terms(a, a).Validate("")); got != ReasonDuplicateLine {
		t.Fatalf("reason = %s", got)
	}
	b := a
	b.Key, b.Amount = "M", usd("250.50")
	if got := terms(a, b).Total(); !got.Equal(usd("1250.50")) {
		t.Fatalf("total = %s, want 1250.50 USD", got)
	}
}

func TestBillRateIsTheOneEffectiveOnTheDate(t *testing.T) {
	l := tm(
		RateEntry{Role: "DEV", Rate: usd("100"), From: day("2026-01-01"), To: day("2026-06-30")},
		RateEntry{Role: "DEV", Rate: usd("110"), From: day("2026-07-01")},
	)
	for _, c := range []struct {
		date string
		want string
		ok   bool
	}{{"2025-12-31", "", false}, {"2026-01-01", "100", true}, {"2026-06-30", "100", true}, {"2026-07-01", "110", true}, {"2030-01-01", "110", true}} {
		got, ok := l.BillRate("DEV", day(c.date))
		if ok != c.ok || (ok && !got.Value.Equal(decimal.RequireFromString(c.want))) {
			t.Errorf("%s: rate %v %v, want %s %v", c.date, got, ok, c.want, c.ok)
		}
	}
	if _, ok := l.BillRate("ARCHITECT", day("2026-03-01")); ok {
		t.Error("a role without rates has no rate")
	}
}

func TestHashIgnoresTrailingZeros(t *testing.T) {
	a := terms(Line{Key: "L", Billing: FixedFee, Amount: usd("1000.00"), Revenue: PercentComplete})
	b := terms(Line{Key: "L", Billing: FixedFee, Amount: usd("1000"), Revenue: PercentComplete})
	if string(a.Hash()) != string(b.Hash()) {
		t.Fatal("1000.00 and 1000 are the same content")
	}
	b.Lines[0].Amount = usd("1000.01")
	if string(a.Hash()) == string(b.Hash()) {
		t.Fatal("a different amount is a different content")
	}
}

func ptr[T any](v T) *T { return &v }
