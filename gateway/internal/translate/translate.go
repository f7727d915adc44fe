// Package translate turns vendor webhook payloads into Accrue's canonical commands. Each
// translator only decodes and maps; validation of the business content happens in the service
// that receives the command, exactly as for a REST or gRPC caller.
package translate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

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

// decode reads JSON keeping numbers exact (json.Number, never float64).
func decode(body []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return malformed("the body is not the expected JSON: %v", err)
	}
	return nil
}

// moneyOf converts a JSON number (or numeric string) in currency to a contract Money, written
// with the currency's minor-unit digits when that is exact (150000 → "150000.00").
func moneyOf(n json.Number, currency, field string) (*commonv1.Money, error) {
	if n == "" {
		return nil, nil
	}
	d, err := decimal.NewFromString(n.String())
	if err != nil {
		return nil, malformed("%s: %q is not a number", field, n)
	}
	s := d.String()
	if exp, ok := money.Exponent(currency); ok && d.Round(exp).Equal(d) {
		s = d.StringFixed(exp)
	}
	return &commonv1.Money{Amount: s, CurrencyCode: currency}, nil
}

// dateOf converts "YYYY-MM-DD" (or "") to a contract Date.
func dateOf(s, field string) (*commonv1.Date, error) {
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return nil, malformed("%s: %q is not a YYYY-MM-DD date", field, s)
	}
	return &commonv1.Date{Year: int32(t.Year()), Month: int32(t.Month()), Day: int32(t.Day())}, nil
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
