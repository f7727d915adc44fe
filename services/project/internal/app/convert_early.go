package app

import (
	"context"
	"errors"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/early"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/services/project/internal/project"
)

// maxLegalEntityPages bounds the owner lookup (500 legal entities a page).
const maxLegalEntityPages = 4

// legalEntityEarly turns an UNKNOWN_LEGAL_ENTITY of the replica into REFERENCE_NOT_YET_KNOWN when
// billing, which owns legal entities, has the code: the entity was created moments ago and its
// event has not arrived here yet, so the caller should retry, not fix its input. A legal entity is
// named by its code, which (unlike a UUIDv7) carries no minting time, so the owner is asked, once
// per refused conversion. When billing cannot answer, the replica's answer stands. Other errors
// pass unchanged.
func (s *Service) legalEntityEarly(ctx context.Context, err error, code string) error {
	if s.LegalEntities == nil || !errors.Is(err, project.ErrUnknownLegalEntity) {
		return err
	}
	fe, _ := fault.As(err)
	ctx, cancel := context.WithTimeout(ctx, s.CallTimeout)
	defer cancel()
	token := ""
	for range maxLegalEntityPages {
		resp, lerr := s.LegalEntities.ListLegalEntities(ctx, &billingv1.ListLegalEntitiesRequest{PageSize: 500, PageToken: token})
		if lerr != nil {
			s.Log.WarnContext(ctx, "legal entity lookup at billing failed; answering from the replica", "err", lerr)
			return err
		}
		for _, le := range resp.GetLegalEntities() {
			if le.GetCode() == code {
				return early.NotYetKnown(fe)
			}
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	return err
}
