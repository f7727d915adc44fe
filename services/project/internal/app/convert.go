package app

import (
	"bytes"
	"context"
	"fmt"
	"github.com/accrue/accrue/internal/platform/civil/civilpb"
	"strings"

	"buf.build/go/protovalidate"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
	"google.golang.org/protobuf/proto"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	customerv1 "github.com/accrue/accrue/gen/go/accrue/customer/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/internal/platform/idempotency"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/project/internal/project"
	"github.com/accrue/accrue/services/project/internal/store"
	"github.com/accrue/accrue/services/project/internal/wire"
)

// Exception kinds of the conversion.
const (
	// KindConversion records a conversion that failed (bad input or a dependency down); it is
	// resolved by the next successful conversion of the same opportunity.
	KindConversion = "opportunity.conversion"
	// KindActivation records a project waiting for its contract because billing was
	// unavailable; retried automatically with backoff, or from the exception queue.
	KindActivation = "project.financial_activation"
)

// ReasonBillingUnavailable is the reason of pending financial activations.
const ReasonBillingUnavailable = "BILLING_UNAVAILABLE"

// Outcome says what a conversion did to a record.
type Outcome int

const (
	Created Outcome = iota + 1
	Updated
	Unchanged
	Pending
	IgnoredStale
)

// Record is the outcome for one record.
type Record struct {
	ID      string
	Outcome Outcome
	Version int64
}

// Result is what a conversion did.
type Result struct {
	Outcome       Outcome
	Customer      Record
	Contract      Record
	Project       Record
	ProjectStatus project.Status
	TaskCount     int
	Version       int64
	Message       string
	ExceptionID   string
	// resolved says the conversion's open exception, if any, was resolved with its writes.
	resolved bool
}

// resolvedBySuccess is the resolution note of a failed conversion's exception.
const resolvedBySuccess = "a later conversion succeeded"

// conversionOf is the conversion record of opp converging on the given records.
func conversionOf(opp *projectv1.Opportunity, prep prepared, customerID, projectID, contractID, state string) (store.Conversion, error) {
	c := store.Conversion{CRMSystem: opp.GetCrmSystem(), OpportunityID: opp.GetOpportunityId(), Version: opp.GetVersion(),
		Fingerprint: prep.fp, CustomerID: customerID, ProjectID: projectID, ContractID: contractID, State: state}
	var err error
	c.Request, err = proto.Marshal(opp)
	return c, err
}

func conversionKey(crm, oppID string) string { return KindConversion + ":" + crm + ":" + oppID }

func activationKey(projectID string) string { return KindActivation + ":" + projectID }

// Convert turns a closed-won opportunity into customer, contract and project (see the contract
// of ProjectService.ConvertOpportunity). A failure is recorded in the exception queue with its
// reason and correlation id; the next successful conversion of the opportunity resolves it.
func (s *Service) Convert(ctx context.Context, opp *projectv1.Opportunity) (Result, error) {
	res, err := s.convert(ctx, opp)
	key := conversionKey(opp.GetCrmSystem(), opp.GetOpportunityId())
	if err != nil {
		reason := fault.ReasonOf(err)
		if reason == "" {
			reason = "CONVERSION_FAILED"
		}
		if _, rerr := s.Queue.Record(context.WithoutCancel(ctx), nil, exceptions.New{
			Kind: KindConversion, Reason: reason, Message: err.Error(), EntityType: "opportunity",
			EntityID: opp.GetCrmSystem() + ":" + opp.GetOpportunityId(), DedupeKey: key,
		}); rerr != nil {
			s.Log.ErrorContext(ctx, "recording a failed conversion failed", "err", rerr)
		}
		return res, err
	}
	if res.Outcome != IgnoredStale && !res.resolved {
		if _, err := s.Queue.ResolveByKey(ctx, nil, key, "system", resolvedBySuccess); err != nil {
			s.Log.WarnContext(ctx, "resolving the conversion exception failed", "err", err)
		}
	}
	return res, nil
}

// prepared is what the checks that need no lock produce.
type prepared struct {
	deal      project.Deal
	templates map[string]project.Template
	le        store.LegalEntity
	fp        []byte
	// conv is the opportunity's conversion as read before the opportunity's lock was taken.
	conv      store.Conversion
	converted bool
}

func (s *Service) prepare(ctx context.Context, opp *projectv1.Opportunity) (prepared, error) {
	var p prepared
	deal, err := dealOf(opp)
	if err != nil {
		return p, err
	}
	if err := deal.Validate(); err != nil {
		return p, err
	}
	p.deal = deal
	lines := make([]string, 0, len(opp.GetServiceLines()))
	for _, l := range opp.GetServiceLines() {
		lines = append(lines, l.GetServiceLine())
	}
	look, err := store.LookupConversion(ctx, s.Pool, lines, opp.GetLegalEntityCode(), opp.GetCrmSystem(), opp.GetOpportunityId())
	if err != nil {
		return p, err
	}
	p.templates, p.conv, p.converted = look.Templates, look.Conversion, look.Converted
	for i, l := range opp.GetServiceLines() {
		if _, ok := p.templates[l.GetServiceLine()]; !ok {
			e := fault.Invalidf(project.ReasonUnknownServiceLine, fmt.Sprintf("opportunity.service_lines[%d].service_line", i),
				"service line %s has no project template", l.GetServiceLine())
			e.Kind = fault.FailedPrecondition
			return p, e
		}
	}
	if look.LegalEntityErr != nil {
		return p, look.LegalEntityErr
	}
	p.le = look.LegalEntity
	if p.le.FunctionalCurrency != deal.Amount.Currency {
		e := fault.Invalidf(project.ReasonCurrencyMismatch, "opportunity.amount.currency_code",
			"legal entity %s keeps its books in %s; the deal is in %s", p.le.Code, p.le.FunctionalCurrency, deal.Amount.Currency)
		e.Kind = fault.FailedPrecondition
		return p, e
	}
	if p.fp, err = idempotency.Fingerprint(opp); err != nil {
		return p, err
	}
	return p, nil
}

func dealOf(opp *projectv1.Opportunity) (project.Deal, error) {
	var d project.Deal
	var err error
	if d.Amount, err = money.ParseExact(opp.GetAmount().GetAmount(), opp.GetAmount().GetCurrencyCode(), "opportunity.amount"); err != nil {
		return d, err
	}
	if d.Start, err = civilpb.From(opp.GetStartDate(), "opportunity.start_date"); err != nil {
		return d, err
	}
	if d.End, err = civilpb.From(opp.GetEndDate(), "opportunity.end_date"); err != nil {
		return d, err
	}
	for i, l := range opp.GetServiceLines() {
		dl := project.DealLine{Key: l.GetLineKey(), ServiceLine: l.GetServiceLine()}
		if dl.Amount, err = money.ParseExact(l.GetAmount().GetAmount(), l.GetAmount().GetCurrencyCode(), fmt.Sprintf("opportunity.service_lines[%d].amount", i)); err != nil {
			return d, err
		}
		if h := l.GetBudgetHours(); h != "" {
			dl.BudgetHours = decimal.RequireFromString(h) // the contract's pattern guarantees a decimal
		}
		d.Lines = append(d.Lines, dl)
	}
	d.AccountChain = append(d.AccountChain, opp.GetAccount().GetAccountId())
	for _, a := range opp.GetParentAccounts() {
		d.AccountChain = append(d.AccountChain, a.GetAccountId())
	}
	return d, nil
}

// convert runs one conversion. Conversions of one opportunity are serialised in this process by
// a keyed lock; the remote calls (customer, billing) run with no database transaction open, and
// the project side is written in one short transaction that re-checks, under an advisory lock,
// that no other instance converted the same version meanwhile (every remote call is idempotent,
// so a lost race changes nothing there either).
func (s *Service) convert(ctx context.Context, opp *projectv1.Opportunity) (Result, error) {
	prep, err := s.prepare(ctx, opp)
	if err != nil {
		return Result{}, err
	}
	unlock, waited := s.locks.lockWaited(opp.GetCrmSystem() + "\n" + opp.GetOpportunityId())
	defer unlock()
	conv, found := prep.conv, prep.converted
	if waited { // the holder we waited for may have converted it
		if conv, found, err = store.GetConversion(ctx, s.Pool, opp.GetCrmSystem(), opp.GetOpportunityId()); err != nil {
			return Result{}, err
		}
	}
	if found {
		if res, done, err := s.known(ctx, s.Pool, conv, opp, prep); done || err != nil {
			return res, err
		}
		if opp.GetVersion() == conv.Version {
			return s.finishActivation(ctx, conv, opp, prep.le, true)
		}
	}

	inputs, err := s.customerInputs(ctx, opp)
	if err != nil {
		return Result{}, err
	}
	// Ask billing whether it would accept the contract before anything is written. A billing
	// outage is not a reason to refuse the deal: the project then waits for activation.
	billingDown := false
	if _, err := s.upsertContract(ctx, opp, prep.le, conv.CustomerID, true); err != nil {
		if !grpcx.Retryable(err) {
			return Result{}, grpcx.FaultFromStatus(err, contractField)
		}
		billingDown = true
	}
	customerID, custOut, custVersion, err := s.upsertCustomers(ctx, inputs)
	if err != nil {
		return Result{}, err
	}
	var contract *billingv1.UpsertContractResponse
	if !billingDown {
		if contract, err = s.upsertContract(ctx, opp, prep.le, customerID, false); err != nil {
			if !grpcx.Retryable(err) {
				return Result{}, grpcx.FaultFromStatus(err, contractField)
			}
			contract = nil
			s.Log.WarnContext(ctx, "billing unavailable; project waits for financial activation", "err", err)
		}
	}

	if _, ambient := pg.TxFrom(ctx); !found && contract != nil && !ambient {
		res, err := s.createConverted(ctx, opp, prep, Record{ID: customerID, Outcome: custOut, Version: custVersion}, contract)
		if !pg.IsUniqueViolation(err, store.ConversionsPKey) {
			return res, err
		}
		// Another instance converted the opportunity meanwhile; the transaction below sees it.
	}

	var res Result
	err = pg.InTx(ctx, s.Pool, func(ctx context.Context, tx pgx.Tx) error {
		res = Result{Customer: Record{ID: customerID, Outcome: custOut, Version: custVersion}}
		cur, found, err := store.LockConversion(ctx, tx, opp.GetCrmSystem(), opp.GetOpportunityId())
		if err != nil {
			return err
		}
		if found {
			if r, done, err := s.known(ctx, tx, cur, opp, prep); done || err != nil {
				res = r
				return err
			}
		}
		var p project.Project
		if found {
			if p, err = s.updateProject(ctx, tx, cur.ProjectID, customerID, opp, prep); err != nil {
				return err
			}
			res.Project, res.Outcome = Record{ID: p.ID, Outcome: Updated, Version: p.Version}, Updated
		} else {
			contractID := ""
			if contract != nil {
				contractID = contract.GetContract().GetContractId()
			}
			var b pg.Batch
			if p, err = s.createProject(ctx, &b, customerID, opp, prep, contractID); err != nil {
				return err
			}
			if err = b.Run(ctx, tx); err != nil {
				return err
			}
			res.Project, res.Outcome = Record{ID: p.ID, Outcome: Created, Version: p.Version}, Created
		}
		c, err := conversionOf(opp, prep, customerID, p.ID, cur.ContractID, store.ConversionPending)
		if err != nil {
			return err
		}
		switch {
		case contract != nil && !found: // created active above
			c.ContractID, c.State, res.Contract = p.ContractID, store.ConversionActive, contractRecord(contract)
		case contract != nil:
			err = s.activate(ctx, tx, &c, &p, contract, &res)
		default:
			err = s.pend(ctx, tx, &p, &res)
		}
		if err != nil {
			return err
		}
		res.Project.Version, res.ProjectStatus, res.TaskCount, res.Version = p.Version, p.Status, len(p.Tasks), opp.GetVersion()
		res.Message = summary(&res)
		return store.SaveConversion(ctx, tx, c)
	})
	return res, err
}

// createConverted writes the first conversion of an opportunity whose customer and contract
// exist: the project (ACTIVE) with its tasks, events and audit records, the conversion row and
// the resolution of the opportunity's open exception, in one round trip that commits them
// together. A concurrent conversion of the same opportunity makes it fail as a whole on
// store.ConversionsPKey.
func (s *Service) createConverted(ctx context.Context, opp *projectv1.Opportunity, prep prepared, customer Record, contract *billingv1.UpsertContractResponse) (Result, error) {
	var b pg.Batch
	p, err := s.createProject(ctx, &b, customer.ID, opp, prep, contract.GetContract().GetContractId())
	if err != nil {
		return Result{}, err
	}
	c, err := conversionOf(opp, prep, customer.ID, p.ID, p.ContractID, store.ConversionActive)
	if err != nil {
		return Result{}, err
	}
	store.QueueInsertConversion(&b, c)
	s.Queue.QueueResolveByKey(&b, conversionKey(c.CRMSystem, c.OpportunityID), "system", resolvedBySuccess)
	if err := b.Run(ctx, s.Pool); err != nil {
		return Result{}, err
	}
	res := Result{Outcome: Created, Customer: customer, Contract: contractRecord(contract),
		Project: Record{ID: p.ID, Outcome: Created, Version: p.Version}, ProjectStatus: p.Status, TaskCount: len(p.Tasks),
		Version: opp.GetVersion(), resolved: true}
	res.Message = summary(&res)
	return res, nil
}

// known answers requests about a version already converted: older → IGNORED_STALE, the same
// version with other content → SOURCE_VERSION_REUSED, the same version done → UNCHANGED. done
// is false when the caller has work left (a newer version, or the same one still pending).
func (s *Service) known(ctx context.Context, q pg.Querier, conv store.Conversion, opp *projectv1.Opportunity, prep prepared) (Result, bool, error) {
	switch {
	case opp.GetVersion() < conv.Version:
		r, err := s.describe(ctx, q, conv, IgnoredStale,
			fmt.Sprintf("opportunity version %d is older than the converted version %d; nothing changed", opp.GetVersion(), conv.Version))
		return r, true, err
	case opp.GetVersion() == conv.Version && !bytes.Equal(prep.fp, conv.Fingerprint):
		return Result{}, true, fault.New(fault.AlreadyExists, "SOURCE_VERSION_REUSED",
			"opportunity version %d was already converted with different content; send a newer version", conv.Version)
	case opp.GetVersion() == conv.Version && conv.State == store.ConversionActive:
		r, err := s.describe(ctx, q, conv, Unchanged, "already converted; nothing changed")
		return r, true, err
	}
	return Result{}, false, nil
}

// describe reports a stored conversion without changing anything.
func (s *Service) describe(ctx context.Context, q pg.Querier, conv store.Conversion, out Outcome, msg string) (Result, error) {
	p, err := store.GetProject(ctx, q, conv.ProjectID, false)
	if err != nil {
		return Result{}, err
	}
	contractOut := out
	if conv.ContractID == "" {
		contractOut = Pending
	}
	return Result{Outcome: out, Customer: Record{ID: conv.CustomerID, Outcome: out}, Contract: Record{ID: conv.ContractID, Outcome: contractOut},
		Project: Record{ID: p.ID, Outcome: out, Version: p.Version}, ProjectStatus: p.Status, TaskCount: len(p.Tasks),
		Version: conv.Version, Message: msg}, nil
}

func summary(r *Result) string {
	words := map[Outcome]string{Created: "created", Updated: "updated", Unchanged: "unchanged", Pending: "pending", IgnoredStale: "ignored"}
	msg := fmt.Sprintf("customer %s, contract %s, project %s (%s, %d tasks)", words[r.Customer.Outcome], words[r.Contract.Outcome],
		words[r.Project.Outcome], r.ProjectStatus, r.TaskCount)
	if r.Contract.Outcome == Pending {
		msg += "; billing is unavailable: the project waits for financial activation, retried automatically"
	}
	return msg
}

// contractField rewrites billing's field paths into the opportunity's: contract lines are built
// one-to-one from the service lines, in order.
func contractField(f string) string {
	switch {
	case strings.HasPrefix(f, "contract.lines"):
		return "opportunity.service_lines" + strings.TrimPrefix(f, "contract.lines")
	case f == "contract.currency_code":
		return "opportunity.amount.currency_code"
	case strings.HasPrefix(f, "contract."):
		return "opportunity." + strings.TrimPrefix(f, "contract.")
	}
	return f
}

// customerField rewrites the customer service's field paths into the opportunity's account
// (index 0) or parent accounts (index i+1).
func customerField(i int) func(string) string {
	base := "opportunity.account"
	if i > 0 {
		base = fmt.Sprintf("opportunity.parent_accounts[%d]", i-1)
	}
	return func(f string) string { return base + strings.TrimPrefix(f, "customer") }
}

// customerInputs builds the upsert of every account (the account first, then its parents) and
// checks them against the customer contract's own rules before anything is written. Upserts keep
// what the CRM does not send (address, tax profile, contacts), so the customer service is asked
// only when the account itself brings no tax profile: it must already have one, or the
// conversion fails with TAX_PROFILE_MISSING.
func (s *Service) customerInputs(ctx context.Context, opp *projectv1.Opportunity) ([]*customerv1.CustomerInput, error) {
	accounts := append([]*projectv1.Account{opp.GetAccount()}, opp.GetParentAccounts()...)
	inputs := make([]*customerv1.CustomerInput, len(accounts))
	for i, a := range accounts {
		ref := &commonv1.ExternalReference{System: opp.GetCrmSystem(), ObjectType: "Account", ExternalId: a.GetAccountId()}
		in := &customerv1.CustomerInput{
			Name: a.GetName(), LegalName: a.GetLegalName(), CurrencyCode: a.GetCurrencyCode(),
			PaymentTermsDays: a.PaymentTermsDays, ExternalReferences: []*commonv1.ExternalReference{ref},
		}
		if in.CurrencyCode == "" {
			in.CurrencyCode = opp.GetAmount().GetCurrencyCode()
		}
		if ad := a.GetBillingAddress(); ad != nil {
			in.BillingAddress = &customerv1.Address{Line1: ad.GetLine1(), Line2: ad.GetLine2(), City: ad.GetCity(),
				Region: ad.GetRegion(), PostalCode: ad.GetPostalCode(), CountryCode: ad.GetCountryCode()}
		}
		if t := a.GetTaxProfile(); t != nil {
			in.TaxProfile = &customerv1.TaxProfile{TaxId: t.GetTaxId(), TaxRegion: t.GetTaxRegion(), Exempt: t.GetExempt(),
				ExemptionCertificateRef: t.GetExemptionCertificateRef()}
		}
		if i == 0 && in.TaxProfile == nil {
			has, err := s.hasTaxProfile(ctx, ref)
			if err != nil {
				return nil, err
			}
			if !has {
				return nil, fault.Invalidf(project.ReasonTaxProfileMissing, "opportunity.account.tax_profile",
					"account %s has no tax profile in the CRM or in Accrue, and is not tax exempt", a.GetAccountId())
			}
		}
		if err := protovalidate.Validate(&customerv1.UpsertCustomerRequest{Customer: in}); err != nil {
			return nil, grpcx.FaultFromStatus(grpcx.ToStatus(ctx, err), customerField(i))
		}
		inputs[i] = in
	}
	return inputs, nil
}

// hasTaxProfile reports whether the customer holding ref exists with a tax profile.
func (s *Service) hasTaxProfile(ctx context.Context, ref *commonv1.ExternalReference) (bool, error) {
	cctx, cancel := context.WithTimeout(ctx, s.CallTimeout)
	defer cancel()
	resp, err := s.Customers.LookupCustomer(cctx, &customerv1.LookupCustomerRequest{ExternalReference: ref})
	switch {
	case err == nil:
		return resp.GetCustomer().GetTaxProfile() != nil, nil
	case grpcx.ReasonOf(err) == "CUSTOMER_NOT_FOUND":
		return false, nil
	}
	return false, grpcx.FaultFromStatus(err, nil)
}

// upsertCustomers upserts the hierarchy in one call (root first, each linked to its parent)
// and returns the account's customer.
func (s *Service) upsertCustomers(ctx context.Context, inputs []*customerv1.CustomerInput) (string, Outcome, int64, error) {
	req := &customerv1.UpsertCustomerHierarchyRequest{}
	for i := len(inputs) - 1; i >= 0; i-- {
		req.Customers = append(req.Customers, inputs[i])
	}
	cctx, cancel := context.WithTimeout(ctx, s.CallTimeout)
	defer cancel()
	resp, err := s.Customers.UpsertCustomerHierarchy(cctx, req)
	if err != nil {
		n := len(inputs)
		return "", 0, 0, grpcx.FaultFromStatus(err, func(f string) string {
			// customers[k] of the request is inputs[n-1-k]: the account (0) or a parent account.
			var k int
			if _, err := fmt.Sscanf(f, "customers[%d]", &k); err == nil {
				rest := f[strings.Index(f, "]")+1:]
				return customerField(n - 1 - k)("customer" + rest)
			}
			return f
		})
	}
	last := len(resp.GetCustomers()) - 1
	c := resp.GetCustomers()[last]
	out := Unchanged
	switch resp.GetOutcomes()[last] {
	case customerv1.Outcome_OUTCOME_CREATED:
		out = Created
	case customerv1.Outcome_OUTCOME_UPDATED:
		out = Updated
	}
	return c.GetCustomerId(), out, c.GetVersion(), nil
}

func (s *Service) contractRequest(opp *projectv1.Opportunity, le store.LegalEntity, customerID string, validateOnly bool) *billingv1.UpsertContractRequest {
	if customerID == "" {
		// A dry run for a customer not created yet: billing does not check the customer.
		customerID = "00000000-0000-0000-0000-000000000000"
	}
	in := &billingv1.ContractInput{CustomerId: customerID, LegalEntityId: le.ID, Name: opp.GetName(),
		CurrencyCode: opp.GetAmount().GetCurrencyCode(), StartDate: opp.GetStartDate(), EndDate: opp.GetEndDate()}
	for _, l := range opp.GetServiceLines() {
		in.Lines = append(in.Lines, &billingv1.ContractLine{LineKey: l.GetLineKey(), ServiceLine: l.GetServiceLine(),
			Description: l.GetDescription(), BillingMethod: l.GetBillingMethod(), Amount: l.GetAmount(),
			NotToExceed: l.GetNotToExceed(), RateCard: l.GetRateCard(), RevenueMethod: l.GetRevenueMethod(),
			ServiceStart: l.GetServiceStart(), ServiceEnd: l.GetServiceEnd(), Milestones: l.GetMilestones(),
			ExpenseMarkupPercent: l.GetExpenseMarkupPercent()})
	}
	return &billingv1.UpsertContractRequest{
		ExternalReference: &commonv1.ExternalReference{System: opp.GetCrmSystem(), ObjectType: "Opportunity", ExternalId: opp.GetOpportunityId()},
		SourceVersion:     opp.GetVersion(), Contract: in, ValidateOnly: validateOnly,
	}
}

func (s *Service) upsertContract(ctx context.Context, opp *projectv1.Opportunity, le store.LegalEntity, customerID string, validateOnly bool) (*billingv1.UpsertContractResponse, error) {
	cctx, cancel := context.WithTimeout(ctx, s.CallTimeout)
	defer cancel()
	return s.Contracts.UpsertContract(cctx, s.contractRequest(opp, le, customerID, validateOnly))
}

// createProject builds the project of a conversion with its tasks, ACTIVE at once when the
// contract exists (contractID), PENDING_FINANCIAL_ACTIVATION otherwise, and queues its insert,
// events and audit records on b (one statement each).
func (s *Service) createProject(ctx context.Context, b *pg.Batch, customerID string, opp *projectv1.Opportunity, prep prepared, contractID string) (project.Project, error) {
	now := s.now()
	p := project.Project{ID: s.newID(), Name: opp.GetName(), CustomerID: customerID, LegalEntityID: prep.le.ID,
		Currency: prep.deal.Amount.Currency, Start: prep.deal.Start, End: prep.deal.End, ManagerID: opp.GetManagerId(),
		ManagerName: opp.GetManagerName(), Status: project.PendingFinancialActivation,
		Source:  project.SourceRef{System: opp.GetCrmSystem(), ObjectType: "Opportunity", ExternalID: opp.GetOpportunityId()},
		Version: 1, CreatedAt: now, UpdatedAt: now}
	if contractID != "" {
		p.ContractID = contractID
		if err := p.Move(project.Active); err != nil {
			return p, err
		}
	}
	setBudget(&p, prep.deal)
	for i, l := range opp.GetServiceLines() {
		p.Tasks = append(p.Tasks, project.LineTasks(i+1, l.GetLineKey(), lineName(l, prep.templates), prep.templates[l.GetServiceLine()], s.newID)...)
	}
	store.QueueInsertProject(b, p)
	pp := wire.Project(p)
	events := []outbox.Event{{Stream: wire.Stream, Type: wire.EventCreated, Subject: p.ID, Payload: &projectv1.ProjectCreated{Project: pp}}}
	details := map[string]any{"status": string(p.Status), "version": p.Version, "contract_id": p.ContractID}
	records := []audit.Record{{Action: "project.created", EntityType: "project", EntityID: p.ID, Details: details}}
	if p.Status == project.Active {
		events = append(events, outbox.Event{Stream: wire.Stream, Type: wire.EventActivated, Subject: p.ID, Payload: &projectv1.ProjectActivated{Project: pp}})
		records = append(records, audit.Record{Action: "project.activated", EntityType: "project", EntityID: p.ID, Reason: "contract " + contractID, Details: details})
	}
	if _, err := s.Outbox.Queue(ctx, b, events...); err != nil {
		return p, err
	}
	return p, audit.Queue(ctx, b, records...)
}

func (s *Service) updateProject(ctx context.Context, tx pgx.Tx, id, customerID string, opp *projectv1.Opportunity, prep prepared) (project.Project, error) {
	p, err := store.GetProject(ctx, tx, id, true)
	if err != nil {
		return p, err
	}
	p.Name, p.CustomerID, p.Start, p.End = opp.GetName(), customerID, prep.deal.Start, prep.deal.End
	p.ManagerID, p.ManagerName = opp.GetManagerId(), opp.GetManagerName()
	setBudget(&p, prep.deal)
	covered := p.LineKeys()
	var added []project.Task
	n := p.NextRootNumber()
	for _, l := range opp.GetServiceLines() {
		if covered[l.GetLineKey()] {
			continue
		}
		added = append(added, project.LineTasks(n, l.GetLineKey(), lineName(l, prep.templates), prep.templates[l.GetServiceLine()], s.newID)...)
		n++
	}
	if err := store.InsertTasks(ctx, tx, p.ID, added); err != nil {
		return p, err
	}
	p.Tasks = append(p.Tasks, added...)
	p.Version++
	p.UpdatedAt = s.now()
	if err := store.UpdateProject(ctx, tx, p); err != nil {
		return p, err
	}
	return p, s.publishStatus(ctx, tx, p, p.Status, fmt.Sprintf("amended from %s version %d", opp.GetCrmSystem(), opp.GetVersion()))
}

func setBudget(p *project.Project, d project.Deal) {
	rev := d.Amount
	p.Budget.Revenue = &rev
	if h := d.BudgetHours(); h.IsPositive() {
		p.Budget.Hours = &h
	}
}

func lineName(l *projectv1.OpportunityServiceLine, t map[string]project.Template) string {
	if l.GetDescription() != "" {
		return l.GetDescription()
	}
	return t[l.GetServiceLine()].Name
}
