package wire

import (
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
)

// The responses of the gRPC API, one per use case's result.

// CreateLegalEntityResponse answers CreateLegalEntity: the entity and whether this call created it.
func CreateLegalEntityResponse(le legalentity.LegalEntity, created bool) *billingv1.CreateLegalEntityResponse {
	return &billingv1.CreateLegalEntityResponse{LegalEntity: LegalEntity(le), Created: created}
}

// GetLegalEntityResponse answers GetLegalEntity.
func GetLegalEntityResponse(le legalentity.LegalEntity) *billingv1.GetLegalEntityResponse {
	return &billingv1.GetLegalEntityResponse{LegalEntity: LegalEntity(le)}
}

// UpsertContractResponse answers UpsertContract: what the write did, and the contract unless
// nothing was stored (a validate-only call or a refused one).
func UpsertContractResponse(c contract.Contract, out contract.Outcome) *billingv1.UpsertContractResponse {
	resp := &billingv1.UpsertContractResponse{Outcome: ContractOutcome(out)}
	if c.ID != "" {
		resp.Contract = Contract(c)
	}
	return resp
}

// AmendContractResponse answers AmendContract.
func AmendContractResponse(c contract.Contract) *billingv1.AmendContractResponse {
	return &billingv1.AmendContractResponse{Contract: Contract(c)}
}

// GetContractResponse answers GetContract.
func GetContractResponse(c contract.Contract) *billingv1.GetContractResponse {
	return &billingv1.GetContractResponse{Contract: Contract(c)}
}

// ContractVersionsResponse answers ListContractVersions.
func ContractVersionsResponse(list []contract.Contract) *billingv1.ListContractVersionsResponse {
	return &billingv1.ListContractVersionsResponse{Versions: Each(list, Contract)}
}

// OpenPeriodResponse answers OpenPeriod.
func OpenPeriodResponse(p ledger.Period) *billingv1.OpenPeriodResponse {
	return &billingv1.OpenPeriodResponse{Period: Period(p)}
}

// ClosePeriodResponse answers ClosePeriod.
func ClosePeriodResponse(p ledger.Period) *billingv1.ClosePeriodResponse {
	return &billingv1.ClosePeriodResponse{Period: Period(p)}
}

// PeriodsResponse answers ListPeriods.
func PeriodsResponse(list []ledger.Period) *billingv1.ListPeriodsResponse {
	return &billingv1.ListPeriodsResponse{Periods: Each(list, Period)}
}

// AccountsResponse answers ListAccounts.
func AccountsResponse(list []ledger.Account) *billingv1.ListAccountsResponse {
	return &billingv1.ListAccountsResponse{Accounts: Each(list, Account)}
}

// Each converts every item of list (an empty list, never nil).
func Each[T, P any](list []T, convert func(T) P) []P {
	out := make([]P, 0, len(list))
	for _, v := range list {
		out = append(out, convert(v))
	}
	return out
}
