package receivable_test

import (
	"testing"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/receivable"
)

var dec = decimal.RequireFromString

func day(s string) civil.Date {
	d, err := civil.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestTermsValidate(t *testing.T) {
	ok := receivable.Terms{Code: "N30", Instalments: []receivable.Instalment{{Percent: dec("33.3333"), DueDays: 10}, {Percent: dec("66.6667"), DueDays: 30}}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]receivable.Terms{
		"sum 99":    {Code: "X", Instalments: []receivable.Instalment{{Percent: dec("49"), DueDays: 30}, {Percent: dec("50"), DueDays: 60}}},
		"sum 101":   {Code: "X", Instalments: []receivable.Instalment{{Percent: dec("51"), DueDays: 30}, {Percent: dec("50"), DueDays: 60}}},
		"none":      {Code: "X"},
		"zero":      {Code: "X", Instalments: []receivable.Instalment{{Percent: dec("0"), DueDays: 0}, {Percent: dec("100"), DueDays: 1}}},
		"decreases": {Code: "X", Instalments: []receivable.Instalment{{Percent: dec("50"), DueDays: 60}, {Percent: dec("50"), DueDays: 30}}},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%s: valid, want PAYMENT_TERMS_INVALID", name)
		}
	}
}

// Thirds of 100.00: 33.33, 33.33 and the last takes the residual 33.34; the sum is the gross.
func TestScheduleLastTakesResidual(t *testing.T) {
	third := dec("33.3333")
	terms := receivable.Terms{Code: "T", Instalments: []receivable.Instalment{{Percent: third, DueDays: 30}, {Percent: third, DueDays: 60}, {Percent: dec("33.3334"), DueDays: 90}}}
	dues := receivable.Schedule(terms, "I", day("2026-01-31"), money.Amount{Value: dec("100"), Currency: "USD"}, money.Amount{Value: dec("100"), Currency: "USD"}, dec("1"))
	got := []string{dues[0].Amount.Value.StringFixed(2), dues[1].Amount.Value.StringFixed(2), dues[2].Amount.Value.StringFixed(2)}
	if got[0] != "33.33" || got[1] != "33.33" || got[2] != "33.34" || dues[0].DueDate.String() != "2026-03-02" {
		t.Fatalf("schedule %v due %s, want 33.33 33.33 33.34, first due 2026-03-02", got, dues[0].DueDate)
	}
}

// An invoice of EUR 1,000.00 booked at 1.10 (1,100.00 USD receivable) paid at 1.12 (1,120.00
// USD cash): the receivable is relieved at 1,100.00 and the 20.00 USD difference is a realized
// FX gain; the entry balances. Paid at 1.08 it is a 20.00 USD loss.
func TestFXGainAndLossOnSettlement(t *testing.T) {
	for _, c := range []struct {
		rate, account, amount string
	}{{"1.12", ledger.RealizedFXGain, "20.00"}, {"1.08", ledger.RealizedFXLoss, "20.00"}} {
		dues := receivable.Schedule(receivable.Immediate, "INV", day("2026-07-01"), money.Amount{Value: dec("1000"), Currency: "EUR"},
			money.Amount{Value: dec("1100"), Currency: "USD"}, dec("1.10"))
		p := receivable.Payment{ID: "P", LegalEntityID: "LE", Reference: "R", Amount: money.Amount{Value: dec("1000"), Currency: "EUR"},
			Date: day("2026-08-05"), FXRate: dec(c.rate)}
		p.Functional = dec("1000").Mul(p.FXRate)
		lines, err := receivable.Apply(dues, nil, p.Unapplied(), p.FXRate, decimal.Zero, "USD")
		if err != nil {
			t.Fatal(err)
		}
		if !lines[0].Relieved.Equal(dec("1100")) {
			t.Fatalf("relieved %s, want 1100.00", lines[0].Relieved)
		}
		e := receivable.ApplicationEntry(receivable.Application{ID: "A", Date: p.Date, Lines: lines}, p, "E", "USD")
		if !e.Balanced() {
			t.Fatalf("entry does not balance: %+v", e.Lines)
		}
		found := false
		for _, l := range e.Lines {
			if l.Account == c.account {
				found = true
				if v := l.Debit.Add(l.Credit).StringFixed(2); v != c.amount {
					t.Errorf("at %s: %s = %s, want %s", c.rate, c.account, v, c.amount)
				}
			}
		}
		if !found {
			t.Errorf("at %s: no %s line in %+v", c.rate, c.account, e.Lines)
		}
	}
}

func TestBuckets(t *testing.T) {
	due := day("2026-08-30")
	for asOf, want := range map[string]string{"2026-08-30": receivable.BucketCurrent, "2026-08-31": receivable.Bucket1To30,
		"2026-09-14": receivable.Bucket1To30, "2026-09-29": receivable.Bucket1To30, "2026-09-30": receivable.Bucket31To60,
		"2026-10-29": receivable.Bucket31To60, "2026-11-28": receivable.Bucket61To90, "2026-11-29": receivable.BucketOver90} {
		if got := receivable.BucketOf(due, day(asOf)); got != want {
			t.Errorf("due 2026-08-30 as of %s: %s, want %s", asOf, got, want)
		}
	}
}

// A zero-net invoice under terms 50 % at 30 days / 50 % at 60 days gets one instalment of 0.00
// due on the issue date, not two open 0.00 instalments; it is PAID from the start and never aged.
func TestZeroNetInvoiceIsOneSettledInstalment(t *testing.T) {
	terms := receivable.Terms{Code: "50-30/50-60", Instalments: []receivable.Instalment{{Percent: dec("50"), DueDays: 30}, {Percent: dec("50"), DueDays: 60}}}
	zero := money.Amount{Value: dec("0.00"), Currency: "USD"}
	dues := receivable.Schedule(terms, "Z", day("2026-02-28"), zero, zero, dec("1"))
	if len(dues) != 1 || !dues[0].Amount.Value.IsZero() || dues[0].DueDate != day("2026-02-28") {
		t.Fatalf("schedule %+v, want one 0.00 instalment due 2026-02-28", dues)
	}
	if s := receivable.Summarize(dues); s.Status != receivable.StatusPaid || !s.Open.IsZero() {
		t.Fatalf("standing %s open %s, want PAID and 0.00", s.Status, s.Open)
	}
	if a := receivable.Age(dues, day("2026-06-30"), "USD"); len(a.Customers) != 0 || !a.Total.Total().IsZero() {
		t.Fatalf("aging %+v, want nothing", a)
	}
	// A 1,000.00 invoice fully credited is still CREDITED.
	full := receivable.Schedule(terms, "I", day("2026-02-28"), money.Amount{Value: dec("1000"), Currency: "USD"}, money.Amount{Value: dec("1000"), Currency: "USD"}, dec("1"))
	for i := range full {
		full[i].Credited = full[i].Amount.Value
	}
	if s := receivable.Summarize(full); s.Status != receivable.StatusCredited {
		t.Fatalf("fully credited: %s, want CREDITED", s.Status)
	}
}
