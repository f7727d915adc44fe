package pg

import (
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/shopspring/decimal"
)

// Bulk writes (COPY) encode every value of every row: pass values pgx encodes natively, not
// through database/sql Valuers (a decimal.Decimal as a Valuer costs a failed plan and an
// error per value, which dominated the posting pipeline's CPU).

// Numeric returns d as a pgx numeric.
func Numeric(d decimal.Decimal) pgtype.Numeric {
	return pgtype.Numeric{Int: d.Coefficient(), Exp: d.Exponent(), Valid: true}
}

// NullNumeric returns *d as a pgx numeric, NULL when d is nil.
func NullNumeric(d *decimal.Decimal) pgtype.Numeric {
	if d == nil {
		return pgtype.Numeric{}
	}
	return Numeric(*d)
}

// UUID returns s as a pgx uuid, NULL when s is empty or not a UUID.
func UUID(s string) pgtype.UUID {
	u, err := uuid.Parse(s)
	if err != nil {
		return pgtype.UUID{}
	}
	return pgtype.UUID{Bytes: u, Valid: true}
}
