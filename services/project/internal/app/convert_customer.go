package app

import (
	"context"

	"buf.build/go/protovalidate"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	customerv1 "github.com/accrue/accrue/gen/go/accrue/customer/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/services/project/internal/project"
	"github.com/accrue/accrue/services/project/internal/wire"
)

// customerInputs builds the upsert of every account (the account first, then its parents) and
// checks them against the customer contract's own rules before anything is written. Upserts keep
// what the CRM does not send (address, tax profile, contacts), so the customer service is asked
// only when the account itself brings no tax profile: it must already have one, or the
// conversion fails with TAX_PROFILE_MISSING.
func (s *Service) customerInputs(ctx context.Context, opp *projectv1.Opportunity) ([]*customerv1.CustomerInput, error) {
	accounts := wire.Accounts(opp)
	inputs := make([]*customerv1.CustomerInput, len(accounts))
	for i, a := range accounts {
		in := wire.CustomerInput(opp, a)
		if i == 0 && in.TaxProfile == nil {
			has, err := s.hasTaxProfile(ctx, wire.AccountRef(opp, a))
			if err != nil {
				return nil, err
			}
			if !has {
				return nil, fault.Invalidf(project.ReasonTaxProfileMissing, "opportunity.account.tax_profile",
					"account %s has no tax profile in the CRM or in Accrue, and is not tax exempt", a.GetAccountId())
			}
		}
		if err := protovalidate.Validate(&customerv1.UpsertCustomerRequest{Customer: in}); err != nil {
			return nil, grpcx.FaultFromStatus(grpcx.ToStatus(ctx, err), wire.CustomerField(i))
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

// upsertCustomers upserts the hierarchy in one call and returns what became of the account's
// customer.
func (s *Service) upsertCustomers(ctx context.Context, inputs []*customerv1.CustomerInput) (project.ConvertedRecord, error) {
	cctx, cancel := context.WithTimeout(ctx, s.CallTimeout)
	defer cancel()
	resp, err := s.Customers.UpsertCustomerHierarchy(cctx, wire.HierarchyRequest(inputs))
	if err != nil {
		return project.ConvertedRecord{}, grpcx.FaultFromStatus(err, wire.HierarchyField(len(inputs)))
	}
	last := len(resp.GetCustomers()) - 1
	c := resp.GetCustomers()[last]
	out := project.OutcomeUnchanged
	switch resp.GetOutcomes()[last] {
	case customerv1.Outcome_OUTCOME_CREATED:
		out = project.OutcomeCreated
	case customerv1.Outcome_OUTCOME_UPDATED:
		out = project.OutcomeUpdated
	}
	return project.ConvertedRecord{ID: c.GetCustomerId(), Outcome: out, Version: c.GetVersion()}, nil
}
