package app

import (
	"context"

	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/idempotency"
	"github.com/accrue/accrue/services/project/internal/wire"
)

// prepare checks everything the conversion can check before it writes or calls anything: the
// deal itself (see project.Deal.Validate), then, from one read, that each service line has a
// template and the legal entity exists in the deal currency. A rejected opportunity is refused
// with a stable reason and its field path.
func (s *Service) prepare(ctx context.Context, opp *projectv1.Opportunity) (prepared, error) {
	var p prepared
	deal, err := wire.Deal(opp)
	if err != nil {
		return p, err
	}
	if err := deal.Validate(); err != nil {
		return p, err
	}
	look, err := s.store.LookupConversion(ctx, deal.ServiceLines(), deal.LegalEntityCode, opp.GetCrmSystem(), opp.GetOpportunityId())
	if err != nil {
		return p, err
	}
	if err := deal.CheckSetup(look); err != nil {
		return p, err
	}
	// The deal's legal entity must be one the caller acts for. The caller's token is relayed to
	// customer and billing, which check it again (billing refuses another entity's contract).
	if err := auth.CheckLegalEntity(ctx, look.LegalEntity.ID); err != nil {
		return p, err
	}
	p = prepared{deal: deal, templates: look.Templates, le: look.LegalEntity, conv: look.Conversion, converted: look.Converted}
	if p.fp, err = idempotency.Fingerprint(opp); err != nil {
		return p, err
	}
	return p, nil
}
