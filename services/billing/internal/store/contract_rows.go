package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/contract"
)

// contractRow is how a contract version is kept in contract_versions.snapshot: JSON of this
// package's own format (changing it needs a migration of the stored rows, not a new proto).
// Amounts and rates keep their decimals as written; dates are "YYYY-MM-DD", "" when unset.
type contractRow struct {
	ID            string    `json:"id"`
	Version       int64     `json:"version"`
	CustomerID    string    `json:"customer_id"`
	LegalEntityID string    `json:"legal_entity_id"`
	Name          string    `json:"name"`
	Currency      string    `json:"currency"`
	Start         string    `json:"start"`
	End           string    `json:"end"`
	Lines         []lineRow `json:"lines"`
	PaymentTerms  string    `json:"payment_terms,omitempty"`
	LineGrouping  string    `json:"line_grouping,omitempty"`
	RefSystem     string    `json:"ref_system"`
	RefObjectType string    `json:"ref_object_type"`
	RefID         string    `json:"ref_id"`
	SourceVersion int64     `json:"source_version"`
	ChangeReason  string    `json:"change_reason"`
	CreatedAt     time.Time `json:"created_at"`
	VersionAt     time.Time `json:"version_at"`
}

type lineRow struct {
	Key           string           `json:"key"`
	ServiceLine   string           `json:"service_line"`
	Description   string           `json:"description"`
	Billing       string           `json:"billing"`
	Amount        amountRow        `json:"amount"`
	NotToExceed   *amountRow       `json:"not_to_exceed,omitempty"`
	RateCard      []rateRow        `json:"rate_card,omitempty"`
	Revenue       string           `json:"revenue"`
	ServiceStart  string           `json:"service_start"`
	ServiceEnd    string           `json:"service_end"`
	Milestones    []milestoneRow   `json:"milestones,omitempty"`
	ExpenseMarkup *decimal.Decimal `json:"expense_markup,omitempty"`
	Schedule      []scheduleRow    `json:"billing_schedule,omitempty"`
}

type scheduleRow struct {
	Date   string    `json:"date"`
	Amount amountRow `json:"amount"`
}

type amountRow struct {
	Value    decimal.Decimal `json:"value"`
	Currency string          `json:"currency"`
}

type rateRow struct {
	Role string    `json:"role"`
	Rate amountRow `json:"rate"`
	From string    `json:"from"`
	To   string    `json:"to"`
}

type milestoneRow struct {
	Key    string    `json:"key"`
	Name   string    `json:"name"`
	Amount amountRow `json:"amount"`
	Due    string    `json:"due"`
}

func encodeContract(c contract.Contract) ([]byte, error) {
	r := contractRow{ID: c.ID, Version: c.Version, CustomerID: c.CustomerID, LegalEntityID: c.LegalEntityID, Name: c.Name,
		Currency: c.Currency, Start: dateText(c.Start), End: dateText(c.End), RefSystem: c.Ref.System, RefObjectType: c.Ref.ObjectType,
		RefID: c.Ref.ExternalID, SourceVersion: c.SourceVersion, ChangeReason: c.ChangeReason, CreatedAt: c.CreatedAt, VersionAt: c.VersionAt,
		PaymentTerms: c.PaymentTermsCode, LineGrouping: string(c.LineGrouping)}
	for _, l := range c.Lines {
		lr := lineRow{Key: l.Key, ServiceLine: l.ServiceLine, Description: l.Description, Billing: string(l.Billing),
			Amount: amountOf(l.Amount), Revenue: string(l.Revenue), ServiceStart: dateText(l.ServiceStart), ServiceEnd: dateText(l.ServiceEnd),
			ExpenseMarkup: l.ExpenseMarkup}
		if l.NotToExceed != nil {
			nte := amountOf(*l.NotToExceed)
			lr.NotToExceed = &nte
		}
		for _, e := range l.RateCard {
			lr.RateCard = append(lr.RateCard, rateRow{Role: e.Role, Rate: amountOf(e.Rate), From: dateText(e.From), To: dateText(e.To)})
		}
		for _, m := range l.Milestones {
			lr.Milestones = append(lr.Milestones, milestoneRow{Key: m.Key, Name: m.Name, Amount: amountOf(m.Amount), Due: dateText(m.Due)})
		}
		for _, e := range l.Schedule {
			lr.Schedule = append(lr.Schedule, scheduleRow{Date: dateText(e.Date), Amount: amountOf(e.Amount)})
		}
		r.Lines = append(r.Lines, lr)
	}
	return json.Marshal(r)
}

func decodeContract(b []byte) (contract.Contract, error) {
	if !isContractRow(b) {
		return contract.Contract{}, errors.New("store: a contract snapshot in the old protobuf format; the service converts them at start")
	}
	var r contractRow
	if err := json.Unmarshal(b, &r); err != nil {
		return contract.Contract{}, fmt.Errorf("store: contract snapshot: %w", err)
	}
	var p dateParser
	c := contract.Contract{ID: r.ID, Version: r.Version, Terms: contract.Terms{CustomerID: r.CustomerID, LegalEntityID: r.LegalEntityID,
		Name: r.Name, Currency: r.Currency, Start: p.date(r.Start), End: p.date(r.End), PaymentTermsCode: r.PaymentTerms,
		LineGrouping: contract.LineGrouping(r.LineGrouping)},
		Ref:           contract.ExternalRef{System: r.RefSystem, ObjectType: r.RefObjectType, ExternalID: r.RefID},
		SourceVersion: r.SourceVersion, ChangeReason: r.ChangeReason, CreatedAt: r.CreatedAt.UTC(), VersionAt: r.VersionAt.UTC()}
	for _, lr := range r.Lines {
		l := contract.Line{Key: lr.Key, ServiceLine: lr.ServiceLine, Description: lr.Description, Billing: contract.BillingMethod(lr.Billing),
			Amount: lr.Amount.amount(), Revenue: contract.RevenueMethod(lr.Revenue), ServiceStart: p.date(lr.ServiceStart),
			ServiceEnd: p.date(lr.ServiceEnd), ExpenseMarkup: lr.ExpenseMarkup}
		if lr.NotToExceed != nil {
			nte := lr.NotToExceed.amount()
			l.NotToExceed = &nte
		}
		for _, e := range lr.RateCard {
			l.RateCard = append(l.RateCard, contract.RateEntry{Role: e.Role, Rate: e.Rate.amount(), From: p.date(e.From), To: p.date(e.To)})
		}
		for _, m := range lr.Milestones {
			l.Milestones = append(l.Milestones, contract.Milestone{Key: m.Key, Name: m.Name, Amount: m.Amount.amount(), Due: p.date(m.Due)})
		}
		for _, e := range lr.Schedule {
			l.Schedule = append(l.Schedule, contract.ScheduleEntry{Date: p.date(e.Date), Amount: e.Amount.amount()})
		}
		c.Lines = append(c.Lines, l)
	}
	return c, p.err
}

// isContractRow tells this format (a JSON object) from the protobuf snapshots written before it,
// which never start with '{'.
func isContractRow(b []byte) bool { return len(b) > 0 && b[0] == '{' }

func amountOf(a money.Amount) amountRow { return amountRow{Value: a.Value, Currency: a.Currency} }

func (a amountRow) amount() money.Amount { return money.Amount{Value: a.Value, Currency: a.Currency} }

func dateText(d civil.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

// dateParser parses row dates, keeping the first error.
type dateParser struct{ err error }

func (p *dateParser) date(s string) civil.Date {
	if s == "" {
		return civil.Date{}
	}
	d, err := civil.Parse(s)
	if err != nil && p.err == nil {
		p.err = fmt.Errorf("store: contract snapshot date %q: %w", s, err)
	}
	return d
}

// ConvertLegacySnapshots rewrites the contract versions still kept in the format before this
// one (the public proto, which this package no longer reads) into contractRow, decoding each
// with decode, in one transaction. It returns how many it converted; run at start, it finds none
// once they are converted.
func (s *Store) ConvertLegacySnapshots(ctx context.Context, decode func([]byte) (contract.Contract, error)) (int, error) {
	n := 0
	err := s.InTx(ctx, func(ctx context.Context) error {
		q := s.Q(ctx)
		rows, err := q.Query(ctx, `SELECT contract_id::text, version, snapshot FROM contract_versions
			WHERE get_byte(snapshot, 0) <> ascii('{') FOR UPDATE`)
		if err != nil {
			return err
		}
		type legacy struct {
			id      string
			version int64
			snap    []byte
		}
		old, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (legacy, error) {
			var l legacy
			return l, r.Scan(&l.id, &l.version, &l.snap)
		})
		if err != nil {
			return err
		}
		for _, l := range old {
			c, err := decode(l.snap)
			if err != nil {
				return fmt.Errorf("store: contract %s version %d: %w", l.id, l.version, err)
			}
			snap, err := encodeContract(c)
			if err != nil {
				return err
			}
			if _, err := q.Exec(ctx, `UPDATE contract_versions SET snapshot = $3 WHERE contract_id = $1 AND version = $2`,
				l.id, l.version, snap); err != nil {
				return err
			}
		}
		n = len(old)
		return nil
	})
	return n, err
}
