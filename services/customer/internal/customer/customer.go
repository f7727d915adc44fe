// Package customer is the customer domain: what a customer is, which inputs are acceptable, when
// two descriptions of a customer are "the same content", and the rules of the customer hierarchy.
// It does no I/O and imports neither pgx nor generated protobuf code.
package customer

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/money"
)

// Status is the commercial standing of a customer.
type Status string

const (
	StatusActive   Status = "ACTIVE"
	StatusOnHold   Status = "ON_HOLD"
	StatusInactive Status = "INACTIVE"
)

// MaxHierarchyDepth is the deepest a customer hierarchy may go (a root is level 1).
const MaxHierarchyDepth = 5

// DefaultPaymentTermsDays applies when an input gives none.
const DefaultPaymentTermsDays = 30

// Errors (match with errors.Is).
var (
	ErrNotFound            = fault.New(fault.NotFound, "CUSTOMER_NOT_FOUND", "no such customer")
	ErrDuplicateExternalID = fault.New(fault.AlreadyExists, "DUPLICATE_EXTERNAL_ID", "the external reference belongs to a customer with different content")
	ErrAmbiguousReference  = fault.New(fault.AlreadyExists, "DUPLICATE_EXTERNAL_ID", "the external references belong to different customers")
	ErrVersionConflict     = fault.New(fault.Conflict, "VERSION_CONFLICT", "the customer was changed by someone else; read it again")
	ErrParentNotFound      = fault.New(fault.FailedPrecondition, "PARENT_NOT_FOUND", "the parent customer does not exist")
	ErrHierarchyCycle      = fault.New(fault.FailedPrecondition, "HIERARCHY_CYCLE", "the parent would make the hierarchy a cycle")
	ErrHierarchyTooDeep    = fault.New(fault.FailedPrecondition, "HIERARCHY_TOO_DEEP", "the hierarchy would be deeper than allowed")
)

// ErrReferenceTaken says a write lost a race on an external reference: a concurrent write gave
// it to another customer first. It never reaches a caller: the use case reads again (and
// matches the winner) or reports ErrDuplicateExternalID.
var ErrReferenceTaken = errors.New("customer: an external reference was taken by a concurrent write")

// Outcome says what a create-or-update did.
type Outcome int

const (
	Created Outcome = iota + 1
	Updated
	Unchanged
)

// Address is a billing address.
type Address struct {
	Line1       string `json:"line1,omitempty"`
	Line2       string `json:"line2,omitempty"`
	City        string `json:"city,omitempty"`
	Region      string `json:"region,omitempty"`
	PostalCode  string `json:"postal_code,omitempty"`
	CountryCode string `json:"country_code,omitempty"`
}

// TaxProfile says how the customer is taxed.
type TaxProfile struct {
	TaxID                   string `json:"tax_id,omitempty"`
	TaxRegion               string `json:"tax_region,omitempty"`
	Exempt                  bool   `json:"exempt,omitempty"`
	ExemptionCertificateRef string `json:"exemption_certificate_ref,omitempty"`
}

// Contact is a person at the customer.
type Contact struct {
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
	Role  string `json:"role,omitempty"`
	Phone string `json:"phone,omitempty"`
}

// ExternalRef is the customer's id in another system.
type ExternalRef struct {
	System     string
	ObjectType string
	ExternalID string
}

// Details are the fields a caller sets.
type Details struct {
	Name             string      `json:"name"`
	LegalName        string      `json:"legal_name,omitempty"`
	Currency         string      `json:"currency"`
	ParentID         string      `json:"parent_id,omitempty"`
	Address          Address     `json:"address"`
	PaymentTermsDays int         `json:"payment_terms_days"`
	Tax              *TaxProfile `json:"tax,omitempty"`
	Contacts         []Contact   `json:"contacts,omitempty"`
	Status           Status      `json:"status"`
}

// Input is a create, upsert or update request. Status is "" when not given.
type Input struct {
	Details
	PaymentTermsGiven bool
	AddressGiven      bool
	Refs              []ExternalRef
}

// Customer is a stored customer.
type Customer struct {
	ID string
	Details
	Refs      []ExternalRef
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Validate checks the rules the contract cannot express (ISO currency, distinct references).
func (in Input) Validate() error {
	if !money.KnownCurrency(in.Currency) {
		return fault.Invalidf(money.ReasonUnknownCurrency, "customer.currency_code", "%q is not an ISO 4217 currency", in.Currency)
	}
	seen := map[ExternalRef]bool{}
	for _, r := range in.Refs {
		if seen[r] {
			return fault.Invalidf("DUPLICATE_REFERENCE", "customer.external_references", "reference %s/%s/%s is listed twice", r.System, r.ObjectType, r.ExternalID)
		}
		seen[r] = true
	}
	return nil
}

// Resolve returns the details the input asks for, given the current details (nil on create):
// unspecified payment terms and status keep the current values, or take the defaults. With
// merge (upserts from a source system that does not own every field), an unset billing address,
// an unset tax profile and an empty contact list keep the current values too.
func (in Input) Resolve(current *Details, merge bool) Details {
	d := in.Details
	d.Name = strings.TrimSpace(d.Name)
	d.LegalName = strings.TrimSpace(d.LegalName)
	if !in.PaymentTermsGiven {
		d.PaymentTermsDays = DefaultPaymentTermsDays
		if current != nil {
			d.PaymentTermsDays = current.PaymentTermsDays
		}
	}
	if d.Status == "" {
		d.Status = StatusActive
		if current != nil {
			d.Status = current.Status
		}
	}
	if merge && current != nil {
		if !in.AddressGiven {
			d.Address = current.Address
		}
		if d.Tax == nil {
			d.Tax = current.Tax
		}
		if len(d.Contacts) == 0 {
			d.Contacts = current.Contacts
		}
	}
	if len(d.Contacts) == 0 {
		d.Contacts = nil
	}
	return d
}

// Hash fingerprints the content of d: two descriptions with the same hash are the same customer
// content (used by match-before-create and to detect no-op upserts).
func (d Details) Hash() []byte {
	b, _ := json.Marshal(d) // struct fields only: deterministic
	sum := sha256.Sum256(b)
	return sum[:]
}

// MissingRefs returns the references of in that c does not have yet.
func MissingRefs(c Customer, refs []ExternalRef) []ExternalRef {
	var out []ExternalRef
	for _, r := range refs {
		if !slices.Contains(c.Refs, r) {
			out = append(out, r)
		}
	}
	return out
}

// Matches reports whether d and refs describe c as it is: the same content and no reference c
// does not have yet (writing them would be a no-op).
func (c Customer) Matches(d Details, refs []ExternalRef) bool {
	return bytes.Equal(c.Details.Hash(), d.Hash()) && len(MissingRefs(c, refs)) == 0
}

// CheckHierarchy validates a new parent for customer id (empty for a customer being created)
// given the parent's chain of ancestors (parent first, root last) and the height of id's own
// subtree (1 for a leaf).
func CheckHierarchy(id string, ancestors []string, subtreeHeight int) error {
	if id != "" && slices.Contains(ancestors, id) {
		return ErrHierarchyCycle
	}
	if len(ancestors)+subtreeHeight > MaxHierarchyDepth {
		return ErrHierarchyTooDeep.With("a customer hierarchy is at most 5 levels deep")
	}
	return nil
}
