package wire_test

import (
	"strings"
	"testing"

	"buf.build/go/protovalidate"
	"github.com/shopspring/decimal"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
	"github.com/accrue/accrue/services/timeexpense/internal/wire"
)

// The fuzz targets run what a time entry's hours and an expense's amount go through before any
// state is read: the contract's rules (protovalidate, as the server's interceptor runs them), the
// wire mapping and the domain's Check. Whatever the input, nothing panics; a refusal is an
// Invalid fault with a reason; what is accepted is in bounds and is answered back exactly.
//
//	go test -run='^$' -fuzz='^FuzzTimeEntryHours$' -fuzztime=15s ./services/timeexpense/internal/wire/

const (
	resourceID = "0190f1d2-4b7a-7c3e-9a51-3e2f4d5c6b7a"
	projectID  = "0190f1d2-4b7a-7c3e-9a51-3e2f4d5c6b7b"
	taskID     = "0190f1d2-4b7a-7c3e-9a51-3e2f4d5c6b7c"
)

func timeEntry(hours string, y, m, d int32) *timeexpensev1.TimeEntryInput {
	return &timeexpensev1.TimeEntryInput{ResourceId: resourceID, ProjectId: projectID, TaskId: taskID, Hours: hours,
		WorkDate: &commonv1.Date{Year: y, Month: m, Day: d}}
}

func expense(amount, currency string) *timeexpensev1.ExpenseInput {
	return &timeexpensev1.ExpenseInput{ResourceId: resourceID, ProjectId: projectID, TaskId: taskID, Category: "TRAVEL",
		ExpenseDate: &commonv1.Date{Year: 2026, Month: 3, Day: 2}, Amount: &commonv1.Money{Amount: amount, CurrencyCode: currency}}
}

func FuzzTimeEntryHours(f *testing.F) {
	v, err := protovalidate.New()
	if err != nil {
		f.Fatal(err)
	}
	if err := v.Validate(timeEntry("8", 2026, 3, 2)); err != nil {
		f.Fatalf("the seed entry breaks the contract, so no input would reach the mapping: %v", err)
	}
	for _, s := range []string{"8", "7.5", "0.25", "24", "24.00", "24.01", "25", "0", "-1", "0.001", "1e1", "", "eight", "999", "00.50"} {
		f.Add(s, int32(2026), int32(3), int32(2))
	}
	f.Add("8", int32(2026), int32(2), int32(30))
	f.Add("8", int32(0), int32(0), int32(0))
	f.Fuzz(func(t *testing.T, hours string, y, m, d int32) {
		in := timeEntry(hours, y, m, d)
		if v.Validate(in) != nil {
			return // refused by the contract: 400 before the service runs
		}
		out, err := wire.TimeInput(in, "entry")
		if err == nil {
			err = out.Check()
		}
		if err != nil {
			if fe, ok := fault.As(err); !ok || fe.Kind != fault.Invalid || fe.Reason == "" {
				t.Fatalf("hours %q, date %d-%d-%d: %v, want an Invalid fault", hours, y, m, d, err)
			}
			return
		}
		if !out.Hours.IsPositive() || out.Hours.GreaterThan(te.MaxDailyHours) || !out.Date.Valid() {
			t.Fatalf("hours %q on %v accepted", hours, out.Date)
		}
		// The answer says hours with two decimals: it must be the hours recorded, exactly.
		echo := wire.Entry(te.Entry{Input: out}).GetHours()
		if back, err := decimal.NewFromString(echo); err != nil || !back.Equal(out.Hours) {
			t.Fatalf("hours %q recorded as %v are answered as %q", hours, out.Hours, echo)
		}
	})
}

func FuzzExpenseAmount(f *testing.F) {
	v, err := protovalidate.New()
	if err != nil {
		f.Fatal(err)
	}
	if err := v.Validate(expense("120.00", "USD")); err != nil {
		f.Fatalf("the seed expense breaks the contract, so no input would reach the mapping: %v", err)
	}
	for _, s := range [][2]string{{"120.00", "USD"}, {"0.01", "EUR"}, {"1000", "JPY"}, {"1.234", "KWD"}, {"10.005", "USD"},
		{"999999999999999999.99", "USD"}, {"-5", "USD"}, {"0", "USD"}, {"1", "XXX"}, {"1", "usd"}, {"", ""}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, amount, currency string) {
		in := expense(amount, currency)
		if v.Validate(in) != nil {
			return
		}
		out, err := wire.ExpenseInput(in, "expense")
		if err == nil {
			err = out.Check()
		}
		if err != nil {
			if fe, ok := fault.As(err); !ok || fe.Kind != fault.Invalid || fe.Reason == "" {
				t.Fatalf("%q %q: %v, want an Invalid fault", amount, currency, err)
			}
			return
		}
		if !out.Amount.Value.IsPositive() || !money.KnownCurrency(out.Amount.Currency) {
			t.Fatalf("%q %q accepted as %v", amount, currency, out.Amount)
		}
		echo := wire.Entry(te.Entry{Input: out}).GetAmount()
		back, err := money.Parse(echo.GetAmount(), echo.GetCurrencyCode(), "amount")
		if err != nil || !back.Equal(out.Amount) {
			t.Fatalf("%q %q recorded as %v is answered as %v", amount, currency, out.Amount, echo)
		}
		if integer, _, _ := strings.Cut(echo.GetAmount(), "."); len(integer) > 18 {
			t.Fatalf("%q %q is answered with %d integer digits, more than the money format's 18", amount, currency, len(integer))
		}
	})
}
