package revenue

import (
	"testing"

	"github.com/accrue/accrue/internal/platform/money"
)

func TestStraightLineMustShow(t *testing.T) {
	parts, err := StraightLine(usd("10000.00"), date("2026-03-01"), date("2026-05-31"))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		period string
		days   int
		amount string
	}{{"2026-03", 31, "3369.57"}, {"2026-04", 30, "3260.87"}, {"2026-05", 31, "3369.56"}}
	if len(parts) != len(want) {
		t.Fatalf("parts = %+v", parts)
	}
	for i, w := range want {
		if parts[i].Period != w.period || parts[i].Days != w.days {
			t.Errorf("part %d = %s %d days, want %s %d", i, parts[i].Period, parts[i].Days, w.period, w.days)
		}
		eq(t, w.period, parts[i].Amount, usd(w.amount))
	}
	eq(t, "April", InPeriod(parts, "USD", "2026-04"), usd("3260.87"))
	eq(t, "June", InPeriod(parts, "USD", "2026-06"), usd("0"))
	eq(t, "to April", ToDate(parts, "USD", "2026-04"), usd("6630.44"))
	eq(t, "total", ToDate(parts, "USD", "2026-12"), usd("10000.00"))
}

func TestStraightLinePartialMonths(t *testing.T) {
	// 15 Jan – 14 Mar 2026: 17 + 28 + 14 = 59 days.
	parts, err := StraightLine(usd("5900.00"), date("2026-01-15"), date("2026-03-14"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"1700.00", "2800.00", "1400.00"}
	days := []int{17, 28, 14}
	for i := range want {
		if parts[i].Days != days[i] {
			t.Errorf("part %d days = %d, want %d", i, parts[i].Days, days[i])
		}
		eq(t, parts[i].Period, parts[i].Amount, usd(want[i]))
	}
	// One day only; yen have no minor unit.
	one, _ := StraightLine(money.Amount{Value: usd("1000").Value, Currency: "JPY"}, date("2026-02-28"), date("2026-02-28"))
	if len(one) != 1 || one[0].Amount.String() != "1000 JPY" {
		t.Errorf("one day = %+v", one)
	}
	jpy, _ := StraightLine(money.Amount{Value: usd("1000").Value, Currency: "JPY"}, date("2026-03-01"), date("2026-05-31"))
	if jpy[0].Amount.String() != "337 JPY" || jpy[1].Amount.String() != "326 JPY" || jpy[2].Amount.String() != "337 JPY" {
		t.Errorf("JPY parts = %s %s %s", jpy[0].Amount, jpy[1].Amount, jpy[2].Amount)
	}
}

func TestStraightLineRefusals(t *testing.T) {
	if _, err := StraightLine(usd("1.00"), date("2026-05-01"), date("2026-04-30")); reason(err) != ReasonServicePeriod {
		t.Errorf("end before start: err = %v", err)
	}
	if _, err := StraightLine(usd("-1.00"), date("2026-04-01"), date("2026-04-30")); reason(err) != ReasonNegativeAmount {
		t.Errorf("negative price: err = %v", err)
	}
}
