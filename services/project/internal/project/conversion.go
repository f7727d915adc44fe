package project

import (
	"bytes"
	"fmt"

	"github.com/accrue/accrue/internal/platform/fault"
)

// Conversion states: the project waits for its contract, or is financially active.
const (
	ConversionPending = "PENDING_FINANCIAL_ACTIVATION"
	ConversionActive  = "ACTIVE"
)

// Conversion is the state of one converted opportunity: the version converted (its content
// fingerprint and the request itself, to retry the activation from), the records it converged on
// and whether the financial activation (the contract) is done.
type Conversion struct {
	CRMSystem     string
	OpportunityID string
	Version       int64
	Fingerprint   []byte
	Request       []byte
	CustomerID    string
	ProjectID     string
	ContractID    string
	State         string
}

// Verdict is what a conversion request amounts to against the conversion already stored.
type Verdict int

const (
	// Todo: a newer version, or the same one still waiting for its contract; work is left.
	Todo Verdict = iota
	// Stale: an older version than the converted one; nothing changes (IGNORED_STALE).
	Stale
	// Done: the same version, converted and active; nothing changes (UNCHANGED).
	Done
)

// ReasonSourceVersionReused rejects a version already converted with other content.
const ReasonSourceVersionReused = "SOURCE_VERSION_REUSED"

// Judge compares a request for version, whose content has fingerprint fp, with the stored
// conversion. The same version with other content is refused: a CRM must send a newer version
// to change a converted deal.
func (c Conversion) Judge(version int64, fp []byte) (Verdict, error) {
	switch {
	case version < c.Version:
		return Stale, nil
	case version == c.Version && !bytes.Equal(fp, c.Fingerprint):
		return Todo, fault.New(fault.AlreadyExists, ReasonSourceVersionReused,
			"opportunity version %d was already converted with different content; send a newer version", c.Version)
	case version == c.Version && c.State == ConversionActive:
		return Done, nil
	}
	return Todo, nil
}

// ConversionLookup is what a conversion reads before it decides anything: the templates of the
// deal's service lines, the legal entity it books to and the opportunity's conversion, if any.
type ConversionLookup struct {
	Templates map[string]Template
	// LegalEntity is valid when LegalEntityFound.
	LegalEntity      LegalEntity
	LegalEntityFound bool
	Conversion       Conversion
	Converted        bool
}

// Outcome says what a conversion did to a record (or to the whole opportunity).
type Outcome int

const (
	OutcomeCreated Outcome = iota + 1
	OutcomeUpdated
	OutcomeUnchanged
	// OutcomePending: the contract waits for billing (financial activation retried).
	OutcomePending
	// OutcomeIgnoredStale: an older version than the converted one; nothing changed.
	OutcomeIgnoredStale
)

// ConvertedRecord is what a conversion did to one record.
type ConvertedRecord struct {
	ID      string
	Outcome Outcome
	Version int64
}

// ConversionResult is what a conversion did: to the customer, the contract and the project.
type ConversionResult struct {
	Outcome       Outcome
	Customer      ConvertedRecord
	Contract      ConvertedRecord
	Project       ConvertedRecord
	ProjectStatus Status
	TaskCount     int
	// Version is the opportunity version the records reflect.
	Version int64
	Message string
	// ExceptionID is the exception of a pending financial activation.
	ExceptionID string
}

// Summary says in a sentence what the conversion did.
func (r ConversionResult) Summary() string {
	words := map[Outcome]string{OutcomeCreated: "created", OutcomeUpdated: "updated", OutcomeUnchanged: "unchanged",
		OutcomePending: "pending", OutcomeIgnoredStale: "ignored"}
	msg := fmt.Sprintf("customer %s, contract %s, project %s (%s, %d tasks)", words[r.Customer.Outcome], words[r.Contract.Outcome],
		words[r.Project.Outcome], r.ProjectStatus, r.TaskCount)
	if r.Contract.Outcome == OutcomePending {
		msg += "; billing is unavailable: the project waits for financial activation, retried automatically"
	}
	return msg
}
