package store

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/accrue/accrue/internal/platform/pg"
	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
)

// externalRefConstraint is the unique constraint on entries' external references.
const externalRefConstraint = "time_entries_external_ref"

// LockImportSystems serialises imports from the given source systems until the transaction
// ends (locks taken in a fixed order, so two imports never deadlock).
func (s *Store) LockImportSystems(ctx context.Context, systems []string) error {
	return importLock.Acquire(ctx, s.Q(ctx), systems...)
}

var copyColumns = []string{"id", "kind", "timesheet_id", "resource_id", "project_id", "task_id", "work_date", "hours",
	"amount", "currency_code", "category", "receipt_reference", "billable", "description", "ext_system", "ext_object_type",
	"ext_id", "approval_status", "posting_status", "reverses_entry_id", "version", "created_at", "approved_at"}

func uuidArg(s string) (any, error) {
	if s == "" {
		return nil, nil
	}
	u, err := uuid.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("store: %q is not a uuid: %w", s, err)
	}
	return pgtype.UUID{Bytes: u, Valid: true}, nil
}

func copyRow(e te.Entry) ([]any, error) {
	row := make([]any, len(copyColumns))
	ids := [...]string{e.ID, e.TimesheetID, e.ResourceID, e.ProjectID, e.TaskID, e.ReversesID}
	var u [len(ids)]any
	for j, s := range ids {
		v, err := uuidArg(s)
		if err != nil {
			return nil, err
		}
		u[j] = v
	}
	sys, typ, ext := refArgs(e.Ref)
	row[0], row[1], row[2], row[3], row[4], row[5] = u[0], string(e.Kind), u[1], u[2], u[3], u[4]
	row[6], row[7], row[8], row[9] = e.Date.Time(), pg.Numeric(e.Hours), pg.Numeric(e.Amount.Value), e.Amount.Currency
	row[10], row[11], row[12], row[13] = e.Category, e.Receipt, e.Billable, e.Description
	row[14], row[15], row[16] = sys, typ, ext
	row[17], row[18], row[19], row[20], row[21], row[22] = string(e.Approval), string(e.Posting), u[5], e.Version, e.CreatedAt, approvedAt(e)
	return row, nil
}

// CopyEntries inserts entries with COPY, in one statement. A reference already taken fails the
// whole copy with te.ErrExternalRefTaken.
func (s *Store) CopyEntries(ctx context.Context, entries []te.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	_, err := s.Q(ctx).CopyFrom(ctx, pgx.Identifier{"time_entries"}, copyColumns,
		pgx.CopyFromSlice(len(entries), func(i int) ([]any, error) { return copyRow(entries[i]) }))
	if pg.IsUniqueViolation(err, externalRefConstraint) {
		return fmt.Errorf("%w: %w", te.ErrExternalRefTaken, err)
	}
	return err
}
