// Package billingtest builds billing for tests on real Postgres: the use cases wired as main
// wires them over a fresh database holding a USD legal entity, and, on demand, a
// time-and-materials contract with a project and the resources that book time on it. Tests of
// the use cases, the consumers and the store share it.
package billingtest

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pgtest"
	"github.com/accrue/accrue/services/billing/internal/app"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
	"github.com/accrue/accrue/services/billing/internal/store"
)

// Ids of the project WithProject creates and of the resources booking time on it.
const (
	Project   = "01a22200-0000-7000-8000-000000000001"
	TaskBill  = "01a22200-0000-7000-8000-000000000011" // billable, on contract line L1
	TaskPM    = "01a22200-0000-7000-8000-000000000012" // not billable
	Consult   = "01a22200-0000-7000-8000-000000000021" // cost 20.00/h, role CONSULTANT
	Architect = "01a22200-0000-7000-8000-000000000022" // cost 70.00/h, role ARCHITECT
	Newcomer  = "01a22200-0000-7000-8000-000000000023" // role CONSULTANT, no cost rate yet
	Manager   = "01a22200-0000-7000-8000-000000000024" // cost 60.00/h, role PM
	Customer  = "01a22200-0000-7000-8000-0000000000c1" // the customer of Terms
)

// Env is billing over a fresh database.
type Env struct {
	T     testing.TB
	Ctx   context.Context
	DB    *pgtest.DB
	Store *store.Store
	Queue *exceptions.Queue
	UC    *app.Service
	// LE is the legal entity US01 (USD) every Env starts with.
	LE legalentity.LegalEntity
}

// Wire returns the store and use cases over pool, the way main wires them.
func Wire(pool *pgxpool.Pool) (*store.Store, *exceptions.Queue, *app.Service) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	queue := exceptions.NewQueue(pool, log)
	st := store.New(pool, outbox.Writer{Producer: "billing"}, queue)
	return st, queue, app.New(st, queue, log)
}

// New returns billing over a fresh database holding the legal entity US01 with policy.
func New(t testing.TB, policy legalentity.ClosedPeriodPolicy) *Env {
	t.Helper()
	e := &Env{T: t, Ctx: context.Background(), DB: pgtest.New(t, store.Migrations())}
	e.Store, e.Queue, e.UC = Wire(e.DB.Pool)
	le, _, err := e.UC.CreateLegalEntity(e.Ctx, legalentity.Details{Code: "US01", Name: "Accrue US", FunctionalCurrency: "USD",
		CountryCode: "US", Policy: policy})
	if err != nil {
		t.Fatal(err)
	}
	e.LE = le
	return e
}

// Terms is a USD time-and-materials contract of the legal entity for 2026: line L1 with card as
// its rate card and a 10 % expense markup.
func (e *Env) Terms(card ...contract.RateEntry) contract.Terms {
	return contract.Terms{CustomerID: Customer, LegalEntityID: e.LE.ID, Name: "ERP rollout", Currency: "USD",
		Start: Day("2026-01-01"), End: Day("2026-12-31"),
		Lines: []contract.Line{{Key: "L1", ServiceLine: "IMPLEMENTATION", Billing: contract.TimeAndMaterials, Revenue: contract.AsDelivered,
			Amount: USD("100000.00"), RateCard: card, ExpenseMarkup: &tenPercent}}}
}

var tenPercent = decimal.NewFromInt(10)

// StandardCard bills consultants 50.00 and architects 90.00 an hour from 2026-01-01.
func StandardCard() []contract.RateEntry {
	return []contract.RateEntry{Rate("CONSULTANT", "50.00", "2026-01-01", ""), Rate("ARCHITECT", "90.00", "2026-01-01", "")}
}

// WithProject creates the contract of terms (external id O1) and Project on it, and gives the
// resources their cost rates and roles (see the ids).
func (e *Env) WithProject(terms contract.Terms) contract.Contract {
	e.T.Helper()
	c, _, err := e.UC.UpsertContract(e.Ctx, contract.ExternalRef{System: "crm", ObjectType: "Opportunity", ExternalID: "O1"}, 1, terms, false)
	if err != nil {
		e.T.Fatal(err)
	}
	p := ledger.Project{ID: Project, LegalEntityID: e.LE.ID, ContractID: c.ID,
		Tasks: map[string]ledger.Task{TaskBill: {Billable: true, LineKey: "L1"}, TaskPM: {Billable: false, LineKey: "L1"}}}
	if err := e.UC.ApplyProject(e.Ctx, p, "PROJECT_STATUS_ACTIVE", 2); err != nil {
		e.T.Fatal(err)
	}
	for id, r := range map[string][2]string{Consult: {"CONSULTANT", "20.00"}, Architect: {"ARCHITECT", "70.00"}, Manager: {"PM", "60.00"}} {
		if err := e.UC.ApplyCostRates(e.Ctx, id, r[0], 1, []ledger.CostRate{{Rate: USD(r[1]), From: Day("2026-01-01")}}); err != nil {
			e.T.Fatal(err)
		}
	}
	if err := e.UC.SetRole(e.Ctx, Newcomer, "CONSULTANT"); err != nil {
		e.T.Fatal(err)
	}
	return c
}

// OpenParked counts the open exceptions of parked postings.
func (e *Env) OpenParked() int64 {
	e.T.Helper()
	n, err := e.Queue.CountOpen(e.Ctx, app.KindParked, "")
	if err != nil {
		e.T.Fatal(err)
	}
	return n
}

// Scalar runs a query returning one value.
func Scalar[T any](e *Env, sql string, args ...any) T {
	e.T.Helper()
	var v T
	if err := e.DB.Pool.QueryRow(e.Ctx, sql, args...).Scan(&v); err != nil {
		e.T.Fatalf("%s: %v", sql, err)
	}
	return v
}

// Rate is a rate-card entry from `from` through `to` ("": open-ended).
func Rate(role, amount, from, to string) contract.RateEntry {
	r := contract.RateEntry{Role: role, Rate: USD(amount), From: Day(from)}
	if to != "" {
		r.To = Day(to)
	}
	return r
}

// USD and EUR are amounts.
func USD(s string) money.Amount {
	return money.Amount{Value: decimal.RequireFromString(s), Currency: "USD"}
}

func EUR(s string) money.Amount {
	return money.Amount{Value: decimal.RequireFromString(s), Currency: "EUR"}
}

// Day parses a "YYYY-MM-DD" date.
func Day(s string) civil.Date {
	d, err := civil.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}
