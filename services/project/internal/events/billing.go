package events

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/stream"
	"github.com/accrue/accrue/services/project/internal/store"
)

// BillingStream is the stream the billing service publishes to.
const BillingStream = "billing.events"

// LegalEntities applies legal_entity.upserted events to the legal entity replica (other billing
// events are for other consumers of this service and are skipped here).
func LegalEntities(log *slog.Logger) stream.Handler {
	return func(ctx context.Context, tx pgx.Tx, msgs []stream.Message) error {
		for _, m := range msgs {
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
		return nil
	}
}
