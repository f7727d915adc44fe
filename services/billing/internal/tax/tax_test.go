package tax_test

import (
	"testing"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/tax"
)

func day(s string) civil.Date {
	d, err := civil.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

func usd(s string) money.Amount {
	return money.Amount{Value: decimal.RequireFromString(s), Currency: "USD"}
}

// Each line is rounded half-up once: 0.19 × 10.05 = 1.9095 → 1.91; 0.19 × 0.50 = 0.095 → 0.10.
func TestLineRoundsHalfUpOnce(t *testing.T) {
	r := decimal.RequireFromString("0.19")
	for in, want := range map[string]string{"1000.00": "190.00 USD", "10.05": "1.91 USD", "0.50": "0.10 USD"} {
		if got := tax.Line(r, usd(in)).String(); got != want {
			t.Errorf("tax of %s = %s, want %s", in, got, want)
		}
	}
}

// The item type's own rate wins over the region's general one; the latest effective date not
// after the day applies; nothing before the first rate.
func TestLookupByItemTypeAndDate(t *testing.T) {
	rates := []tax.Rate{
		{Region: "DE", EffectiveFrom: day("2026-01-01"), Rate: decimal.RequireFromString("0.19")},
		{Region: "DE", EffectiveFrom: day("2026-07-01"), Rate: decimal.RequireFromString("0.16")},
		{Region: "DE", ItemType: "expense", EffectiveFrom: day("2026-01-01"), Rate: decimal.RequireFromString("0.07")},
	}
	cases := []struct {
		item, date, want string
		ok               bool
	}{
		{"time_entry", "2026-03-01", "0.19", true},
		{"time_entry", "2026-07-01", "0.16", true},
		{"expense", "2026-07-01", "0.07", true},
		{"time_entry", "2025-12-31", "0", false},
	}
	for _, c := range cases {
		got, ok := tax.Lookup(rates, "DE", c.item, day(c.date))
		if ok != c.ok || got.String() != c.want {
			t.Errorf("%s on %s = %s %v, want %s %v", c.item, c.date, got, ok, c.want, c.ok)
		}
	}
}

func TestMissingAndTreatment(t *testing.T) {
	if m := tax.Missing(nil); len(m) != 1 || m[0] != tax.MissingProfile {
		t.Errorf("no profile: %v", m)
	}
	if m := tax.Missing(&tax.Profile{}); len(m) != 1 || m[0] != tax.MissingRegion {
		t.Errorf("no region: %v", m)
	}
	if m := tax.Missing(&tax.Profile{Exempt: true}); len(m) != 1 || m[0] != tax.MissingExemptionRef {
		t.Errorf("exempt without certificate: %v", m)
	}
	if m := tax.Missing(&tax.Profile{Region: "US-CA"}); m != nil {
		t.Errorf("complete: %v", m)
	}
	if tr := tax.TreatmentOf(tax.Profile{TaxID: "DE1", Region: "DE"}, "US"); !tr.ReverseCharge {
		t.Errorf("cross-border B2B: %+v, want reverse charge", tr)
	}
	if tr := tax.TreatmentOf(tax.Profile{TaxID: "US1", Region: "US-CA"}, "US"); tr.ReverseCharge || tr.Exempt {
		t.Errorf("domestic B2B: %+v, want taxed", tr)
	}
	if tr := tax.TreatmentOf(tax.Profile{Region: "DE"}, "US"); tr.ReverseCharge {
		t.Errorf("cross-border B2C: %+v, want taxed", tr)
	}
}
