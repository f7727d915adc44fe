package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/services/project/internal/project"
)

// conversionLock serialises the conversions of one opportunity across instances.
var conversionLock = pg.NewLock("project.conversion")

// conversionsPKey is the primary key of conversions: one row per (CRM system, opportunity).
const conversionsPKey = "opportunity_conversions_pkey"

const selectConversion = `SELECT crm_system, opportunity_id, version, fingerprint, request,
	customer_id::text, project_id::text, COALESCE(contract_id::text, ''), state
	FROM opportunity_conversions`

func scanConversion(row pgx.Row) (project.Conversion, bool, error) {
	var c project.Conversion
	err := row.Scan(&c.CRMSystem, &c.OpportunityID, &c.Version, &c.Fingerprint, &c.Request, &c.CustomerID, &c.ProjectID, &c.ContractID, &c.State)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, false, nil
	}
	return c, err == nil, err
}

// GetConversion returns the conversion of an opportunity without locking it (found=false when
// it was never converted).
func (s *Store) GetConversion(ctx context.Context, crm, oppID string) (project.Conversion, bool, error) {
	return scanConversion(s.Q(ctx).QueryRow(ctx, selectConversion+` WHERE crm_system = $1 AND opportunity_id = $2`, crm, oppID))
}

// LockConversion serialises every conversion of one opportunity until the transaction of ctx
// ends and returns its current state (found=false when it was never converted).
func (s *Store) LockConversion(ctx context.Context, crm, oppID string) (project.Conversion, bool, error) {
	if err := conversionLock.Acquire(ctx, s.Q(ctx), crm+"\n"+oppID); err != nil {
		return project.Conversion{}, false, err
	}
	return s.GetConversion(ctx, crm, oppID)
}

// ConversionByProject returns the conversion that created a project.
func (s *Store) ConversionByProject(ctx context.Context, projectID string) (project.Conversion, bool, error) {
	return scanConversion(s.Q(ctx).QueryRow(ctx, selectConversion+` WHERE project_id = $1`, projectID))
}

// SaveConversion inserts or updates a conversion.
func (s *Store) SaveConversion(ctx context.Context, c project.Conversion) error {
	_, err := s.Q(ctx).Exec(ctx, insertConversion+`
		ON CONFLICT (crm_system, opportunity_id) DO UPDATE SET version = EXCLUDED.version, fingerprint = EXCLUDED.fingerprint,
			request = EXCLUDED.request, customer_id = EXCLUDED.customer_id, contract_id = EXCLUDED.contract_id,
			state = EXCLUDED.state, updated_at = now()`, conversionArgs(c)...)
	return err
}

const insertConversion = `INSERT INTO opportunity_conversions (crm_system, opportunity_id, version, fingerprint, request,
		customer_id, project_id, contract_id, state)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`

func conversionArgs(c project.Conversion) []any {
	return []any{c.CRMSystem, c.OpportunityID, c.Version, c.Fingerprint, c.Request, c.CustomerID, c.ProjectID, nullable(c.ContractID), c.State}
}

// CreateConversion writes the first conversion of an opportunity in one round trip that commits
// it as a whole: the project with its tasks, its events and audit records, the conversion row
// (inserted, never overwritten) and the resolution of the open exception with resolveKey. It
// reports created=false, having written nothing, when another writer converted the opportunity
// first (the batch fails on the conversion's primary key as a whole), or when ctx carries a
// transaction (the batch's writes would not commit apart from it): the caller then goes through
// LockConversion.
func (s *Store) CreateConversion(ctx context.Context, p project.Project, c project.Conversion, events []outbox.Event,
	records []audit.Record, resolveKey, resolvedBy, note string) (created bool, err error) {
	if _, ambient := pg.TxFrom(ctx); ambient {
		return false, nil
	}
	var b pg.Batch
	if err := s.queueCreateProject(ctx, &b, p, events, records); err != nil {
		return false, err
	}
	b.Queue(insertConversion, conversionArgs(c)...)
	s.Queue.QueueResolveByKey(&b, resolveKey, resolvedBy, note)
	err = b.Run(ctx, s.Pool)
	if pg.IsUniqueViolation(err, conversionsPKey) {
		return false, nil
	}
	return err == nil, err
}

// LookupConversion reads, in one round trip, the templates of lines, the legal entity with
// leCode and the conversion of (crm, oppID), none of them locked.
func (s *Store) LookupConversion(ctx context.Context, lines []string, leCode, crm, oppID string) (project.ConversionLookup, error) {
	var l project.ConversionLookup
	b := &pgx.Batch{}
	b.Queue(selectTemplates, lines).Query(func(rows pgx.Rows) (err error) {
		l.Templates, err = scanTemplates(rows)
		return err
	})
	b.Queue(selectLegalEntity, leCode).QueryRow(func(row pgx.Row) (err error) {
		l.LegalEntity, l.LegalEntityFound, err = scanLegalEntity(row)
		return err
	})
	b.Queue(selectConversion+` WHERE crm_system = $1 AND opportunity_id = $2`, crm, oppID).QueryRow(func(row pgx.Row) (err error) {
		l.Conversion, l.Converted, err = scanConversion(row)
		return err
	})
	return l, s.Q(ctx).SendBatch(ctx, b).Close()
}
