package resource

import (
	"crypto/sha256"
	"encoding/json"
	"time"

	"github.com/shopspring/decimal"
)

// Kind says how the firm engages a resource.
type Kind string

const (
	Employee   Kind = "EMPLOYEE"
	Contractor Kind = "CONTRACTOR"
)

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
