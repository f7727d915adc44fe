package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/project/internal/project"
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

// ConversionsPKey is the primary key of conversions: one row per (CRM system, opportunity).
const ConversionsPKey = "opportunity_conversions_pkey"

// QueueInsertConversion adds the insert of a first conversion to b. Unlike SaveConversion it
// never overwrites: when another writer converted the opportunity first, the batch fails on
// ConversionsPKey.
func QueueInsertConversion(b *pg.Batch, c Conversion) {
	b.Queue(`INSERT INTO opportunity_conversions (crm_system, opportunity_id, version, fingerprint, request,
			customer_id, project_id, contract_id, state)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		c.CRMSystem, c.OpportunityID, c.Version, c.Fingerprint, c.Request, c.CustomerID, c.ProjectID, nullable(c.ContractID), c.State)
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

const selectConversion = `SELECT crm_system, opportunity_id, version, fingerprint, request,
	customer_id::text, project_id::text, COALESCE(contract_id::text, ''), state
	FROM opportunity_conversions WHERE crm_system = $1 AND opportunity_id = $2`

// GetConversion returns the state of a conversion without locking it.
func GetConversion(ctx context.Context, q pg.Querier, crm, oppID string) (Conversion, bool, error) {
	return scanConversion(q.QueryRow(ctx, selectConversion, crm, oppID))
}

// Lookup is what a conversion reads before it decides anything.
type Lookup struct {
	Templates   map[string]project.Template
	LegalEntity LegalEntity
	// LegalEntityErr is ErrUnknownLegalEntity (with details) when the replica has no such code.
	LegalEntityErr error
	Conversion     Conversion
	Converted      bool
}

// LookupConversion reads, in one round trip, the templates of lines, the legal entity with
// leCode and the conversion of (crm, oppID), none of them locked.
func LookupConversion(ctx context.Context, q pg.Querier, lines []string, leCode, crm, oppID string) (Lookup, error) {
	var l Lookup
	b := &pgx.Batch{}
	b.Queue(selectTemplates, lines).Query(func(rows pgx.Rows) (err error) {
		l.Templates, err = scanTemplates(rows)
		return err
	})
	b.Queue(selectLegalEntity, leCode).QueryRow(func(row pgx.Row) (err error) {
		l.LegalEntity, err = scanLegalEntity(row, leCode)
		if fault.ReasonOf(err) == project.ReasonUnknownLegalEntity {
			l.LegalEntityErr, err = err, nil
		}
		return err
	})
	b.Queue(selectConversion, crm, oppID).QueryRow(func(row pgx.Row) (err error) {
		l.Conversion, l.Converted, err = scanConversion(row)
		return err
	})
	return l, q.SendBatch(ctx, b).Close()
}
