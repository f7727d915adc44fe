package money_test

import (
	"strings"
	"testing"

	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
)

// FuzzParse feeds arbitrary amount strings and currency codes to Parse and ParseExact. Whatever
// the input, they must not panic; a refusal is an Invalid fault with a stable reason and a
// violation on the named field; an accepted amount formats with its currency's minor-unit
// digits and that text reads back as the rounded value; ParseExact accepts exactly the amounts
// that rounding leaves unchanged. Short run:
//
//	go test -run='^$' -fuzz='^FuzzParse$' -fuzztime=15s ./internal/platform/money/
func FuzzParse(f *testing.F) {
	for _, s := range [][2]string{
		{"1250.00", "USD"}, {"0.01", "EUR"}, {"-42.5", "GBP"}, {"1000", "JPY"}, {"1.234", "KWD"}, {"10.005", "USD"},
		{"999999999999999999.99", "USD"}, {"1e3", "USD"}, {"1E-3", "EUR"}, {".5", "USD"}, {"+1", "USD"}, {"-0", "USD"},
		{"", "USD"}, {"1,5", "EUR"}, {"NaN", "USD"}, {"Inf", "USD"}, {"0x10", "USD"}, {" 1", "USD"}, {"1", "usd"},
		{"1", ""}, {"1", "XXX"}, {"12", "CLF"}, {"1\x00", "USD"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, amount, currency string) {
		if len(amount) > 512 { // the contracts cap decimal strings far below this
			return
		}
		a, err := money.Parse(amount, currency, "line")
		if err != nil {
			wantFieldFault(t, err, "line.", money.ReasonInvalidAmount, money.ReasonUnknownCurrency)
			if _, errExact := money.ParseExact(amount, currency, "line"); errExact == nil {
				t.Fatalf("ParseExact(%q, %q) accepted what Parse refused", amount, currency)
			}
			return
		}
		if !money.KnownCurrency(currency) || a.Currency != currency {
			t.Fatalf("Parse(%q, %q) accepted currency %q", amount, currency, a.Currency)
		}
		exp, _ := money.Exponent(currency)
		text := a.Format()
		if dot := strings.IndexByte(text, '.'); (exp == 0 && dot >= 0) || (exp > 0 && len(text)-dot-1 != int(exp)) {
			t.Fatalf("%q %s formats as %q, want %d decimals", amount, currency, text, exp)
		}
		back, err := money.Parse(text, currency, "line")
		if err != nil || !back.Value.Equal(a.Round().Value) {
			t.Fatalf("%q %s: Format %q reads back as %v, %v; want %v", amount, currency, text, back.Value, err, a.Round().Value)
		}
		exact, err := money.ParseExact(amount, currency, "line")
		if a.Round().Value.Equal(a.Value) != (err == nil) {
			t.Fatalf("ParseExact(%q, %q) = %v, %v; rounding changes it: %v", amount, currency, exact, err, !a.Round().Value.Equal(a.Value))
		}
		if err != nil {
			wantFieldFault(t, err, "line.", money.ReasonPrecision)
		}
	})
}

// FuzzParseDecimal: hours and rates are decimal strings too; an accepted one prints and reads
// back to the same value.
func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"8", "7.5", "0.25", "24", "24.0001", "-1", "0", "1e1", "", "eight", "1..5", "٣"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 512 {
			return
		}
		d, err := money.ParseDecimal(s, "hours")
		if err != nil {
			wantFieldFault(t, err, "hours", money.ReasonInvalidAmount)
			return
		}
		back, err := money.ParseDecimal(d.String(), "hours")
		if err != nil || !back.Equal(d) {
			t.Fatalf("ParseDecimal(%q) = %v prints as %q, reads back as %v, %v", s, d, d.String(), back, err)
		}
	})
}

// wantFieldFault asserts err is an Invalid fault with one of reasons and a violation on a field
// starting with fieldPrefix.
func wantFieldFault(t *testing.T, err error, fieldPrefix string, reasons ...string) {
	t.Helper()
	fe, ok := fault.As(err)
	if !ok || fe.Kind != fault.Invalid || len(fe.Violations) == 0 || !strings.HasPrefix(fe.Violations[0].Field, fieldPrefix) {
		t.Fatalf("error %v: want an Invalid fault with a violation on %s…", err, fieldPrefix)
	}
	for _, r := range reasons {
		if fe.Reason == r {
			return
		}
	}
	t.Fatalf("reason %s, want one of %v", fe.Reason, reasons)
}
