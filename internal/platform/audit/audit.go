// Package audit writes the append-only audit trail: who changed what, when, why, under which
// correlation id. Records are written through the caller's transaction, so an audit record exists
// exactly when the change it describes was committed. The table refuses UPDATE, DELETE and
// TRUNCATE (see the platform migrations).
package audit

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/pg"
)

// Record is one audited change.
type Record struct {
	// Action is a dotted verb, e.g. "customer.created", "period.closed".
	Action     string
	EntityType string
	EntityID   string
	// Reason says why, when the caller gave one (a rejection reason, an amendment note).
	Reason string
	// Details holds facts about the change (ids, versions, statuses). Never rates or personal data.
	Details map[string]any
}

// Write inserts r through tx, stamping the actor (the authenticated principal, or "system") and
// the correlation id from ctx.
func Write(ctx context.Context, tx pg.Querier, r Record) error {
	details := []byte("{}")
	if len(r.Details) > 0 {
		b, err := json.Marshal(r.Details)
		if err != nil {
			return fmt.Errorf("audit: details: %w", err)
		}
		details = b
	}
	_, err := tx.Exec(ctx, `INSERT INTO audit_log (actor, action, entity_type, entity_id, reason, correlation_id, details)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		auth.Actor(ctx), r.Action, r.EntityType, r.EntityID, r.Reason, correlation.ID(ctx), details)
	if err != nil {
		return fmt.Errorf("audit: write: %w", err)
	}
	return nil
}
