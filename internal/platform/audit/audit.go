// Package audit writes the append-only audit trail: who changed what, when, why, under which
// correlation id. Records are written through the caller's transaction, so an audit record exists
// exactly when the change it describes was committed. The table refuses UPDATE, DELETE and
// TRUNCATE (triggers), the service's database role may only SELECT and INSERT it (pg.GrantApp),
// and every row is chained to the one before it by a SHA-256 hash over all its fields (actor,
// action, entity, reason, correlation id, time, details), so a change made by someone who can
// bypass both (the table's owner) is found by Verify (`accruectl audit verify`).
//
// The chain is extended by a database trigger that locks the chain head until the writing
// transaction ends: audit writers serialise on their commits. Write audit records last in a
// transaction, as the batch paths do, so the lock is held only for the commit.
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
	return WriteAll(ctx, tx, r)
}

// WriteAll inserts several records through tx in one statement (same actor and correlation id).
func WriteAll(ctx context.Context, tx pg.Querier, records ...Record) error {
	var b pg.Batch
	if err := Queue(ctx, &b, records...); err != nil {
		return err
	}
	if err := b.Run(ctx, tx); err != nil {
		return fmt.Errorf("audit: write: %w", err)
	}
	return nil
}

// Queue adds the insert of records (one statement) to b, which must also carry the changes they
// describe.
func Queue(ctx context.Context, b *pg.Batch, records ...Record) error {
	if len(records) == 0 {
		return nil
	}
	n := len(records)
	actions, types, ids, reasons := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	details := make([]string, n)
	for i, r := range records {
		actions[i], types[i], ids[i], reasons[i] = r.Action, r.EntityType, r.EntityID, r.Reason
		details[i] = "{}"
		if len(r.Details) > 0 {
			d, err := json.Marshal(r.Details)
			if err != nil {
				return fmt.Errorf("audit: details: %w", err)
			}
			details[i] = string(d)
		}
	}
	b.Queue(`INSERT INTO audit_log (actor, action, entity_type, entity_id, reason, correlation_id, details)
		SELECT $1, a, t, i, r, $2, d::jsonb FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS x(a, t, i, r, d)`,
		auth.Actor(ctx), correlation.ID(ctx), actions, types, ids, reasons, details)
	return nil
}
