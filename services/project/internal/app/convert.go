package app

import (
	"context"

	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/services/project/internal/project"
)

// Convert turns a closed-won opportunity into customer, contract and project (see the contract
// of ProjectService.ConvertOpportunity). A failure is recorded in the exception queue with its
// reason and correlation id; the next successful conversion of the opportunity resolves it.
func (s *Service) Convert(ctx context.Context, opp *projectv1.Opportunity) (project.ConversionResult, error) {
	res, resolved, err := s.convert(ctx, opp)
	key := conversionKey(opp.GetCrmSystem(), opp.GetOpportunityId())
	if fe, ok := fault.As(err); ok && fe.Kind == fault.PermissionDenied {
		return res, err // the caller's refusal, not a failed conversion: nothing is recorded
	}
	if err != nil {
		reason := fault.ReasonOf(err)
		if reason == "" {
			reason = "CONVERSION_FAILED"
		}
		if _, rerr := s.store.RecordException(context.WithoutCancel(ctx), exceptions.New{
			Kind: KindConversion, Reason: reason, Message: err.Error(), EntityType: "opportunity",
			EntityID: opp.GetCrmSystem() + ":" + opp.GetOpportunityId(), DedupeKey: key,
		}); rerr != nil {
			s.Log.ErrorContext(ctx, "recording a failed conversion failed", "err", rerr)
		}
		return res, err
	}
	if res.Outcome != project.OutcomeIgnoredStale && !resolved {
		if _, err := s.store.ResolveException(ctx, key, "system", resolvedBySuccess); err != nil {
			s.Log.WarnContext(ctx, "resolving the conversion exception failed", "err", err)
		}
	}
	return res, nil
}

// convert runs one conversion. Conversions of one opportunity are serialised in this process by
// a keyed lock; the remote calls (customer, billing) run with no database transaction open, and
// the project side is written at once: a first conversion in one round trip that loses a race
// with another instance as a whole (createConverted), anything else in one short transaction that
// re-checks, under the opportunity's lock, what another instance converted meanwhile (converge).
// Every remote call is idempotent, so a lost race changes nothing there either. resolved says the
// opportunity's open exception, if any, was resolved with the conversion's writes.
func (s *Service) convert(ctx context.Context, opp *projectv1.Opportunity) (res project.ConversionResult, resolved bool, err error) {
	prep, err := s.prepare(ctx, opp)
	if err != nil {
		return res, false, err
	}
	unlock, waited := s.locks.lockWaited(opp.GetCrmSystem() + "\n" + opp.GetOpportunityId())
	defer unlock()
	conv, found := prep.conv, prep.converted
	if waited { // the holder we waited for may have converted it
		if conv, found, err = s.store.GetConversion(ctx, opp.GetCrmSystem(), opp.GetOpportunityId()); err != nil {
			return res, false, err
		}
	}
	if found {
		if res, done, err := s.known(ctx, conv, opp, prep); done || err != nil {
			return res, false, err
		}
		if opp.GetVersion() == conv.Version {
			res, err := s.finishActivation(ctx, conv, opp, prep.le, true)
			return res, false, err
		}
	}

	inputs, err := s.customerInputs(ctx, opp)
	if err != nil {
		return res, false, err
	}
	billingDown, err := s.checkContract(ctx, opp, prep.le, conv.CustomerID)
	if err != nil {
		return res, false, err
	}
	customer, err := s.upsertCustomers(ctx, inputs)
	if err != nil {
		return res, false, err
	}
	contract, err := s.createContract(ctx, opp, prep.le, customer.ID, billingDown)
	if err != nil {
		return res, false, err
	}
	if !found && contract != nil {
		if res, created, err := s.createConverted(ctx, opp, prep, customer, contract); created || err != nil {
			return res, created, err
		}
		// Another instance converted the opportunity meanwhile; converge sees it.
	}
	res, err = s.converge(ctx, opp, prep, customer, contract)
	return res, false, err
}

// prepared is what the checks that need no lock produce.
type prepared struct {
	deal      project.Deal
	templates map[string]project.Template
	le        project.LegalEntity
	fp        []byte
	// conv is the opportunity's conversion as read before the opportunity's lock was taken.
	conv      project.Conversion
	converted bool
}
