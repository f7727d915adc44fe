package app

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/services/billing/internal/ledger"
)

// KindParked is the exception kind of postings parked until a rate (or a project's contract)
// arrives; one exception per missing thing, however many entries wait for it.
const KindParked = "posting.parked"

// repostLimit bounds the parked sources one re-drive posts (the sweep takes the rest).
const repostLimit = 20000

func parkedKey(m ledger.Missing) string { return KindParked + ":" + m.Kind + ":" + m.Key }

// trackParked records one exception per missing rate (with the number of entries waiting for
// it).
func (s *Service) trackParked(ctx context.Context, results []ledger.Result) error {
	type group struct {
		m     ledger.Missing
		n     int
		dates []civil.Date
	}
	parked := map[string]*group{}
	for _, r := range results {
		if r.Outcome != ledger.Parked {
			continue
		}
		k := parkedKey(*r.Missing)
		g, ok := parked[k]
		if !ok {
			g = &group{m: *r.Missing}
			parked[k] = g
		}
		g.n++
		g.dates = append(g.dates, r.Missing.Date)
	}
	keys := make([]string, 0, len(parked))
	for k := range parked {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		g := parked[k]
		total, err := s.store.ParkedCount(ctx, g.m.Kind, g.m.Key)
		if err != nil {
			return err
		}
		sort.Slice(g.dates, func(i, j int) bool { return g.dates[i].Before(g.dates[j]) })
		reason := ledger.ReasonRateMissing
		if g.m.Kind == "exchange_rate" {
			reason = ledger.ReasonFXMissing
		} else if g.m.Kind == "project" {
			reason = ledger.ReasonProjectUnknown
		}
		if _, err := s.store.RecordException(ctx, exceptions.New{Kind: KindParked, Reason: reason,
			Message: fmt.Sprintf("%d postings wait for a %s (%s), dates from %s; they post automatically when it arrives",
				total, strings.ReplaceAll(g.m.Kind, "_", " "), g.m.Key, g.dates[0]),
			EntityType: g.m.Kind, EntityID: g.m.Key, DedupeKey: k}); err != nil {
			return err
		}
	}
	return nil
}

// Repost re-drives the postings parked for kind and key ("" = all, a key ending in "/" is a
// prefix) in one transaction (joining the one of ctx), and resolves the exceptions that no
// longer have parked entries. It returns how many postings left the parked state.
func (s *Service) Repost(ctx context.Context, kind, key string) (posted int, err error) {
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		posted = 0
		sources, err := s.store.Parked(ctx, kind, key, repostLimit)
		if err != nil || len(sources) == 0 {
			return err
		}
		results, err := s.PostBatch(ctx, sources)
		if err != nil {
			return err
		}
		for _, r := range results {
			if r.Outcome != ledger.Parked {
				posted++
			}
		}
		// Every open parked exception of the kind may now have no entry left.
		released, err := s.store.ReleasedParked(ctx, KindParked, kind)
		if err != nil {
			return err
		}
		for _, m := range released {
			if _, err := s.store.ResolveException(ctx, parkedKey(m), "system", "the missing rate arrived; parked postings were posted"); err != nil {
				return err
			}
		}
		return nil
	})
	return posted, err
}

// RetryParked is the exception queue's retry of KindParked: it re-drives what the exception waits
// for and fails while postings still wait.
func (s *Service) RetryParked(ctx context.Context, e exceptions.Exception) error {
	return s.store.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.Repost(ctx, e.EntityType, e.EntityID); err != nil {
			return err
		}
		n, err := s.store.ParkedCount(ctx, e.EntityType, e.EntityID)
		if err != nil {
			return err
		}
		if n > 0 {
			return fault.New(fault.FailedPrecondition, e.Reason, "%d postings still wait for a %s (%s)", n, e.EntityType, e.EntityID)
		}
		return nil
	})
}

// Sweep re-drives every parked posting (a safety net behind the event-driven re-drives).
func (s *Service) Sweep(ctx context.Context) {
	if _, err := s.Repost(ctx, "", ""); err != nil && ctx.Err() == nil {
		s.log.WarnContext(ctx, "parked postings sweep failed", "err", err)
	}
}
