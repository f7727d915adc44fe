package wire

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	customerv1 "github.com/accrue/accrue/gen/go/accrue/customer/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/internal/platform/civil/civilpb"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/project/internal/project"
)

// A closed-won opportunity, read into the project domain's deal and into the requests the
// conversion sends the customer and billing services. Field paths of their answers are rewritten
// into the opportunity's, so a rejection names what the CRM sent.

// Deal reads an opportunity into the deal the project domain checks and builds the project from.
func Deal(opp *projectv1.Opportunity) (project.Deal, error) {
	d := project.Deal{Name: opp.GetName(), ManagerID: opp.GetManagerId(), ManagerName: opp.GetManagerName(),
		Source:          project.SourceRef{System: opp.GetCrmSystem(), ObjectType: "Opportunity", ExternalID: opp.GetOpportunityId()},
		LegalEntityCode: opp.GetLegalEntityCode()}
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
		dl := project.DealLine{Key: l.GetLineKey(), ServiceLine: l.GetServiceLine(), Description: l.GetDescription()}
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

// Accounts returns the opportunity's account followed by its parent accounts, nearest first.
func Accounts(opp *projectv1.Opportunity) []*projectv1.Account {
	return append([]*projectv1.Account{opp.GetAccount()}, opp.GetParentAccounts()...)
}

// AccountRef is the external reference of a CRM account of the opportunity.
func AccountRef(opp *projectv1.Opportunity, a *projectv1.Account) *commonv1.ExternalReference {
	return &commonv1.ExternalReference{System: opp.GetCrmSystem(), ObjectType: "Account", ExternalId: a.GetAccountId()}
}

// CustomerInput is the customer upsert of a CRM account of the opportunity (in the deal currency
// when the account names none). What the CRM does not send is left out: upserts keep it.
func CustomerInput(opp *projectv1.Opportunity, a *projectv1.Account) *customerv1.CustomerInput {
	in := &customerv1.CustomerInput{
		Name: a.GetName(), LegalName: a.GetLegalName(), CurrencyCode: a.GetCurrencyCode(),
		PaymentTermsDays: a.PaymentTermsDays, ExternalReferences: []*commonv1.ExternalReference{AccountRef(opp, a)},
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
	return in
}

// CustomerField rewrites the customer service's field paths into the opportunity's account
// (index 0) or parent accounts (index i+1).
func CustomerField(i int) func(string) string {
	base := "opportunity.account"
	if i > 0 {
		base = fmt.Sprintf("opportunity.parent_accounts[%d]", i-1)
	}
	return func(f string) string { return base + strings.TrimPrefix(f, "customer") }
}

// HierarchyRequest upserts the customers of inputs (the account first, then its parents) in one
// call: root first, each linked to its parent.
func HierarchyRequest(inputs []*customerv1.CustomerInput) *customerv1.UpsertCustomerHierarchyRequest {
	req := &customerv1.UpsertCustomerHierarchyRequest{}
	for i := len(inputs) - 1; i >= 0; i-- {
		req.Customers = append(req.Customers, inputs[i])
	}
	return req
}

// HierarchyField rewrites the field paths of a HierarchyRequest of n accounts into the
// opportunity's: customers[k] of the request is account n-1-k.
func HierarchyField(n int) func(string) string {
	return func(f string) string {
		var k int
		if _, err := fmt.Sscanf(f, "customers[%d]", &k); err == nil {
			rest := f[strings.Index(f, "]")+1:]
			return CustomerField(n - 1 - k)("customer" + rest)
		}
		return f
	}
}

// noCustomer stands for a customer not created yet in a dry run: billing does not check it.
const noCustomer = "00000000-0000-0000-0000-000000000000"

// ContractRequest is the contract upsert of the opportunity for customerID, booked by
// legalEntityID, one contract line per service line; validateOnly asks billing whether it
// would accept it, writing nothing.
func ContractRequest(opp *projectv1.Opportunity, legalEntityID, customerID string, validateOnly bool) *billingv1.UpsertContractRequest {
	if customerID == "" {
		customerID = noCustomer
	}
	in := &billingv1.ContractInput{CustomerId: customerID, LegalEntityId: legalEntityID, Name: opp.GetName(),
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

// ContractField rewrites billing's field paths into the opportunity's: contract lines are built
// one-to-one from the service lines, in order.
func ContractField(f string) string {
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
