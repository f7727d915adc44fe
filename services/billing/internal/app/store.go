package app

import (
	"context"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/paging"
	"github.com/accrue/accrue/internal/platform/txn"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/invoice"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
	"github.com/accrue/accrue/services/billing/internal/periodclose"
	"github.com/accrue/accrue/services/billing/internal/revenue"
	"github.com/accrue/accrue/services/billing/internal/suppliercost"
	"github.com/accrue/accrue/services/billing/internal/tax"
)

// Store is what the use cases need of the database: one small interface per area (see doc.go).
// Every method runs in the transaction InTx put in ctx, or on its own without one.
type Store interface {
	txn.Store
	LegalEntityStore
	ContractStore
	LedgerStore
	PostingStore
	ReplicaStore
	InvoiceStore
	JournalExportStore
	SupplierCostStore
	TaxStore
	ReceivableStore
	PartnerEventStore
	RevenueStore
	CloseStore
}

// RevenueStore keeps revenue estimates, milestone completions and what recognition runs
// recorded, and reads the ledger figures a run needs.
type RevenueStore interface {
	// LockRevenuePeriod serializes runs of a legal entity and period until the transaction ends.
	LockRevenuePeriod(ctx context.Context, legalEntityID, period string) error
	// ContractIDs returns the ids of a legal entity's contracts; ContractProjects a contract's
	// projects.
	ContractIDs(ctx context.Context, legalEntityID string) ([]string, error)
	ContractProjects(ctx context.Context, contractID string) ([]string, error)
	// RecognitionState returns per line what it recognized before period and whether period is
	// already recognized.
	RecognitionState(ctx context.Context, contractID, period string) (map[string]revenue.Prior, map[string]bool, error)
	// DeliveredToDate sums per line the time candidates (not reversed) dated up to end, and the
	// billable expenses of every line.
	DeliveredToDate(ctx context.Context, contractID string, end civil.Date) (map[string]decimal.Decimal, decimal.Decimal, error)
	// LineCostsToDate sums per line the cost posted up to end on the line's tasks.
	LineCostsToDate(ctx context.Context, contractID string, end civil.Date) (map[string]decimal.Decimal, error)
	// EstimatesAt returns per line the estimate to complete effective at period.
	EstimatesAt(ctx context.Context, contractID, period string) (map[string]decimal.Decimal, error)
	SetEstimate(ctx context.Context, e revenue.Estimate) (revenue.Estimate, error)
	// CompletedMilestones returns per line the milestones completed on or before end.
	CompletedMilestones(ctx context.Context, contractID string, end civil.Date) (map[string]map[string]bool, error)
	// BilledToDate sums the posted invoices and credit notes of a contract issued up to end.
	BilledToDate(ctx context.Context, contractID string, end civil.Date) (decimal.Decimal, error)
	// ContractBalances returns a contract's unbilled receivables and deferred revenue (debit
	// positive) posted up to end.
	ContractBalances(ctx context.Context, contractID string, end civil.Date) (unbilled, deferred decimal.Decimal, err error)
	// RecognizedToDate sums the lines' recognized to date at period.
	RecognizedToDate(ctx context.Context, contractID, period string) (decimal.Decimal, error)
	PositionDone(ctx context.Context, contractID, period string) (bool, error)
	// SaveRun records a run with its lines and positions (unique per line or contract and
	// period).
	SaveRun(ctx context.Context, r revenue.Run) error
	CountRuns(ctx context.Context, legalEntityID, period string) (int64, error)
	// CountLossContracts counts the contracts flagged as loss contracts ("" every entity).
	CountLossContracts(ctx context.Context, legalEntityID string) (int64, error)
	// RecognitionsOf returns what a legal entity's lines recognized for periods from..to.
	RecognitionsOf(ctx context.Context, legalEntityID, from, to string) ([]revenue.Recorded, error)
	// LedgerSlices sums revenue and cost posted from..to per project and contract;
	// WIPRollForward moves each contract's unbilled receivables; RevenueByMethod sums what the
	// lines recognized for periods from..to by method.
	LedgerSlices(ctx context.Context, legalEntityID string, from, to civil.Date) ([]revenue.LedgerSlice, error)
	WIPRollForward(ctx context.Context, legalEntityID string, from, to civil.Date) ([]revenue.WIP, error)
	RevenueByMethod(ctx context.Context, legalEntityID, from, to string) ([]revenue.ByMethod, error)
}

// CloseStore reads what the close checklist checks and keeps its waivers.
type CloseStore interface {
	CloseFacts(ctx context.Context, legalEntityID, period string) (periodclose.Facts, error)
	WaiveCloseItem(ctx context.Context, legalEntityID, period string, item periodclose.Item, reason, by string) error
}

// LegalEntityStore keeps legal entities.
type LegalEntityStore interface {
	// LegalEntity and LegalEntityByCode return legalentity.ErrNotFound when there is none.
	LegalEntity(ctx context.Context, id string) (legalentity.LegalEntity, error)
	LegalEntityByCode(ctx context.Context, code string) (legalentity.LegalEntity, error)
	// LegalEntityHash returns the content hash of the legal entity with code, found false when
	// there is none.
	LegalEntityHash(ctx context.Context, code string) (hash []byte, found bool, err error)
	// ListLegalEntities reads page.Fetch() legal entities by code after page.AfterKey (only
	// those of only, unless nil).
	ListLegalEntities(ctx context.Context, page paging.Request, only []string) ([]legalentity.LegalEntity, error)
	// CreateLegalEntity stores le with the default chart of accounts; legalentity.ErrCodeTaken
	// when a concurrent writer took the code (the transaction is then lost).
	CreateLegalEntity(ctx context.Context, le legalentity.LegalEntity) error
}

// ContractStore keeps contracts, every version whole, and the current version's rate card.
type ContractStore interface {
	// LookupContract reads without locks, in one round trip, the head of the contract of ref and
	// legal entity leID; each is nil when there is none.
	LookupContract(ctx context.Context, ref contract.ExternalRef, leID string) (*contract.Head, *legalentity.LegalEntity, error)
	// LockContractByRef and LockContract return the head, locked for the transaction; nil when
	// there is none.
	LockContractByRef(ctx context.Context, ref contract.ExternalRef) (*contract.Head, error)
	LockContract(ctx context.Context, id string) (*contract.Head, error)
	// SaveContractVersion writes version c with the event and audit record describing it in one
	// round trip (which commits on its own outside a transaction). A first version fails with
	// contract.ErrRefTaken when another writer created the contract of c.Ref first.
	SaveContractVersion(ctx context.Context, c contract.Contract, actor string, ev outbox.Event, rec audit.Record) error
	// Contract returns version (0: current) of contract id; ContractVersions all of them, oldest
	// first. Both return contract.ErrNotFound.
	Contract(ctx context.Context, id string, version int64) (contract.Contract, error)
	// LockRateCard makes the postings reading contract id's rate card wait until the transaction
	// ends (and waits for those in flight): an amendment takes it before re-rating.
	LockRateCard(ctx context.Context, id string) error
	ContractVersions(ctx context.Context, id string) ([]contract.Contract, error)
	// CompleteMilestone records a completion unless the milestone is already complete, and
	// returns the completion held (created false: the one recorded before).
	CompleteMilestone(ctx context.Context, c contract.Completion) (held contract.Completion, created bool, err error)
}

// LedgerStore keeps periods, the chart of accounts, exchange rates, and reads the books.
type LedgerStore interface {
	// SetPeriod records status; changed reports whether it differs from the one held (a first
	// explicit opening is a change).
	SetPeriod(ctx context.Context, legalEntityID, period string, status ledger.PeriodStatus, actor string) (p ledger.Period, changed bool, err error)
	ListPeriods(ctx context.Context, legalEntityID string) ([]ledger.Period, error)
	ListAccounts(ctx context.Context, legalEntityID string) ([]ledger.Account, error)
	// TrialBalance sums the accounts of one period ("" for all).
	TrialBalance(ctx context.Context, legalEntityID, period string) ([]ledger.BalanceLine, error)
	// ListJournalEntries and ListCandidates read page.Fetch() rows by id after page.AfterID.
	ListJournalEntries(ctx context.Context, f ledger.EntryFilter, page paging.Request) ([]ledger.Entry, error)
	ListCandidates(ctx context.Context, f ledger.CandidateFilter, page paging.Request) ([]ledger.Candidate, error)
	// ListRebills reads page.Fetch() rebill decisions by candidate id after page.AfterID.
	ListRebills(ctx context.Context, f ledger.RebillFilter, page paging.Request) ([]ledger.Rebill, error)
	SetExchangeRate(ctx context.Context, r ledger.ExchangeRate) error
	ReadKPIs(ctx context.Context, only []string) (ledger.KPIs, error)
	CountRejectedClosedPeriod(ctx context.Context) (int64, error)
}

// PostingStore keeps what posting did with each source, and the parked ones.
type PostingStore interface {
	// FinalResults returns the keys (ledger.Source.Key) of the sources already posted, rejected
	// or reversed.
	FinalResults(ctx context.Context, sources []ledger.Source) (map[string]bool, error)
	// LoadBook reads everything posting sources needs, except exchange rates (ExchangeRate).
	// It share-locks the rate cards (LockRateCard's shared side) and the resources whose rates it
	// reads; LoadAdjustmentBook reads the same without locks (re-cost and re-rate, whose caller
	// holds the changed rate's lock).
	LoadBook(ctx context.Context, sources []ledger.Source) (ledger.Book, error)
	LoadAdjustmentBook(ctx context.Context, sources []ledger.Source) (ledger.Book, error)
	ExchangeRate(ctx context.Context, from, to string, d civil.Date) (rate decimal.Decimal, found bool, err error)
	// WriteResults writes a batch of results with bulk statements: entries, lines, candidates,
	// results, parked and released sources, and one upsert of the account balances.
	WriteResults(ctx context.Context, results []ledger.Result, correlationID string) error
	// Parked returns at most limit parked sources waiting for kind and key ("" any; a key ending
	// in "/" is a prefix); ParkedCount counts them (exact key).
	Parked(ctx context.Context, kind, key string, limit int) ([]ledger.Source, error)
	ParkedCount(ctx context.Context, kind, key string) (int64, error)
	// PostedCosts returns the posted, unreversed time of a resource with the labor cost it
	// carries now (original plus cost adjustments), locked for the transaction.
	PostedCosts(ctx context.Context, resourceID string) ([]ledger.PostedCost, error)
	// BilledTime returns the open and invoiced candidates of a contract's posted time with the
	// WIP each carries now (original plus bill adjustments), locked for the transaction.
	BilledTime(ctx context.Context, contractID string) ([]ledger.BilledTime, error)
	// RerateCandidates gives open candidates the rate and amount of after (re-rated by
	// contractVersion).
	RerateCandidates(ctx context.Context, contractVersion int64, after []ledger.Candidate) error
	// SaveRebills lists rebills for invoiced candidates checked against contractVersion and
	// removes the checked ones that no longer need one.
	SaveRebills(ctx context.Context, contractVersion int64, checked []string, rebills []ledger.Rebill) error
	// SaveReversedRebills lists the reversed candidates of sourceIDs that posted invoices still
	// bill for a credit note (negative delta) and returns them.
	SaveReversedRebills(ctx context.Context, sourceIDs []string) ([]ledger.ReversedBilled, error)
	// ReleasedParked returns what the open exceptions of exceptionKind wait for (of missing kind,
	// "" any) that no parked source waits for any more.
	ReleasedParked(ctx context.Context, exceptionKind, kind string) ([]ledger.Missing, error)
	RecordException(ctx context.Context, n exceptions.New) (string, error)
	ResolveException(ctx context.Context, dedupeKey, by, note string) (bool, error)
}

// ReplicaStore keeps the replicas posting reads of other services' data. Apply methods change
// nothing for a version not newer than the one held, and report whether they changed.
type ReplicaStore interface {
	ApplyProjectReplica(ctx context.Context, p ledger.Project, status string, version int64) (bool, error)
	ApplyCostRates(ctx context.Context, resourceID, role string, ratesVersion int64, rates []ledger.CostRate) (bool, error)
	SetRole(ctx context.Context, resourceID, role string) error
}

// InvoiceStore keeps invoices and credit notes and their links to invoice candidates.
type InvoiceStore interface {
	// OpenCandidates returns the unbilled part of the contract's candidates dated up to cutOff
	// (zero: all), by date then id.
	OpenCandidates(ctx context.Context, contractID string, cutOff civil.Date) ([]invoice.Open, error)
	// InvoiceCaps returns the capped contract lines with what is billed toward each.
	InvoiceCaps(ctx context.Context, contractID string) (map[string]invoice.Cap, error)
	// ProposalBases reads in one round trip what a proposal of each of the contracts needs
	// (invoice.Basis), open candidates dated up to cutOff (zero: all); an absent contract has no
	// entry.
	ProposalBases(ctx context.Context, contractIDs []string, cutOff civil.Date) (map[string]*invoice.Basis, error)
	// TryLockContracts locks the heads of the contracts nobody else holds, in id order, and
	// returns them (one held elsewhere or absent is left out: SKIP LOCKED).
	TryLockContracts(ctx context.Context, ids []string) ([]contract.Head, error)
	// Detach returns ctx without its ambient transaction (the idempotency key's): work done in
	// it commits in transactions of its own.
	Detach(ctx context.Context) context.Context
	// InsertInvoice writes a draft invoice or a credit note with its lines; an invoice line
	// taking a candidate another live invoice holds fails with invoice.ErrBusy.
	InsertInvoice(ctx context.Context, inv invoice.Invoice) error
	// InsertInvoices writes drafts with their lines and audit records in one round trip
	// (invoice.ErrBusy as InsertInvoice).
	InsertInvoices(ctx context.Context, invs []invoice.Invoice, recs ...audit.Record) error
	// Invoice returns an invoice with its lines (locked when lock), invoice.ErrNotFound.
	Invoice(ctx context.Context, id string, lock bool) (invoice.Invoice, error)
	// NextInvoiceSeq takes the next gap-free number of kind, locked until the transaction ends.
	NextInvoiceSeq(ctx context.Context, legalEntityID string, kind invoice.Kind, year int) (int64, error)
	// MarkInvoicePosted records the posting and moves the candidates between OPEN and INVOICED.
	MarkInvoicePosted(ctx context.Context, inv invoice.Invoice, seq int64) error
	// ReversedOnInvoice counts the candidates of an invoice reversed since it was proposed.
	ReversedOnInvoice(ctx context.Context, id string) (int64, error)
	// RepricedOnInvoice counts the candidates of an invoice re-rated since it was proposed.
	RepricedOnInvoice(ctx context.Context, id string) (int64, error)
	// VoidInvoice voids a draft, freeing its candidates.
	VoidInvoice(ctx context.Context, id string) error
	// ReversedCredited returns the reversed candidates a credit note credits that nothing bills
	// any more.
	ReversedCredited(ctx context.Context, id string) ([]string, error)
	// SaveWriteOff records a write-off of work over caps (see invoice.OverCap) and its entry, with
	// the functional WIP it relieved per candidate.
	SaveWriteOff(ctx context.Context, id, contractID, entryID, actor string, lines []invoice.OverCapLine, wip map[string]decimal.Decimal) error
	// Carrying returns the WIP carrying amount of candidates and what posted documents other than
	// invoice id and write-offs took of it.
	Carrying(ctx context.Context, id string, candidateIDs []string) (map[string]invoice.Carrying, error)
	// InvoiceCarrying returns what posted invoice id bills of each candidate net of its credit
	// notes, with the WIP it relieved.
	InvoiceCarrying(ctx context.Context, id string) (map[string]invoice.Carrying, error)
	// RetainerCarrying returns, per RETAINER line key of a contract, the advance posted documents
	// other than invoice id billed net (amount, functional WIP) and what their applied lines drew
	// of it; it serializes the contract's drawdown postings.
	RetainerCarrying(ctx context.Context, contractID, id string) (map[string]invoice.Carrying, error)
	// EntryRate returns the exchange rate of the first line of account in a journal entry.
	EntryRate(ctx context.Context, entryID, account string) (decimal.Decimal, bool, error)
	// Credited returns what posted credit notes credited of an invoice, per candidate.
	Credited(ctx context.Context, id string) (map[string][2]decimal.Decimal, error)
}

// TaxStore keeps tax rates, the replica of customers' tax profiles and the tax blocks of drafts.
type TaxStore interface {
	SetTaxRate(ctx context.Context, r tax.Rate) error
	// TaxRates returns a legal entity's rates (none: it charges no tax).
	TaxRates(ctx context.Context, legalEntityID string) ([]tax.Rate, error)
	// TaxProfile returns a customer's tax profile, nil when billing has none.
	TaxProfile(ctx context.Context, customerID string) (*tax.Profile, error)
	// ApplyTaxProfile keeps a newer profile and reports whether it did.
	ApplyTaxProfile(ctx context.Context, p tax.Profile) (bool, error)
	// BlockedTaxInvoices returns a customer's BLOCKED_TAX drafts, locked.
	BlockedTaxInvoices(ctx context.Context, customerID string) ([]string, error)
	// SetTaxBlock blocks a draft with what is missing, or unblocks it when nothing is.
	SetTaxBlock(ctx context.Context, id string, missing []string) error
	// TaxExceptions returns the BLOCKED_TAX drafts of a legal entity ("" all).
	TaxExceptions(ctx context.Context, legalEntityID string) ([]invoice.Invoice, error)
	// CountBlockedTax counts BLOCKED_TAX drafts.
	CountBlockedTax(ctx context.Context) (int64, error)
}

// SupplierCostStore keeps supplier bill lines and allocation rules, and reads the bases rules
// split by (approved hours, labor cost).
type SupplierCostStore interface {
	// ProjectState returns the legal entity and status of a project replica; found is false
	// when billing has never heard of it.
	ProjectState(ctx context.Context, projectID string) (legalEntityID, status string, found bool, err error)
	// PeriodClosed reports whether period ("YYYY-MM") of a legal entity is closed.
	PeriodClosed(ctx context.Context, legalEntityID, period string) (bool, error)
	// LockSupplierLineByKey returns the line of (legal entity, vendor, bill, line number),
	// locked for the transaction; nil when there is none.
	LockSupplierLineByKey(ctx context.Context, legalEntityID, vendorID, billNumber string, lineNo int32) (*suppliercost.Line, error)
	// LockSupplierLine returns a line and its allocation, locked; suppliercost.ErrLineNotFound.
	LockSupplierLine(ctx context.Context, id string) (suppliercost.Line, suppliercost.Allocation, error)
	// SaveSupplierLine writes l as the line's current version, awaiting allocation; a first
	// version fails with fault Aborted when a concurrent writer created the key first.
	SaveSupplierLine(ctx context.Context, l suppliercost.Line) error
	// MarkSupplierLine records what allocation did with version of a line.
	MarkSupplierLine(ctx context.Context, id string, a suppliercost.Allocation, reason string) error
	// CancelSupplierCandidates marks REVERSED the invoice candidates of the parts of a line's
	// allocation seq (its entry's source version).
	CancelSupplierCandidates(ctx context.Context, lineID string, seq int64) error
	// ParkedSupplierLines returns the id and version of the lines parked for reason in currency
	// of legal entities whose functional currency is functional.
	ParkedSupplierLines(ctx context.Context, reason, currency, functional string) (map[string]int64, error)
	// CurrentRule returns the latest version of a rule, Rule a given one; nil when none.
	CurrentRule(ctx context.Context, legalEntityID, name string) (*suppliercost.Rule, error)
	Rule(ctx context.Context, legalEntityID, name string, version int64) (*suppliercost.Rule, error)
	// SaveRule writes r (its Version set by the caller).
	SaveRule(ctx context.Context, r suppliercost.Rule, actor string) error
	// ProjectHours and ProjectLaborCost sum, per project, the posted and unreversed hours and
	// the labor cost (functional) of work dated from..to.
	ProjectHours(ctx context.Context, projectIDs []string, from, to civil.Date) (map[string]decimal.Decimal, error)
	ProjectLaborCost(ctx context.Context, projectIDs []string, from, to civil.Date) (map[string]decimal.Decimal, error)
	// JournalEntry reads one entry with its lines.
	JournalEntry(ctx context.Context, id string) (ledger.Entry, error)
	SupplierCostKPIs(ctx context.Context, legalEntityID string) (suppliercost.KPIs, error)
	// LinesSplitBy returns (id, version and legal entity of) the allocated lines whose rule splits
	// by one of kinds over one of projectIDs (named by the rule, or a project of its customer),
	// with a service period overlapping from..to.
	LinesSplitBy(ctx context.Context, kinds []suppliercost.RuleKind, projectIDs []string, from, to civil.Date) ([]suppliercost.Line, error)
	// CustomerProjects returns the open projects of a customer in a legal entity, sorted by id;
	// CustomerHasContract whether the customer has a contract there.
	CustomerProjects(ctx context.Context, legalEntityID, customerID string) ([]string, error)
	CustomerHasContract(ctx context.Context, legalEntityID, customerID string) (bool, error)
	// CountSupplierAwaiting counts the lines of every legal entity not allocated yet.
	CountSupplierAwaiting(ctx context.Context) (int64, error)
}
