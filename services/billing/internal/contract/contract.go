// Package contract is the contract domain: versioned contracts of a customer with a legal entity,
// their lines (billing method, amount or not-to-exceed cap, rate card, revenue method,
// milestones) and the rules a contract version must satisfy. No I/O here.
package contract

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
)

// BillingMethod says how a line is invoiced.
type BillingMethod string

const (
	TimeAndMaterials BillingMethod = "TIME_AND_MATERIALS"
	FixedFee         BillingMethod = "FIXED_FEE"
	MilestoneBilling BillingMethod = "MILESTONE"
	Retainer         BillingMethod = "RETAINER"
)

// RevenueMethod says how a line's revenue is recognised.
type RevenueMethod string

const (
	AsDelivered      RevenueMethod = "AS_DELIVERED"
	PercentComplete  RevenueMethod = "PERCENT_COMPLETE"
	MilestoneRevenue RevenueMethod = "MILESTONE"
	StraightLine     RevenueMethod = "STRAIGHT_LINE"
)

// Reasons and errors.
var (
	ErrNotFound        = fault.New(fault.NotFound, "CONTRACT_NOT_FOUND", "no such contract")
	ErrVersionConflict = fault.New(fault.Conflict, "VERSION_CONFLICT", "the contract was amended by someone else; read it again")
)

const (
	ReasonRateCardOverlap     = "RATE_CARD_OVERLAP"
	ReasonCurrencyMismatch    = "CURRENCY_MISMATCH"
	ReasonMilestonesMismatch  = "MILESTONES_MISMATCH"
	ReasonInvalidPeriod       = "INVALID_PERIOD"
	ReasonRateCardRequired    = "RATE_CARD_REQUIRED"
	ReasonMilestonesRequired  = "MILESTONES_REQUIRED"
	ReasonServicePeriodNeeded = "SERVICE_PERIOD_REQUIRED"
	ReasonDuplicateLine       = "DUPLICATE_LINE_KEY"
	ReasonNegativeAmount      = "NEGATIVE_AMOUNT"
	ReasonNotToExceed         = "NOT_TO_EXCEED_NOT_ALLOWED"
	// ReasonBillingSchedule: a billing schedule on a line that is not FIXED_FEE, or whose
	// entries do not sum to the line amount, or dated outside the contract or twice.
	ReasonBillingSchedule = "BILLING_SCHEDULE_INVALID"
)

// RateEntry is the bill rate of a role over [From, To] (To zero: open-ended).
type RateEntry struct {
	Role string
	Rate money.Amount
	From civil.Date
	To   civil.Date
}

// Covers reports whether the entry applies on d.
func (e RateEntry) Covers(d civil.Date) bool { return InEffect(e.From, e.To, d) }

// InEffect reports whether a rate effective from `from` through `to` (inclusive; a zero `to` is
// open-ended) applies on d. It is the one rule for effective-dated rates: the bill rates of a rate
// card, and the cost rates the ledger posts at.
func InEffect(from, to, d civil.Date) bool {
	return !d.Before(from) && (to.IsZero() || !d.After(to))
}

// RateCard is a line's bill rates. Validate refuses overlapping periods of one role, so at most
// one entry applies to a role on a date.
type RateCard []RateEntry

// Rate returns the bill rate of role on d: the entry of that role in effect on d. Posting prices
// billable time with it.
func (c RateCard) Rate(role string, d civil.Date) (money.Amount, bool) {
	for _, e := range c {
		if e.Role == role && e.Covers(d) {
			return e.Rate, true
		}
	}
	return money.Amount{}, false
}

// Milestone is a deliverable with an amount and a due date.
type Milestone struct {
	Key    string
	Name   string
	Amount money.Amount
	Due    civil.Date
}

// ErrMilestoneNotFound: the contract's current version has no such line or milestone.
var ErrMilestoneNotFound = fault.New(fault.NotFound, "MILESTONE_NOT_FOUND", "the contract has no such line or milestone")

// Completion records that a milestone of a contract line is complete. A milestone counts as
// complete for a period when CompletedOn is on or before the period's end.
type Completion struct {
	ContractID   string
	LineKey      string
	MilestoneKey string
	CompletedOn  civil.Date
	CompletedBy  string
	RecordedAt   time.Time
}

// Milestone returns the milestone key of line lineKey, ErrMilestoneNotFound when there is none.
func (t Terms) Milestone(lineKey, key string) (Milestone, error) {
	for _, l := range t.Lines {
		if l.Key != lineKey {
			continue
		}
		for _, m := range l.Milestones {
			if m.Key == key {
				return m, nil
			}
		}
	}
	return Milestone{}, ErrMilestoneNotFound.With("contract line " + lineKey + " has no milestone " + key)
}

// Line is one sold service line.
type Line struct {
	Key           string
	ServiceLine   string
	Description   string
	Billing       BillingMethod
	Amount        money.Amount
	NotToExceed   *money.Amount
	RateCard      RateCard
	Revenue       RevenueMethod
	ServiceStart  civil.Date
	ServiceEnd    civil.Date
	Milestones    []Milestone
	ExpenseMarkup *decimal.Decimal
	// Schedule is the billing schedule of a FIXED_FEE line (omitted from Hash when empty).
	Schedule []ScheduleEntry `json:",omitempty"`
}

// ScheduleEntry is one instalment of a fixed fee, billable from its date.
type ScheduleEntry struct {
	Date   civil.Date
	Amount money.Amount
}

// BillRate returns the line's rate for role on d (see RateCard.Rate).
func (l Line) BillRate(role string, d civil.Date) (money.Amount, bool) {
	return l.RateCard.Rate(role, d)
}

// LineGrouping says how an invoice proposal groups a contract's time and expense candidates
// into invoice lines. A grouped line bills the sum of its candidates' quantities at their one
// unit price, rounded once; candidates of different contract lines, projects, item types or unit
// prices never share a line.
type LineGrouping string

const (
	// PerEntry (the default, stored empty) is one invoice line per entry.
	PerEntry    LineGrouping = ""
	PerResource LineGrouping = "PER_RESOURCE"
	PerRole     LineGrouping = "PER_ROLE"
	PerTask     LineGrouping = "PER_TASK"
)

// Terms are the content of a contract version.
type Terms struct {
	CustomerID    string
	LegalEntityID string
	Name          string
	Currency      string
	Start, End    civil.Date
	Lines         []Line
	// PaymentTermsCode names the legal entity's payment terms of the contract's invoices
	// (package receivable); empty: the legal entity's default.
	// (omitted from Hash when empty, so contracts hashed before it existed keep their hash).
	PaymentTermsCode string `json:",omitempty"`
	// LineGrouping is how invoice proposals group candidates (omitted from the hash when it is
	// the default, so contracts stored before it hash as they did).
	LineGrouping LineGrouping `json:",omitempty"`
}

// ExternalRef is the contract's id in its source system (the CRM opportunity).
type ExternalRef struct {
	System, ObjectType, ExternalID string
}

// ErrRefTaken is returned by a store when another writer created the contract of an external
// reference first; the upsert then reads the winner and decides again.
var ErrRefTaken = fault.New(fault.AlreadyExists, "CONTRACT_EXTERNAL_REF_TAKEN", "another request created this contract at the same time")

// Head is the identity of a contract's current version: what an upsert or an amendment decides
// on before it reads the whole contract.
type Head struct {
	ID            string
	Version       int64
	SourceVersion int64
	Currency      string
	// Hash is the current terms' Hash.
	Hash []byte
	// LegalEntityID is the legal entity the contract currently belongs to.
	LegalEntityID string
}

// Outcome says what an upsert of a contract from its source system did.
type Outcome int

const (
	Created Outcome = iota + 1
	Amended
	Unchanged
	// IgnoredStale: the source version was older than the one held; nothing changed.
	IgnoredStale
)

// Contract is a contract version.
type Contract struct {
	ID      string
	Version int64
	Terms
	Ref           ExternalRef
	SourceVersion int64
	ChangeReason  string
	CreatedAt     time.Time
	VersionAt     time.Time
}

// Total is the sum of the line amounts.
func (t Terms) Total() money.Amount {
	sum := money.Zero(t.Currency)
	for _, l := range t.Lines {
		sum.Value = sum.Value.Add(l.Amount.Value)
	}
	return sum
}

// Hash fingerprints the terms (same hash: same content, no amendment needed).
func (t Terms) Hash() []byte {
	b, _ := json.Marshal(t)
	s := sha256.Sum256(b)
	return s[:]
}

// Validate checks the rules of a contract version and, for an amendment, the currency of the
// existing contract ("" when new): a new contract may be in any ISO 4217 currency (its legal
// entity's books convert it to the functional currency), an amendment keeps the contract's
// currency, and every amount of its lines is in the contract currency. Field paths in violations
// are relative to the request's "contract" field.
func (t Terms) Validate(existingCurrency string) error {
	var v []fault.Violation
	add := func(reason *string, r, field, format string, args ...any) {
		if *reason == "" {
			*reason = r
		}
		v = append(v, fault.Violation{Field: field, Description: fmt.Sprintf(format, args...)})
	}
	reason := ""
	if !money.KnownCurrency(t.Currency) {
		return fault.Invalidf(money.ReasonUnknownCurrency, "contract.currency_code", "%q is not an ISO 4217 currency", t.Currency)
	}
	if existingCurrency != "" && t.Currency != existingCurrency {
		add(&reason, ReasonCurrencyMismatch, "contract.currency_code", "the contract is in %s; an amendment cannot change its currency to %s", existingCurrency, t.Currency)
	}
	if t.End.Before(t.Start) {
		add(&reason, ReasonInvalidPeriod, "contract.end_date", "the contract ends (%s) before it starts (%s)", t.End, t.Start)
	}
	keys := map[string]bool{}
	for i, l := range t.Lines {
		p := fmt.Sprintf("contract.lines[%d]", i)
		if keys[l.Key] {
			add(&reason, ReasonDuplicateLine, p+".line_key", "line key %q is used twice", l.Key)
		}
		keys[l.Key] = true
		checkCurrency := func(a money.Amount, field string) {
			if a.Currency != t.Currency {
				add(&reason, ReasonCurrencyMismatch, field, "%s is not the contract currency %s", a.Currency, t.Currency)
			}
		}
		checkCurrency(l.Amount, p+".amount.currency_code")
		if l.Amount.Value.IsNegative() {
			add(&reason, ReasonNegativeAmount, p+".amount.amount", "a line amount cannot be negative")
		}
		if l.NotToExceed != nil {
			checkCurrency(*l.NotToExceed, p+".not_to_exceed.currency_code")
			if l.Billing != TimeAndMaterials {
				add(&reason, ReasonNotToExceed, p+".not_to_exceed", "only time-and-materials lines have a not-to-exceed cap")
			}
		}
		if l.Billing == TimeAndMaterials && len(l.RateCard) == 0 {
			add(&reason, ReasonRateCardRequired, p+".rate_card", "a time-and-materials line needs a rate card")
		}
		for j, e := range l.RateCard {
			ep := fmt.Sprintf("%s.rate_card[%d]", p, j)
			checkCurrency(e.Rate, ep+".bill_rate.currency_code")
			if e.Rate.Value.IsNegative() {
				add(&reason, ReasonNegativeAmount, ep+".bill_rate.amount", "a bill rate cannot be negative")
			}
			if !e.To.IsZero() && e.To.Before(e.From) {
				add(&reason, ReasonInvalidPeriod, ep+".effective_to", "the rate ends before it starts")
			}
		}
		for _, o := range overlaps(l.RateCard) {
			add(&reason, ReasonRateCardOverlap, fmt.Sprintf("%s.rate_card[%d]", p, o[1]),
				"rate card periods of role %s overlap (entries %d and %d)", l.RateCard[o[1]].Role, o[0], o[1])
		}
		needMilestones := l.Billing == MilestoneBilling || l.Revenue == MilestoneRevenue
		if needMilestones && len(l.Milestones) == 0 {
			add(&reason, ReasonMilestonesRequired, p+".milestones", "milestone billing or revenue needs milestones")
		}
		msum := decimal.Zero
		for j, m := range l.Milestones {
			checkCurrency(m.Amount, fmt.Sprintf("%s.milestones[%d].amount.currency_code", p, j))
			msum = msum.Add(m.Amount.Value)
		}
		if l.Billing == MilestoneBilling && len(l.Milestones) > 0 && !msum.Equal(l.Amount.Value) {
			add(&reason, ReasonMilestonesMismatch, p+".milestones", "milestones sum to %s, the line amount is %s", msum, l.Amount.Value)
		}
		if len(l.Schedule) > 0 {
			ssum, dates := decimal.Zero, map[civil.Date]bool{}
			for j, e := range l.Schedule {
				ep := fmt.Sprintf("%s.billing_schedule[%d]", p, j)
				checkCurrency(e.Amount, ep+".amount.currency_code")
				switch {
				case e.Amount.Value.IsNegative():
					add(&reason, ReasonNegativeAmount, ep+".amount", "a schedule amount cannot be negative")
				case e.Date.Before(t.Start) || e.Date.After(t.End):
					add(&reason, ReasonBillingSchedule, ep+".date", "%s is outside the contract (%s to %s)", e.Date, t.Start, t.End)
				case dates[e.Date]:
					add(&reason, ReasonBillingSchedule, ep+".date", "%s is scheduled twice", e.Date)
				}
				dates[e.Date] = true
				ssum = ssum.Add(e.Amount.Value)
			}
			if l.Billing != FixedFee {
				add(&reason, ReasonBillingSchedule, p+".billing_schedule", "only a FIXED_FEE line has a billing schedule")
			}
			if !ssum.Equal(l.Amount.Value) {
				add(&reason, ReasonBillingSchedule, p+".billing_schedule", "the schedule sums to %s, the line amount is %s", ssum, l.Amount.Value)
			}
		}
		if l.Revenue == StraightLine {
			if l.ServiceStart.IsZero() || l.ServiceEnd.IsZero() {
				add(&reason, ReasonServicePeriodNeeded, p+".service_start", "straight-line revenue needs service_start and service_end")
			} else if l.ServiceEnd.Before(l.ServiceStart) {
				add(&reason, ReasonInvalidPeriod, p+".service_end", "the service period ends before it starts")
			}
		}
	}
	if len(v) == 0 {
		return nil
	}
	kind := fault.Invalid
	if reason == ReasonCurrencyMismatch {
		kind = fault.FailedPrecondition
	}
	return &fault.Error{Kind: kind, Reason: reason, Message: v[0].Description, Violations: v}
}

// overlaps returns index pairs (i, j), i < j, of entries of the same role whose periods overlap.
func overlaps(card []RateEntry) [][2]int {
	idx := make([]int, len(card))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		if card[a].Role != card[b].Role {
			if card[a].Role < card[b].Role {
				return -1
			}
			return 1
		}
		return card[a].From.Compare(card[b].From)
	})
	var out [][2]int
	for k := 1; k < len(idx); k++ {
		prev, cur := card[idx[k-1]], card[idx[k]]
		if prev.Role != cur.Role {
			continue
		}
		if prev.To.IsZero() || !cur.From.After(prev.To) {
			a, b := idx[k-1], idx[k]
			if a > b {
				a, b = b, a
			}
			out = append(out, [2]int{a, b})
		}
	}
	return out
}
