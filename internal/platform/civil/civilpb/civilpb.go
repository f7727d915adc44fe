// Package civilpb converts civil dates to and from their contract form (accrue.common.v1.Date).
// It lives apart from civil so domain packages use dates without pulling in generated code; only
// wire packages (and transports' tests) import it.
package civilpb

import (
	"time"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/fault"
)

// From converts a contract date, checking that it exists on the calendar. field names the
// request field in errors. A nil message is the zero Date.
func From(p *commonv1.Date, field string) (civil.Date, error) {
	if p == nil {
		return civil.Date{}, nil
	}
	d := civil.Date{Year: int(p.GetYear()), Month: time.Month(p.GetMonth()), Day: int(p.GetDay())}
	if !d.Valid() {
		return civil.Date{}, fault.Invalidf(civil.ReasonInvalidDate, field, "%04d-%02d-%02d is not a calendar date", p.GetYear(), p.GetMonth(), p.GetDay())
	}
	return d, nil
}

// To converts d to its contract form (nil for the zero Date).
func To(d civil.Date) *commonv1.Date {
	if d.IsZero() {
		return nil
	}
	return &commonv1.Date{Year: int32(d.Year), Month: int32(d.Month), Day: int32(d.Day)}
}
