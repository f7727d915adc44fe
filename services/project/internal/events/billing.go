package events

import (
	"context"
	"fmt"
	"github.com/accrue/accrue/internal/platform/civil/civilpb"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/stream"
	"github.com/accrue/accrue/services/project/internal/financials"
	"github.com/accrue/accrue/services/project/internal/store"
)

// BillingStream is the stream the billing service publishes to.
const BillingStream = "billing.events"

// Billing applies billing events: legal_entity.upserted to the legal entity replica, and
// contract.changed to the contract replica (then the forecast of the projects using the contract
// is priced again at the new rates).
func Billing(log *slog.Logger) stream.Handler {
	return func(ctx context.Context, msgs []stream.Message) error {
		tx, _ := pg.TxFrom(ctx) // TODO(house): store behind an interface
		actuals := map[string]*store.Actuals{}
		for _, m := range msgs {
			if m.Envelope.GetType() == "postings.recorded" {
				if err := addActuals(m, actuals); err != nil {
					return err
				}
				continue
			}
			if m.Envelope.GetType() == "contract.changed" {
				if err := applyContract(ctx, tx, m); err != nil {
					return err
				}
				continue
			}
			if m.Envelope.GetType() != "legal_entity.upserted" {
				continue
			}
			var ev billingv1.LegalEntityUpserted
			if err := m.Envelope.GetPayload().UnmarshalTo(&ev); err != nil {
				return fmt.Errorf("legal_entity.upserted %s: %w", m.Envelope.GetEventId(), err)
			}
			le := ev.GetLegalEntity()
			if err := store.UpsertLegalEntity(ctx, tx, store.LegalEntity{ID: le.GetLegalEntityId(), Code: le.GetCode(),
				FunctionalCurrency: le.GetFunctionalCurrency(), Policy: le.GetClosedPeriodPolicy().String(), Version: le.GetVersion()}); err != nil {
				return err
			}
			log.InfoContext(stream.WithEvent(ctx, m.Envelope), "legal entity replica updated", "legal_entity_id", le.GetLegalEntityId(), "code", le.GetCode())
		}
		return store.AddActuals(ctx, tx, actuals)
	}
}

// addActuals sums the posted (and reversed) hours, cost and revenue of a postings.recorded event
// per project.
func addActuals(m stream.Message, into map[string]*store.Actuals) error {
	var ev billingv1.PostingsRecorded
	if err := m.Envelope.GetPayload().UnmarshalTo(&ev); err != nil {
		return fmt.Errorf("postings.recorded %s: %w", m.Envelope.GetEventId(), err)
	}
	for _, r := range ev.GetResults() {
		if r.GetOutcome() != billingv1.PostingOutcome_POSTING_OUTCOME_POSTED && r.GetOutcome() != billingv1.PostingOutcome_POSTING_OUTCOME_REVERSED {
			continue
		}
		a, ok := into[r.GetProjectId()]
		if !ok {
			a = &store.Actuals{}
			into[r.GetProjectId()] = a
		}
		for _, v := range []struct {
			dst *decimal.Decimal
			s   string
		}{{&a.Hours, r.GetHours()}, {&a.Cost, r.GetCost().GetAmount()}, {&a.Revenue, r.GetRevenue().GetAmount()}} {
			if v.s == "" {
				continue
			}
			d, err := decimal.NewFromString(v.s)
			if err != nil {
				return fmt.Errorf("postings.recorded %s: %w", m.Envelope.GetEventId(), err)
			}
			*v.dst = v.dst.Add(d)
		}
	}
	return nil
}

func applyContract(ctx context.Context, tx pgx.Tx, m stream.Message) error {
	var ev billingv1.ContractChanged
	if err := m.Envelope.GetPayload().UnmarshalTo(&ev); err != nil {
		return fmt.Errorf("contract.changed %s: %w", m.Envelope.GetEventId(), err)
	}
	c := ev.GetContract()
	var lines []store.ContractLine
	for _, l := range c.GetLines() {
		amt, err := decimal.NewFromString(l.GetAmount().GetAmount())
		if err != nil {
			return fmt.Errorf("contract.changed %s: %w", m.Envelope.GetEventId(), err)
		}
		line := store.ContractLine{Key: l.GetLineKey(), BillingMethod: l.GetBillingMethod().String()[len("BILLING_METHOD_"):],
			Amount: amt, Currency: l.GetAmount().GetCurrencyCode()}
		for _, r := range l.GetRateCard() {
			rate, err := decimal.NewFromString(r.GetBillRate().GetAmount())
			if err != nil {
				return err
			}
			from, err := civilpb.From(r.GetEffectiveFrom(), "effective_from")
			if err != nil {
				return err
			}
			to, err := civilpb.From(r.GetEffectiveTo(), "effective_to")
			if err != nil {
				return err
			}
			line.Rates = append(line.Rates, financials.BillRate{Role: r.GetRole(), Rate: rate, From: from, To: to})
		}
		lines = append(lines, line)
	}
	applied, err := store.ApplyContract(ctx, tx, c.GetContractId(), c.GetVersion(), lines)
	if err != nil || !applied {
		return err
	}
	return store.PriceWhere(ctx, tx, "", c.GetContractId())
}
