package timeexpense

import (
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/shopspring/decimal"
)

// Where a closed period refused an entry: when it was recorded (recorded, imported or corrected
// into a period its legal entity closed with policy REJECT: nothing was stored), or when the
// ledger posted it (the period closed after the entry was recorded).
const (
	RefusedAtRecordTime = "record_time"
	RejectedAtPosting   = "posting"
)

// ClosedPeriodCount is a count of entries refused for a closed period: the entries, their
// timesheets (distinct resource and ISO week) and their hours (time entries only).
type ClosedPeriodCount struct {
	Entries    int64
	Timesheets int64
	Hours      decimal.Decimal
}

// ClosedPeriodKPIs is the closed-period KPI split by where the entries were refused, and the two
// together (a timesheet with refusals of both kinds counts once).
type ClosedPeriodKPIs struct {
	RecordTime, Posting, Total ClosedPeriodCount
}

// Refusal is an input refused at record time for a closed period, via "record", "import" or
// "correct". Key identifies the input's content, so that a retried request counts once.
type Refusal struct {
	Input Input
	Via   string
}

// Key is a digest of the refused input's content.
func (r Refusal) Key() []byte {
	in := r.Input
	ref := ""
	if in.Ref != nil {
		ref = in.Ref.System + "/" + in.Ref.ObjectType + "/" + in.Ref.ExternalID
	}
	h := sha256.Sum256(fmt.Appendf(nil, "%s|%s|%s|%s|%s|%s|%s|%s|%t|%s", in.Kind, in.ResourceID, in.ProjectID, in.TaskID, in.Date,
		in.Hours, in.Amount, ref, in.Billable, in.Description))
	return h[:]
}

// RefusedForClosedPeriod reports whether err refused an entry for a closed period.
func RefusedForClosedPeriod(err error) bool { return errors.Is(err, ErrPeriodClosed) }
