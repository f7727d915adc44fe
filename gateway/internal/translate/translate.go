// Package translate turns vendor webhook payloads into Accrue's canonical commands. Each
// translator only decodes and maps; validation of the business content happens in the service
// that receives the command, exactly as for a REST or gRPC caller.
package translate

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
)

// ReasonMalformed is the reason of payloads that cannot be decoded or mapped.
const ReasonMalformed = "MALFORMED_PAYLOAD"

func malformed(format string, args ...any) error {
	return fault.New(fault.Invalid, ReasonMalformed, format, args...)
}

// moneyValue converts a JSON number (or numeric string) in currency to a contract Money
// (absent: nil).
func moneyValue(v any, currency, field string) (*commonv1.Money, error) {
	d, ok, err := number(v, field)
	if err != nil || !ok {
		return nil, err
	}
	return moneyOfDecimal(d, currency), nil
}

// moneyOfDecimal writes d in currency with the currency's minor-unit digits when that is exact
// (150000 → "150000.00"); other values are written as they are, for the service to refuse.
func moneyOfDecimal(d decimal.Decimal, currency string) *commonv1.Money {
	s := d.String()
	if exp, ok := money.Exponent(currency); ok && d.Round(exp).Equal(d) {
		s = d.StringFixed(exp)
	}
	return &commonv1.Money{Amount: s, CurrencyCode: currency}
}

// enumName maps a short vendor value ("TIME_AND_MATERIALS") to the contract enum name
// ("BILLING_METHOD_TIME_AND_MATERIALS") and looks it up in values.
func enumName(prefix, v string, values map[string]int32, field string) (int32, error) {
	if v == "" {
		return 0, nil
	}
	key := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(v), " ", "_"))
	if !strings.HasPrefix(key, prefix) {
		key = prefix + key
	}
	n, ok := values[key]
	if !ok {
		return 0, malformed("%s: unknown value %q", field, v)
	}
	return n, nil
}

func fieldf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// checkEventID refuses event ids that cannot be a deduplication key or gRPC metadata: empty,
// over 200 characters, or other than printable ASCII.
func checkEventID(id string) error {
	if id == "" || len(id) > 200 {
		return malformed("the event id must have 1 to 200 characters")
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] > 0x7e {
			return malformed("the event id %q has a character other than printable ASCII", clip(id))
		}
	}
	return nil
}
