package auth

import (
	"context"
	"slices"
	"strings"

	"github.com/accrue/accrue/internal/platform/fault"
)

// LegalEntitiesClaim is the token claim naming the legal entities the caller may act for: a JSON
// array of legal-entity ids (the billing service's canonical UUIDs), or ["*"] for every entity.
// A token without the claim, or with an empty array, acts for none.
const LegalEntitiesClaim = "accrue_legal_entities"

// AllLegalEntities is the claim entry that grants every legal entity.
const AllLegalEntities = "*"

// ReasonLegalEntityForbidden is the reason of a call refused because it reads or writes data of a
// legal entity the caller may not act for.
const ReasonLegalEntityForbidden = "LEGAL_ENTITY_FORBIDDEN"

// Entities is the legal-entity boundary of a piece of work: every entity, or the listed ids.
type Entities struct {
	// All is true for a caller acting for every entity ("*") and for work no caller started.
	All bool
	// IDs are the legal-entity ids allowed when All is false (lower case, no duplicates).
	IDs []string
}

// Allows reports whether id is inside the boundary.
func (e Entities) Allows(id string) bool {
	return e.All || (id != "" && slices.Contains(e.IDs, strings.ToLower(id)))
}

// Filter is the boundary as a query argument: nil for every entity (no filter), otherwise the
// allowed ids (never nil, so a store can tell "none" from "all").
func (e Entities) Filter() []string {
	if e.All {
		return nil
	}
	return append([]string{}, e.IDs...)
}

// String encodes the boundary for metadata: "*", the ids separated by commas, or "none".
func (e Entities) String() string {
	switch {
	case e.All:
		return AllLegalEntities
	case len(e.IDs) == 0:
		return "none"
	}
	return strings.Join(e.IDs, ",")
}

// ParseEntities decodes String's form.
func ParseEntities(s string) Entities {
	if s == "none" {
		return Entities{IDs: []string{}}
	}
	return entitiesOfClaim(strings.Split(s, ","))
}

// Narrow returns the entities both e and o allow: a boundary only ever narrows.
func (e Entities) Narrow(o Entities) Entities {
	switch {
	case o.All:
		return e
	case e.All:
		return Entities{IDs: slices.Clone(o.IDs)}
	}
	out := Entities{IDs: []string{}}
	for _, id := range o.IDs {
		if slices.Contains(e.IDs, id) {
			out.IDs = append(out.IDs, id)
		}
	}
	return out
}

// None reports whether the boundary allows no entity at all.
func (e Entities) None() bool { return !e.All && len(e.IDs) == 0 }

func entitiesOfClaim(claim []string) Entities {
	var e Entities
	for _, id := range claim {
		id = strings.ToLower(strings.TrimSpace(id))
		switch {
		case id == AllLegalEntities:
			return Entities{All: true}
		case id != "" && !slices.Contains(e.IDs, id):
			e.IDs = append(e.IDs, id)
		}
	}
	return e
}

// EntitiesOf returns the boundary of the work ctx carries: the verified caller's claim, or every
// entity when no caller started the work (event consumers and schedulers act on the entity the
// event records; the RPC interceptor always sets a principal before a handler runs).
func EntitiesOf(ctx context.Context) Entities {
	p, ok := FromContext(ctx)
	if !ok {
		return Entities{All: true}
	}
	return p.LegalEntities
}

// CheckLegalEntity returns a PermissionDenied fault (LEGAL_ENTITY_FORBIDDEN) unless the work ctx
// carries may act for every one of ids.
func CheckLegalEntity(ctx context.Context, ids ...string) error {
	e := EntitiesOf(ctx)
	for _, id := range ids {
		if !e.Allows(id) {
			return Forbidden(id)
		}
	}
	return nil
}

// RequireAllLegalEntities refuses callers whose token does not grant "*": operations on the set
// of entities itself (creating one) need it.
func RequireAllLegalEntities(ctx context.Context) error {
	if !EntitiesOf(ctx).All {
		fe := fault.New(fault.PermissionDenied, ReasonLegalEntityForbidden, "this call needs a token acting for every legal entity (%q)", AllLegalEntities)
		return fe
	}
	return nil
}

// Forbidden is the refusal of legal entity id.
func Forbidden(id string) *fault.Error {
	fe := fault.New(fault.PermissionDenied, ReasonLegalEntityForbidden, "the token may not act for this legal entity")
	if id != "" {
		fe.Metadata = map[string]string{"legal_entity_id": id}
	}
	return fe
}
