// Package legalentity is the firm's legal entities: who signs contracts, keeps books in which
// functional currency, and what happens to postings dated in a closed period.
package legalentity

import (
	"crypto/sha256"
	"encoding/json"
	"time"

	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
)

// ClosedPeriodPolicy says what happens to a posting dated in a closed period.
type ClosedPeriodPolicy string

const (
	// Reject refuses the posting; the source entry shows REJECTED_CLOSED_PERIOD.
	Reject ClosedPeriodPolicy = "REJECT"
	// RollForward posts on the first day of the next open period, keeping the original date.
	RollForward ClosedPeriodPolicy = "ROLL_FORWARD"
)

// Errors.
var (
	ErrNotFound     = fault.New(fault.NotFound, "LEGAL_ENTITY_NOT_FOUND", "no such legal entity")
	ErrCodeConflict = fault.New(fault.AlreadyExists, "LEGAL_ENTITY_CODE_EXISTS", "a legal entity with this code exists with different content")
)

// Details are the fields a caller sets.
type Details struct {
	Code               string             `json:"code"`
	Name               string             `json:"name"`
	FunctionalCurrency string             `json:"functional_currency"`
	TaxRegistration    string             `json:"tax_registration"`
	CountryCode        string             `json:"country_code"`
	Policy             ClosedPeriodPolicy `json:"policy"`
}

// LegalEntity is a stored legal entity.
type LegalEntity struct {
	ID string
	Details
	Version   int64
	CreatedAt time.Time
}

// ErrCodeTaken is returned by a store when another writer created a legal entity with the same
// code first; the create then compares against the winner.
var ErrCodeTaken = fault.New(fault.AlreadyExists, "LEGAL_ENTITY_CODE_TAKEN", "another request created a legal entity with this code at the same time")

// Validate checks what the contract cannot.
func (d Details) Validate() error {
	if !money.KnownCurrency(d.FunctionalCurrency) {
		return fault.Invalidf(money.ReasonUnknownCurrency, "legal_entity.functional_currency", "%q is not an ISO 4217 currency", d.FunctionalCurrency)
	}
	return nil
}

// Hash fingerprints the content.
func (d Details) Hash() []byte {
	b, _ := json.Marshal(d)
	s := sha256.Sum256(b)
	return s[:]
}
