package suppliercost_test

import (
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/suppliercost"
)

func amt(v, cur string) money.Amount {
	return money.Amount{Value: decimal.RequireFromString(v), Currency: cur}
}

func dec(vs ...int64) []decimal.Decimal {
	out := make([]decimal.Decimal, len(vs))
	for i, v := range vs {
		out[i] = decimal.NewFromInt(v)
	}
	return out
}

func TestSplitMustShowFigures(t *testing.T) {
	for _, c := range []struct {
		name    string
		total   money.Amount
		weights []decimal.Decimal
		want    []string
	}{
		{"1,000.00 by 10/20/30 h", amt("1000.00", "USD"), dec(10, 20, 30), []string{"166.67", "333.33", "500.00"}},
		{"100.00 in three equal shares", amt("100.00", "USD"), dec(1, 1, 1), []string{"33.34", "33.33", "33.33"}},
		{"1,000.00 by 10/30/30 h", amt("1000.00", "USD"), dec(10, 30, 30), []string{"142.86", "428.57", "428.57"}},
		{"credit note -100.00 in thirds", amt("-100.00", "USD"), dec(1, 1, 1), []string{"-33.34", "-33.33", "-33.33"}},
		{"JPY has no minor unit", amt("1000", "JPY"), dec(1, 1, 1), []string{"334", "333", "333"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			parts, err := suppliercost.Split(c.total, c.weights)
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range parts {
				if p.Format() != c.want[i] {
					t.Errorf("part %d = %s, want %s", i, p.Format(), c.want[i])
				}
			}
		})
	}
}

// TestSplitSumsToTotal: whatever the total and the weights, the parts sum to the total exactly,
// each is in the minor unit, and none is further than one minor unit from its exact quota.
func TestSplitSumsToTotal(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 20))
	cent := decimal.New(1, -2)
	for i := 0; i < 5000; i++ {
		total := decimal.New(r.Int64N(2_000_000_000)-1_000_000_000, -2)
		n := 1 + r.IntN(25)
		weights := make([]decimal.Decimal, n)
		sum := decimal.Zero
		for j := range weights {
			weights[j] = decimal.New(r.Int64N(100_000), -int32(r.IntN(3)))
			sum = sum.Add(weights[j])
		}
		if sum.IsZero() {
			weights[0] = decimal.NewFromInt(1)
			sum = weights[0]
		}
		parts, err := suppliercost.Split(money.Amount{Value: total, Currency: "USD"}, weights)
		if err != nil {
			t.Fatal(err)
		}
		got := decimal.Zero
		for j, p := range parts {
			got = got.Add(p.Value)
			if !p.Value.Equal(p.Value.Round(2)) {
				t.Fatalf("part %s is not in cents", p)
			}
			exact := total.Mul(weights[j]).DivRound(sum, 12)
			if p.Value.Sub(exact).Abs().GreaterThanOrEqual(cent) {
				t.Fatalf("part %s is a cent or more from its quota %s", p, exact)
			}
		}
		if !got.Equal(total) {
			t.Fatalf("parts of %s sum to %s (weights %v)", total, got, weights)
		}
	}
}

func TestSplitNeedsABasis(t *testing.T) {
	if _, err := suppliercost.Split(amt("10.00", "USD"), dec(0, 0)); err != suppliercost.ErrNoBasis {
		t.Fatalf("err = %v, want ErrNoBasis", err)
	}
}

func TestRuleValidate(t *testing.T) {
	p1, p2 := "01a22200-0000-7000-8000-0000000000a1", "01a22200-0000-7000-8000-0000000000a2"
	share := func(p string, pct string) suppliercost.Target {
		return suppliercost.Target{ProjectID: p, Percent: decimal.RequireFromString(pct)}
	}
	ok := suppliercost.Rule{Name: "split", Kind: suppliercost.FixedShares, Targets: []suppliercost.Target{share(p1, "33.34"), share(p2, "66.66")}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := suppliercost.Rule{Name: "split", Kind: suppliercost.FixedShares, Targets: []suppliercost.Target{share(p1, "33.33"), share(p2, "66.66")}}
	if err := bad.Validate(); err == nil {
		t.Fatal("shares summing to 99.99 % were accepted")
	}
}

// A customer rule spreads by hours or labor cost over the customer's projects, named by no one.
func TestCustomerRuleValidate(t *testing.T) {
	cust, p1 := "01a22200-0000-7000-8000-0000000000c1", "01a22200-0000-7000-8000-0000000000a1"
	for _, c := range []struct {
		name string
		rule suppliercost.Rule
		ok   bool
	}{
		{"hours of a customer", suppliercost.Rule{Name: "c", Kind: suppliercost.ByHours, CustomerID: cust}, true},
		{"labor cost of a customer", suppliercost.Rule{Name: "c", Kind: suppliercost.ByLaborCost, CustomerID: cust}, true},
		{"fixed shares of a customer", suppliercost.Rule{Name: "c", Kind: suppliercost.FixedShares, CustomerID: cust}, false},
		{"customer and projects", suppliercost.Rule{Name: "c", Kind: suppliercost.ByHours, CustomerID: cust,
			Targets: []suppliercost.Target{{ProjectID: p1}}}, false},
		{"neither", suppliercost.Rule{Name: "c", Kind: suppliercost.ByHours}, false},
	} {
		if err := c.rule.Validate(); (err == nil) != c.ok {
			t.Errorf("%s: err = %v, want ok = %v", c.name, err, c.ok)
		}
	}
	r := suppliercost.Rule{Name: "c", Kind: suppliercost.ByHours, CustomerID: cust}.ResolveTargets([]string{p1})
	if len(r.Targets) != 1 || r.Targets[0].ProjectID != p1 {
		t.Errorf("resolved targets = %+v, want [%s]", r.Targets, p1)
	}
}
