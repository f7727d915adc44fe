package resource

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/shopspring/decimal"
)

// Kind says how the firm engages a resource.
type Kind string

const (
	Employee   Kind = "EMPLOYEE"
	Contractor Kind = "CONTRACTOR"
)

// DefaultWeeklyCapacity is the weekly capacity, in hours, of a resource whose input names none.
var DefaultWeeklyCapacity = decimal.NewFromInt(40)

// Outcome says what a create-or-update did.
type Outcome int

const (
	Created Outcome = iota + 1
	Updated
	Unchanged
	// IgnoredStale: the record is older than the one last applied; nothing changed.
	IgnoredStale
)

// ErrReferenceTaken says a write lost a race on an external reference: a concurrent write gave
// it to another resource first. The use case reads again and finds the winner.
var ErrReferenceTaken = errors.New("resource: an external reference was taken by a concurrent write")

// Details are the fields a caller (or the HCM) sets.
type Details struct {
	Kind              Kind            `json:"kind"`
	Name              string          `json:"name"`
	Email             string          `json:"email"`
	HomeLegalEntity   string          `json:"home_legal_entity"`
	Location          string          `json:"location"`
	Role              string          `json:"role"`
	WeeklyCapacity    decimal.Decimal `json:"weekly_capacity"`
	UtilizationTarget decimal.Decimal `json:"utilization_target"`
	Active            bool            `json:"active"`
}

// Input is a resource as a caller or the HCM describes it.
type Input struct {
	Details
	// CapacityGiven is false when the input names no weekly capacity (Details.WeeklyCapacity is
	// then ignored).
	CapacityGiven bool
	Refs          []ExternalRef
}

// Resolve returns the details the input asks for: the default weekly capacity when it names
// none.
func (in Input) Resolve() Details {
	d := in.Details
	if !in.CapacityGiven {
		d.WeeklyCapacity = DefaultWeeklyCapacity
	}
	return d
}

// Hash fingerprints the content.
func (d Details) Hash() []byte {
	b, _ := json.Marshal(d)
	s := sha256.Sum256(b)
	return s[:]
}

// ExternalRef is the resource's id in another system (the HCM worker id).
type ExternalRef struct {
	System, ObjectType, ExternalID string
}

// Resource is a stored resource.
type Resource struct {
	ID string
	Details
	Refs          []ExternalRef
	Version       int64
	SourceVersion int64
	UpdatedAt     time.Time
}

// MissingRefs returns the references of refs that r does not have yet.
func (r Resource) MissingRefs(refs []ExternalRef) []ExternalRef {
	var out []ExternalRef
	for _, ref := range refs {
		if !slices.Contains(r.Refs, ref) {
			out = append(out, ref)
		}
	}
	return out
}
