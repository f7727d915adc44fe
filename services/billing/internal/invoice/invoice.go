// Package invoice holds the rules of invoices and credit notes: a proposal from the open
// (unbilled) part of a contract's invoice candidates, one line per entry or grouped as the
// contract asks (per resource, role or task), each line rounded once
// half-up to the currency's minor unit, totals the sum of the rounded lines, and the
// not-to-exceed cap of a contract line, which splits the candidate that crosses it. No I/O here:
// the store reads the open candidates and writes what these functions decide.
//
// Statuses: DRAFT → POSTED (numbered, never changed again) or DRAFT → VOID (its candidates free
// again). A credit note is an invoice of kind CREDIT_NOTE whose lines carry negative quantities
// and amounts against the lines of the invoice it credits. Each line carries its own tax (package
// tax: rate × amount, rounded once); a credit line reverses tax at its invoice line's rate, in
// proportion to what it credits. An invoice waiting for its customer's tax data is BLOCKED_TAX.
package invoice

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/contract"
)

// Status is where an invoice stands.
type Status string

const (
	Draft  Status = "DRAFT"
	Posted Status = "POSTED"
	Void   Status = "VOID"
	// BlockedTax is a draft whose customer lacks the tax data it needs (package tax): it cannot
	// be posted until the customer's tax profile is fixed, which makes it a DRAFT again.
	BlockedTax Status = "BLOCKED_TAX"
)

// Kind tells invoices from credit notes (each numbered in its own sequence).
type Kind string

const (
	KindInvoice    Kind = "INVOICE"
	KindCreditNote Kind = "CREDIT_NOTE"
)

// Faults of rejected requests, with their stable reasons.
var (
	ErrNotFound      = fault.New(fault.NotFound, "INVOICE_NOT_FOUND", "no such invoice")
	ErrNothingToBill = fault.New(fault.FailedPrecondition, "NOTHING_TO_BILL", "the contract has nothing unbilled up to the cut-off")
	ErrNotDraft      = fault.New(fault.FailedPrecondition, "INVOICE_NOT_DRAFT", "the invoice is posted or void: it never changes")
	ErrNotPosted     = fault.New(fault.FailedPrecondition, "INVOICE_NOT_POSTED", "only a posted invoice can be credited")
	ErrOverCredit    = fault.New(fault.FailedPrecondition, "CREDIT_EXCEEDS_INVOICED", "the credit exceeds what the line bills net of earlier credit notes")
	ErrUnknownLine   = fault.New(fault.Invalid, "INVOICE_LINE_UNKNOWN", "the invoice has no such line")
	ErrFXMissing     = fault.New(fault.FailedPrecondition, "EXCHANGE_RATE_MISSING_FOR_DATE", "no exchange rate to the functional currency on the issue date")
	ErrReversed      = fault.New(fault.FailedPrecondition, "INVOICE_CANDIDATE_REVERSED", "work on the draft was reversed since it was proposed: void it and propose again")
	ErrChanged       = fault.New(fault.FailedPrecondition, "INVOICE_CANDIDATE_CHANGED", "work on the draft was re-rated by a contract amendment since it was proposed: void it and propose again")
	ErrPeriodClosed  = fault.New(fault.FailedPrecondition, "PERIOD_CLOSED", "the issue date is in a closed period of the legal entity")
	ErrBusy          = fault.New(fault.Conflict, "INVOICE_CANDIDATE_TAKEN", "another run billed these candidates at the same time; propose again")
)

// Invoice is an invoice or a credit note.
type Invoice struct {
	ID            string
	Kind          Kind
	CreditsID     string // the invoice a credit note credits
	ContractID    string
	LegalEntityID string
	CustomerID    string
	Currency      string
	Status        Status
	CutOff        civil.Date // candidates up to this date (proposals)
	IssueDate     civil.Date // set when posted
	Number        string     // set when posted: gap-free per legal entity, kind and fiscal year
	FiscalYear    int
	Lines         []Line
	Total         money.Amount
	// OverCap is what the caps kept off this proposal (it stays unbilled).
	OverCap        money.Amount
	JournalEntryID string
	// Tax is the sum of the lines' tax (set when posted); Total stays net of tax.
	Tax money.Amount
	// TaxNote is printed on the invoice: the exemption certificate or the reverse charge.
	TaxNote      string
	ExemptionRef string
	// TaxMissing lists what the customer's tax profile lacks (a BLOCKED_TAX draft).
	TaxMissing []string
}

// Gross is what the customer owes: the net total plus tax.
func (inv Invoice) Gross() money.Amount {
	return money.Amount{Value: inv.Total.Value.Add(inv.Tax.Value), Currency: inv.Currency}
}

// Line is a printed invoice line: one entry (candidate) or, on a contract that groups its
// lines, several entries of one resource, role or task at one unit price (Parts), or the credit
// of part of such a line.
type Line struct {
	No          int
	ProjectID   string
	LineKey     string // contract line
	Description string
	// CandidateID is the candidate a one-entry line bills ("" on a grouped line: see Parts).
	CandidateID string
	// Item is the fixed amount a fee line bills instead of a candidate (MilestoneItem).
	Item string
	// SourceDate is the entry's date (the latest of a grouped line's).
	SourceDate civil.Date
	Quantity   decimal.Decimal
	UnitPrice  money.Amount
	Amount     money.Amount
	// Round is the candidate's Open.Round this line bills (one-entry invoice lines only).
	Round int
	// ItemType is the candidate's source type (time_entry, expense): the key of its tax rate.
	ItemType string
	TaxRate  decimal.Decimal
	Tax      money.Amount
	// Parts are the candidates the line bills or credits, by date: their quantities and amounts
	// sum to the line's (a one-entry line has one part).
	Parts []Part
}

// Part is what a line bills (or credits: negative) of one candidate.
type Part struct {
	CandidateID string
	// Item is what a fee part bills instead of a candidate (CandidateID is then "").
	Item       string
	SourceDate civil.Date
	Quantity   decimal.Decimal
	Amount     money.Amount
	// Round is the candidate's Open.Round (invoice lines: the one-live-invoice constraint).
	Round int
	// WIP is the functional WIP the part relieves of its candidate (a credit part: puts back,
	// negative), set when the document posts (SetWIP).
	WIP decimal.Decimal
}

// Key is what the part bills: its candidate, or "item:" and its billing item.
func (p Part) Key() string {
	if p.CandidateID == "" && p.Item != "" {
		return "item:" + p.Item
	}
	return p.CandidateID
}

// Open is the unbilled part of a candidate: what it holds less what live invoices bill, net of
// credit notes. Round counts the live invoice lines it is already on (the one-live-invoice
// constraint is unique per candidate and round).
type Open struct {
	CandidateID string
	ProjectID   string
	LineKey     string
	SourceType  string
	SourceID    string
	SourceDate  civil.Date
	Quantity    decimal.Decimal
	UnitPrice   money.Amount
	Amount      money.Amount
	Round       int
	// ResourceID, Role and TaskID are what grouping keys on ("" when unknown).
	ResourceID string
	Role       string
	TaskID     string
}

// Cap is a contract line's not-to-exceed cap and what invoices already bill toward it (net of
// credit notes).
type Cap struct {
	Limit  money.Amount
	Billed money.Amount
}

// Propose builds the lines of a proposal from open (ordered by date, then id), grouped as the
// contract asks (contract.PerEntry: one line per entry); a contract line with a cap stops at it.
// The candidate that crosses the cap is split by amount: it bills exactly the headroom, its
// quantity is the headroom over the unit price (4 decimals), and the rest of the candidate stays
// open and counts as over cap, with every later candidate of that line.
//
// A grouped line bills the sum of its candidates' quantities times their unit price, rounded
// once half-up (capped at what its candidates may bill); the rounding difference from the sum of
// the candidates' own amounts sits on the latest candidate's part. Totals are sums of rounded
// lines.
func Propose(currency string, open []Open, caps map[string]Cap, grouping contract.LineGrouping) (lines []Line, total, overCap money.Amount) {
	total, overCap = money.Zero(currency), money.Zero(currency)
	head := map[string]decimal.Decimal{}
	for k, c := range caps {
		h := c.Limit.Value.Sub(c.Billed.Value)
		if h.IsNegative() {
			h = decimal.Zero
		}
		head[k] = h
	}
	type group struct {
		line  Line
		open  Open
		count int
	}
	var groups []*group
	byKey := map[string]*group{}
	for _, o := range open {
		qty := o.Quantity
		amt := money.Amount{Value: o.Amount.Value, Currency: currency}.Round()
		if h, capped := head[o.LineKey]; capped {
			if amt.Value.GreaterThan(h) {
				overCap.Value = overCap.Value.Add(amt.Value.Sub(h))
				if h.IsZero() {
					continue
				}
				amt.Value = h
				if !o.UnitPrice.Value.IsZero() {
					qty = h.Div(o.UnitPrice.Value).Round(4)
				}
			}
			head[o.LineKey] = h.Sub(amt.Value)
		}
		if amt.Value.IsZero() {
			continue
		}
		part := Part{CandidateID: o.CandidateID, SourceDate: o.SourceDate, Quantity: qty, Amount: amt, Round: o.Round}
		key := groupKey(o, grouping)
		g := byKey[key]
		if key == "" || g == nil {
			g = &group{open: o, line: Line{ProjectID: o.ProjectID, LineKey: o.LineKey, UnitPrice: o.UnitPrice, ItemType: o.SourceType,
				Quantity: decimal.Zero, Amount: money.Zero(currency)}}
			groups = append(groups, g)
			if key != "" {
				byKey[key] = g
			}
		}
		g.count++
		g.line.Parts = append(g.line.Parts, part)
		g.line.Quantity = g.line.Quantity.Add(qty)
		g.line.Amount.Value = g.line.Amount.Value.Add(amt.Value)
		g.line.SourceDate = o.SourceDate
	}
	for _, g := range groups {
		l := g.line
		l.No = len(lines) + 1
		if len(l.Parts) == 1 {
			o := g.open
			l.CandidateID, l.Round = o.CandidateID, o.Round
			l.Description = fmt.Sprintf("%s %s on %s", o.SourceType, o.SourceID, o.SourceDate)
		} else {
			// Rounded once: the sum of quantities at the unit price, never above what the
			// candidates' parts may bill (a cap's headroom).
			once := money.Amount{Value: l.Quantity.Mul(l.UnitPrice.Value), Currency: currency}.Round().Value
			if _, capped := caps[l.LineKey]; !capped || once.LessThan(l.Amount.Value) {
				last := &l.Parts[len(l.Parts)-1]
				last.Amount.Value = last.Amount.Value.Add(once.Sub(l.Amount.Value))
				l.Amount.Value = once
			}
			l.Description = describeGroup(g.open, grouping, len(l.Parts), l.Parts[0].SourceDate, l.SourceDate)
		}
		lines = append(lines, l)
		total.Value = total.Value.Add(l.Amount.Value)
	}
	return lines, total, overCap
}

// groupKey is the line a candidate joins under grouping ("": a line of its own).
func groupKey(o Open, grouping contract.LineGrouping) string {
	var by string
	switch grouping {
	case contract.PerResource:
		by = o.ResourceID
	case contract.PerRole:
		by = o.Role
	case contract.PerTask:
		by = o.TaskID
	default:
		return ""
	}
	return strings.Join([]string{o.LineKey, o.ProjectID, o.SourceType, o.UnitPrice.Value.String(), string(grouping), by}, "\x00")
}

func describeGroup(o Open, grouping contract.LineGrouping, n int, from, to civil.Date) string {
	what := map[contract.LineGrouping]string{contract.PerResource: "resource " + o.ResourceID, contract.PerRole: "role " + o.Role,
		contract.PerTask: "task " + o.TaskID}[grouping]
	return fmt.Sprintf("%s of %s: %d entries from %s to %s", o.SourceType, what, n, from, to)
}

// FormatNumber is an invoice's number: the legal entity's code, the fiscal year and the sequence
// (credit notes with a CN prefix, in their own sequence).
func FormatNumber(kind Kind, entityCode string, year int, seq int64) string {
	prefix := ""
	if kind == KindCreditNote {
		prefix = "CN-"
	}
	return fmt.Sprintf("%s%s-%d-%06d", prefix, entityCode, year, seq)
}
