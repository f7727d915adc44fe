package money_test

import (
	"testing"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
)

func amount(t *testing.T, v, cur string) money.Amount {
	t.Helper()
	a, err := money.Parse(v, cur, "line")
	if err != nil {
		t.Fatalf("Parse(%q, %q): %v", v, cur, err)
	}
	return a
}

func TestParse(t *testing.T) {
	t.Parallel()
	a := amount(t, "1250.5", "EUR")
	if a.Currency != "EUR" || !a.Value.Equal(decimal.RequireFromString("1250.5")) {
		t.Fatalf("Parse = %#v", a)
	}
	if got := a.String(); got != "1250.50 EUR" {
		t.Errorf("String = %q, want 1250.50 EUR", got)
	}
	// Exact: no binary floating point anywhere.
	sum, err := amount(t, "0.1", "USD").Add(amount(t, "0.2", "USD"))
	if err != nil || !sum.Equal(amount(t, "0.3", "USD")) {
		t.Fatalf("0.1 + 0.2 = %v, %v; want exactly 0.3", sum, err)
	}

	cases := []struct {
		amount, currency, reason, field string
	}{
		{"12,50", "USD", money.ReasonInvalidAmount, "line.amount"},
		{"", "USD", money.ReasonInvalidAmount, "line.amount"},
		{"ten", "USD", money.ReasonInvalidAmount, "line.amount"},
		{"10", "usd", money.ReasonUnknownCurrency, "line.currency_code"},
		{"10", "XXX", money.ReasonUnknownCurrency, "line.currency_code"},
		{"10", "", money.ReasonUnknownCurrency, "line.currency_code"},
	}
	for _, tc := range cases {
		_, err := money.Parse(tc.amount, tc.currency, "line")
		fe, ok := fault.As(err)
		if !ok || fe.Kind != fault.Invalid || fe.Reason != tc.reason || len(fe.Violations) != 1 || fe.Violations[0].Field != tc.field {
			t.Errorf("Parse(%q, %q) error = %#v, want %s on %s", tc.amount, tc.currency, err, tc.reason, tc.field)
		}
	}
}

func TestRoundHalfAwayFromZeroPerCurrencyExponent(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, cur, want string }{
		{"10.005", "USD", "10.01"},
		{"10.004999", "USD", "10.00"},
		{"-10.005", "USD", "-10.01"},
		{"2.675", "EUR", "2.68"}, // 2.675 is 2.67499999... as a float64
		{"0.125", "GBP", "0.13"},
		{"1234.5", "JPY", "1235"},
		{"-1234.5", "JPY", "-1235"},
		{"1234.49", "JPY", "1234"},
		{"1.2345", "KWD", "1.235"},
		{"-1.2345", "KWD", "-1.235"},
		{"1.2344", "KWD", "1.234"},
		{"0.5", "CLP", "1"},
		{"7", "USD", "7.00"},
	}
	for _, tc := range cases {
		got := amount(t, tc.in, tc.cur).Round()
		if got.Format() != tc.want || !got.Value.Equal(decimal.RequireFromString(tc.want)) || got.Currency != tc.cur {
			t.Errorf("Round(%s %s) = %s (%s), want %s", tc.in, tc.cur, got.Format(), got.Value, tc.want)
		}
	}
	if e, ok := money.Exponent("KWD"); !ok || e != 3 {
		t.Errorf("Exponent(KWD) = %d, %v", e, ok)
	}
	if e, ok := money.Exponent("JPY"); !ok || e != 0 {
		t.Errorf("Exponent(JPY) = %d, %v", e, ok)
	}
	if money.KnownCurrency("EURO") {
		t.Error("EURO accepted as a currency")
	}
}

func TestMulRoundsTheLine(t *testing.T) {
	t.Parallel()
	cases := []struct{ rate, qty, cur, want string }{
		{"90.00", "10.5", "USD", "945.00"},   // 10.5 h × 90.00
		{"33.333", "1.5", "USD", "50.00"},    // 49.9995 → 50.00
		{"125.00", "7.75", "EUR", "968.75"},  // exact
		{"0.10", "0.05", "USD", "0.01"},      // 0.005 → 0.01
		{"333", "1.5", "JPY", "500"},         // 499.5 → 500
		{"12.345", "0.1", "KWD", "1.235"},    // 1.2345 → 1.235
		{"-90.00", "10.5", "USD", "-945.00"}, // reversal
		{"99.99", "0", "USD", "0.00"},
	}
	for _, tc := range cases {
		got := amount(t, tc.rate, tc.cur).Mul(decimal.RequireFromString(tc.qty))
		if got.Format() != tc.want || got.Currency != tc.cur {
			t.Errorf("%s %s × %s = %s, want %s", tc.rate, tc.cur, tc.qty, got, tc.want)
		}
	}
	// Totals are sums of rounded lines: 3 × (1/3 h × 100.00) = 3 × 33.33 = 99.99.
	third := decimal.NewFromInt(1).Div(decimal.NewFromInt(3))
	line := amount(t, "100.00", "USD").Mul(third)
	total := money.Zero("USD")
	for range 3 {
		var err error
		if total, err = total.Add(line); err != nil {
			t.Fatal(err)
		}
	}
	if total.Format() != "99.99" {
		t.Errorf("total of three rounded lines = %s, want 99.99", total.Format())
	}
}

func TestCurrencyMismatch(t *testing.T) {
	t.Parallel()
	_, err := amount(t, "10", "USD").Add(amount(t, "10", "EUR"))
	fe, ok := fault.As(err)
	if !ok || fe.Reason != money.ReasonCurrencyMismatch || fe.Kind != fault.Invalid {
		t.Fatalf("USD + EUR error = %v, want CURRENCY_MISMATCH", err)
	}
	if amount(t, "10", "USD").Equal(amount(t, "10", "EUR")) {
		t.Error("10 USD equals 10 EUR")
	}
	if !amount(t, "10.0", "USD").Equal(amount(t, "10.00", "USD")) {
		t.Error("10.0 USD differs from 10.00 USD")
	}
	if !money.Zero("JPY").IsZero() || money.Zero("JPY").String() != "0 JPY" {
		t.Errorf("Zero(JPY) = %s", money.Zero("JPY"))
	}
}
