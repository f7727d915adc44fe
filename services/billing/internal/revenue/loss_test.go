package revenue

import "testing"

func TestLossContractMustShow(t *testing.T) {
	// Estimate 120,000.00 against a price of 100,000.00, nothing incurred or recognized yet.
	l, err := ExpectedLoss(LossInput{Price: usd("100000.00"), EstimateAtCompletion: usd("120000.00"),
		CostToDate: usd("0"), RecognizedToDate: usd("0"), ProvisionBefore: usd("0")})
	if err != nil {
		t.Fatal(err)
	}
	if !l.LossContract {
		t.Error("not flagged as a loss contract")
	}
	eq(t, "expected loss", l.Expected, usd("20000.00"))
	eq(t, "provision", l.Provision, usd("20000.00"))
	eq(t, "recognized at once", l.Period, usd("20000.00"))
}

func TestLossContractHalfDone(t *testing.T) {
	// Half the costs incurred (60,000.00) and half the price recognized (50,000.00): 10,000.00 of
	// the loss is already in P&L, so the provision holds the other 10,000.00 (total 20,000.00).
	l, _ := ExpectedLoss(LossInput{Price: usd("100000.00"), EstimateAtCompletion: usd("120000.00"),
		CostToDate: usd("60000.00"), RecognizedToDate: usd("50000.00"), ProvisionBefore: usd("20000.00")})
	eq(t, "provision", l.Provision, usd("10000.00"))
	eq(t, "release", l.Period, usd("-10000.00"))

	// The estimate falls back under the price: no loss contract, the provision is released.
	l, _ = ExpectedLoss(LossInput{Price: usd("100000.00"), EstimateAtCompletion: usd("90000.00"),
		CostToDate: usd("60000.00"), RecognizedToDate: usd("66666.67"), ProvisionBefore: usd("10000.00")})
	if l.LossContract {
		t.Error("flagged although profitable")
	}
	eq(t, "provision", l.Provision, usd("0"))
	eq(t, "release", l.Period, usd("-10000.00"))
}

func TestPosition(t *testing.T) {
	p1, err := PositionOf(usd("3000.00"), usd("5000.00"))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "liability", p1.Liability, usd("2000.00"))
	eq(t, "asset", p1.Asset, usd("0"))

	p2, _ := PositionOf(usd("6000.00"), usd("5000.00"))
	eq(t, "asset", p2.Asset, usd("1000.00"))
	eq(t, "liability", p2.Liability, usd("0"))
	eq(t, "net", p2.Net(), usd("1000.00"))

	r, err := Reclassify(p1, p2)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "asset movement", r.Asset, usd("1000.00"))
	eq(t, "liability movement", r.Liability, usd("-2000.00"))

	even, _ := PositionOf(usd("5000.00"), usd("5000.00"))
	if !even.Asset.IsZero() || !even.Liability.IsZero() {
		t.Errorf("billed = recognized: %+v", even)
	}
}
