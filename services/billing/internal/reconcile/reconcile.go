package reconcile

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/fault"
)

// Checks a run performs.
const (
	CheckTime       = "time"       // approved (time & expense) = posted (ledger) = billed + unbilled
	CheckSupplier   = "supplier"   // supplier bill lines = allocated amounts
	CheckJournal    = "journal"    // every journal entry balanced
	CheckEvents     = "events"     // every published event consumed by every subscribing group
	CheckIncomplete = "incomplete" // a check could not run
)

// Finding codes.
const (
	ApprovedNotPosted    = "APPROVED_NOT_POSTED"
	PostedTwice          = "POSTED_TWICE"
	HoursDiffer          = "HOURS_DIFFER"
	AmountDiffers        = "AMOUNT_DIFFERS"
	PostedNotApproved    = "POSTED_NOT_APPROVED"
	ReversalNotPosted    = "REVERSAL_NOT_POSTED"
	CandidateMissing     = "CANDIDATE_MISSING"
	CandidateHoursDiffer = "CANDIDATE_HOURS_DIFFER"
	AllocationDiffers    = "ALLOCATION_DIFFERS"
	EntryUnbalanced      = "ENTRY_UNBALANCED"
	EventNotConsumed     = "EVENT_NOT_CONSUMED"
	CheckFailed          = "CHECK_FAILED"
)

// Status of a run.
type Status string

const (
	Clean      Status = "CLEAN"
	Drift      Status = "DRIFT"
	Incomplete Status = "INCOMPLETE"
)

// Finding is one drift and the ids to look at.
type Finding struct {
	Check      string
	Code       string
	EntityType string
	EntityIDs  []string
	Detail     string
	// Producer and Consumer name the services of an event not consumed.
	Producer, Consumer string
	// ExceptionID is the exception that carries the finding (set when recorded).
	ExceptionID string
}

// Key identifies "the same finding" across runs: its exception is deduplicated on it.
func (f Finding) Key() string {
	return "reconciliation:" + f.Check + ":" + f.Code + ":" + f.Consumer + ":" + strings.Join(f.EntityIDs, ",")
}

// Total is one figure of a run: a decimal, with a currency for an amount.
type Total struct {
	Name     string
	Value    decimal.Decimal
	Currency string
}

// Run is one reconciliation of a legal entity and period.
type Run struct {
	ID            string
	LegalEntityID string
	Period        string
	Status        Status
	TriggeredBy   string
	StartedAt     time.Time
	FinishedAt    time.Time
	Totals        []Total
	Findings      []Finding
	// FindingCount is len(Findings) when the findings are loaded.
	FindingCount int
}

// Settle sets the run's status from its findings and sorts its totals by name.
func (r *Run) Settle() {
	r.FindingCount = len(r.Findings)
	r.Status = Clean
	for _, f := range r.Findings {
		if f.Check == CheckIncomplete {
			r.Status = Incomplete
			break
		}
		r.Status = Drift
	}
	sort.SliceStable(r.Totals, func(i, j int) bool {
		if r.Totals[i].Name != r.Totals[j].Name {
			return r.Totals[i].Name < r.Totals[j].Name
		}
		return r.Totals[i].Currency < r.Totals[j].Currency
	})
}

// Totals accumulates named figures, per currency for amounts.
type Totals map[[2]string]decimal.Decimal

// Add adds v to the figure name (in currency, "" for hours and counts).
func (t Totals) Add(name, currency string, v decimal.Decimal) {
	k := [2]string{name, currency}
	t[k] = t[k].Add(v)
}

// Ensure makes the figure exist (zero) so a clean run shows it.
func (t Totals) Ensure(name string) {
	k := [2]string{name, ""}
	if _, ok := t[k]; !ok {
		t[k] = decimal.Zero
	}
}

// List returns the figures sorted by name and currency.
func (t Totals) List() []Total {
	out := make([]Total, 0, len(t))
	for k, v := range t {
		out = append(out, Total{Name: k[0], Currency: k[1], Value: v})
	}
	slices.SortFunc(out, func(a, b Total) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Currency, b.Currency)
	})
	return out
}

// ErrRunNotFound: no reconciliation run has the id.
var ErrRunNotFound = fault.New(fault.NotFound, "RECONCILIATION_RUN_NOT_FOUND", "no reconciliation run has this id")

// Scope is a legal entity and accounting period ("YYYY-MM") to reconcile.
type Scope struct {
	LegalEntityID string
	Period        string
}

// Filter selects runs, newest first.
type Filter struct {
	LegalEntities []string // nil: every entity
	LegalEntityID string
	Period        string
	// Before is the position after which the page starts (finished_at, id of the last run seen).
	BeforeTime time.Time
	BeforeID   string
	Limit      int
}
