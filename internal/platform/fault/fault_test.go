package fault_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/accrue/accrue/internal/platform/fault"
)

var errPeriodClosed = fault.New(fault.FailedPrecondition, "PERIOD_CLOSED", "the period is closed")

func TestSentinelsMatchAfterCopyAndWrap(t *testing.T) {
	t.Parallel()
	cause := errors.New("select: period 2026-03 status CLOSED")
	err := fmt.Errorf("post time entry: %w", errPeriodClosed.With("period 2026-03 is closed", "period", "2026-03").Wrap(cause))

	if !errors.Is(err, errPeriodClosed) {
		t.Fatal("errors.Is does not match the sentinel after With/Wrap/%w")
	}
	if errors.Is(err, fault.New(fault.Invalid, "PERIOD_CLOSED", "")) {
		t.Fatal("a fault of another kind with the same reason matched")
	}
	if !errors.Is(err, cause) {
		t.Fatal("the cause is not in the chain")
	}
	fe, ok := fault.As(err)
	if !ok || fe.Message != "period 2026-03 is closed" || fe.Metadata["period"] != "2026-03" || fault.ReasonOf(err) != "PERIOD_CLOSED" {
		t.Fatalf("As = %+v, %v", fe, ok)
	}
	// The sentinel itself is untouched.
	if errPeriodClosed.Message != "the period is closed" || errPeriodClosed.Metadata != nil || errPeriodClosed.Cause != nil {
		t.Fatalf("sentinel modified: %+v", errPeriodClosed)
	}
	if got := fe.Error(); got != "PERIOD_CLOSED: period 2026-03 is closed: select: period 2026-03 status CLOSED" {
		t.Errorf("Error() = %q", got)
	}
	if fault.ReasonOf(errors.New("plain")) != "" {
		t.Error("ReasonOf(plain error) != \"\"")
	}
}

func TestInvalidfCarriesTheField(t *testing.T) {
	t.Parallel()
	fe := fault.Invalidf("INVALID_AMOUNT", "lines[2].amount", "%q is not a decimal number", "1,5")
	if fe.Kind != fault.Invalid || len(fe.Violations) != 1 || fe.Violations[0].Field != "lines[2].amount" || fe.Violations[0].Description != `"1,5" is not a decimal number` {
		t.Fatalf("Invalidf = %+v", fe)
	}
	if fault.Kind(99).String() != "Kind(99)" || fault.Conflict.String() != "Conflict" {
		t.Errorf("kind names: %s, %s", fault.Kind(99), fault.Conflict)
	}
}

func TestAtAndUnderNameTheFields(t *testing.T) {
	base := fault.New(fault.Invalid, "INVALID_HOURS", "bad hours")
	fe := base.With("hours must be at most 24").At("hours")
	if len(base.Violations) != 0 {
		t.Fatalf("At changed the sentinel: %+v", base.Violations)
	}
	if len(fe.Violations) != 1 || fe.Violations[0].Field != "hours" || fe.Violations[0].Description != "hours must be at most 24" {
		t.Fatalf("At = %+v", fe.Violations)
	}
	withPrefix, _ := fault.As(fault.Under(fmt.Errorf("wrapped: %w", fe.At("entry.work_date")), "entry"))
	if withPrefix == nil || withPrefix.Violations[0].Field != "entry.hours" || withPrefix.Violations[1].Field != "entry.work_date" {
		t.Fatalf("Under = %+v", withPrefix)
	}
	if fe.Violations[0].Field != "hours" {
		t.Fatalf("Under changed its argument: %+v", fe.Violations)
	}
}
