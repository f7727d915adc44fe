package ledger

import (
	"time"

	"github.com/accrue/accrue/internal/platform/civil"
)

// PeriodStatus says whether postings dated in a period may post in it.
type PeriodStatus string

const (
	PeriodOpen   PeriodStatus = "OPEN"
	PeriodClosed PeriodStatus = "CLOSED"
	// PeriodSoftClosed: automated postings treat it as closed; only finance posts in it.
	PeriodSoftClosed PeriodStatus = "SOFT_CLOSED"
)

// Period is a month ("YYYY-MM") of a legal entity that was opened or closed explicitly; a month
// nobody touched is open.
type Period struct {
	LegalEntityID string
	Period        string
	Status        PeriodStatus
	ChangedBy     string
	ChangedAt     time.Time
}

// Dates returns the period's first and last day.
func (p Period) Dates() (start, end civil.Date) {
	start, _ = civil.Parse(p.Period + "-01")
	return start, civil.Of(start.Time().AddDate(0, 1, -1))
}

// PeriodOf returns the "YYYY-MM" period of d.
func PeriodOf(d civil.Date) string { return d.String()[:7] }
