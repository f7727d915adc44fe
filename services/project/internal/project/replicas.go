package project

import (
	"time"

	"github.com/accrue/accrue/internal/platform/fault"
)

// LegalEntity is the project service's replica of a billing legal entity.
type LegalEntity struct {
	ID                 string
	Code               string
	FunctionalCurrency string
	Policy             string
	Version            int64
}

// ErrUnknownLegalEntity is returned when the replica has no legal entity with a code.
var ErrUnknownLegalEntity = fault.New(fault.FailedPrecondition, ReasonUnknownLegalEntity, "no legal entity with that code")

// UnknownLegalEntity is ErrUnknownLegalEntity for code.
func UnknownLegalEntity(code string) error {
	return ErrUnknownLegalEntity.With("no legal entity has code "+code, "legal_entity_code", code).At("opportunity.legal_entity_code")
}

// DirectoryCustomer is the replica of one customer (fed by customer.upserted events).
type DirectoryCustomer struct {
	CustomerID    string
	Name          string
	Currency      string
	Status        string
	HasTaxProfile bool
	TaxExempt     bool
	Version       int64
	LastEventID   string
	CorrelationID string
	UpdatedAt     time.Time
}

// ErrCustomerNotInDirectory means no customer.upserted event for that customer arrived yet.
var ErrCustomerNotInDirectory = fault.New(fault.NotFound, "CUSTOMER_NOT_IN_DIRECTORY", "the project service knows no such customer (yet)")
