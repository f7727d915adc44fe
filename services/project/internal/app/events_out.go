package app

import (
	"context"
	"time"

	"google.golang.org/protobuf/proto"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/services/project/internal/project"
	"github.com/accrue/accrue/services/project/internal/wire"
)

// crossIDs are the ids partners match a project event on: the project's own, and the CRM
// opportunity and account of the conversion that created it (read from the stored conversion's
// request).
func (s *Service) crossIDs(ctx context.Context, p project.Project) (*commonv1.CrossSystemIds, error) {
	conv, found, err := s.store.ConversionByProject(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	account := ""
	if found && len(conv.Request) > 0 {
		var opp projectv1.Opportunity
		if err := proto.Unmarshal(conv.Request, &opp); err != nil {
			return nil, err
		}
		account = opp.GetAccount().GetAccountId()
	}
	return wire.CrossIDs(p, account), nil
}

// activatedEvent is project.activated for p with its cross-system ids.
func (s *Service) activatedEvent(ctx context.Context, p project.Project) (outbox.Event, error) {
	ids, err := s.crossIDs(ctx, p)
	if err != nil {
		return outbox.Event{}, err
	}
	return projectEvent(p, projectv1.EventTypeProjectActivated, &projectv1.ProjectActivated{Project: wire.Project(p), CrossIds: ids}), nil
}

// financialsChanged records, in the transaction of the change, that the financials of the
// projects (and of the projects using contractID) changed; project.financials_changed follows
// at most once per project per FinancialsEventWindow (see PublishDueFinancials).
func (s *Service) financialsChanged(ctx context.Context, contractID string, projectIDs ...string) error {
	return s.store.MarkFinancialsChanged(ctx, s.FinancialsEventWindow, projectIDs, contractID)
}

// PublishDueFinancials publishes project.financials_changed for up to limit projects whose
// window has passed at now, each with its figures as they stand, and clears their pending
// rows, in one transaction (a crash publishes them on the next run). It returns how many it
// published. The service runs it on a ticker.
func (s *Service) PublishDueFinancials(ctx context.Context, now time.Time, limit int) (int, error) {
	n := 0
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		n = 0
		due, err := s.store.TakeDueFinancials(ctx, now, limit)
		if err != nil {
			return err
		}
		for id, changes := range due {
			p, err := s.store.GetProject(ctx, id)
			if err != nil {
				return err
			}
			e, err := s.store.Economics(ctx, id)
			if err != nil {
				return err
			}
			ids, err := s.crossIDs(ctx, p)
			if err != nil {
				return err
			}
			if err := s.store.Publish(ctx, projectEvent(p, projectv1.EventTypeProjectFinancialsChanged,
				&projectv1.ProjectFinancialsChanged{Financials: wire.Financials(e), Changes: int32(changes), CrossIds: ids})); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
