package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/pg"
)

// Conversion is the state of one converted opportunity.
type Conversion struct {
	CRMSystem     string
	OpportunityID string
	Version       int64
	Fingerprint   []byte
	Request       []byte
	CustomerID    string
	ProjectID     string
	ContractID    string
	State         string
}

// Conversion states.
const (
	ConversionPending = "PENDING_FINANCIAL_ACTIVATION"
	ConversionActive  = "ACTIVE"
)

// LockConversion serialises every conversion of one opportunity until the transaction ends and
// returns its current state (ok=false when it was never converted).
func LockConversion(ctx context.Context, q pg.Querier, crm, oppID string) (Conversion, bool, error) {
	if _, err := q.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 1711))`, crm+"\n"+oppID); err != nil {
		return Conversion{}, false, err
	}
	return scanConversion(q.QueryRow(ctx, `SELECT crm_system, opportunity_id, version, fingerprint, request,
		customer_id::text, project_id::text, COALESCE(contract_id::text, ''), state
		FROM opportunity_conversions WHERE crm_system = $1 AND opportunity_id = $2`, crm, oppID))
}

// ConversionByProject returns the conversion that created a project.
func ConversionByProject(ctx context.Context, q pg.Querier, projectID string) (Conversion, bool, error) {
	return scanConversion(q.QueryRow(ctx, `SELECT crm_system, opportunity_id, version, fingerprint, request,
		customer_id::text, project_id::text, COALESCE(contract_id::text, ''), state
		FROM opportunity_conversions WHERE project_id = $1`, projectID))
}

func scanConversion(row pgx.Row) (Conversion, bool, error) {
	var c Conversion
	err := row.Scan(&c.CRMSystem, &c.OpportunityID, &c.Version, &c.Fingerprint, &c.Request, &c.CustomerID, &c.ProjectID, &c.ContractID, &c.State)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, false, nil
	}
	return c, err == nil, err
}

// SaveConversion inserts or updates a conversion.
func SaveConversion(ctx context.Context, q pg.Querier, c Conversion) error {
	_, err := q.Exec(ctx, `INSERT INTO opportunity_conversions (crm_system, opportunity_id, version, fingerprint, request,
			customer_id, project_id, contract_id, state)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (crm_system, opportunity_id) DO UPDATE SET version = EXCLUDED.version, fingerprint = EXCLUDED.fingerprint,
			request = EXCLUDED.request, customer_id = EXCLUDED.customer_id, contract_id = EXCLUDED.contract_id,
			state = EXCLUDED.state, updated_at = now()`,
		c.CRMSystem, c.OpportunityID, c.Version, c.Fingerprint, c.Request, c.CustomerID, c.ProjectID, nullable(c.ContractID), c.State)
	return err
}

// GetConversion returns the state of a conversion without locking it.
func GetConversion(ctx context.Context, q pg.Querier, crm, oppID string) (Conversion, bool, error) {
	return scanConversion(q.QueryRow(ctx, `SELECT crm_system, opportunity_id, version, fingerprint, request,
		customer_id::text, project_id::text, COALESCE(contract_id::text, ''), state
		FROM opportunity_conversions WHERE crm_system = $1 AND opportunity_id = $2`, crm, oppID))
}
