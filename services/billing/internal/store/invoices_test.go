package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/invoice"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
)

// The database, not the use case, keeps a candidate on one live invoice: writing a second draft
// of the same open candidate fails on the unique index (INVOICE_CANDIDATE_TAKEN), and voiding the
// first draft lets it through.
func TestOneLiveInvoicePerCandidateIsAConstraint(t *testing.T) {
	t.Parallel()
	e := billingtest.New(t, legalentity.Reject)
	c := e.WithProject(e.Terms(billingtest.StandardCard()...))
	if _, err := e.UC.PostBatch(e.Ctx, []ledger.Source{{Type: ledger.SourceTime, ID: "T-1", Version: 1, ResourceID: billingtest.Architect,
		ProjectID: billingtest.Project, TaskID: billingtest.TaskBill, Date: billingtest.Day("2026-06-10"), Hours: decimal.RequireFromString("10.5"),
		Billable: true}}); err != nil {
		t.Fatal(err)
	}
	open, err := e.Store.OpenCandidates(e.Ctx, c.ID, civil.Date{})
	if err != nil || len(open) != 1 || open[0].Amount.String() != "945.00 USD" {
		t.Fatalf("open candidates %+v (%v), want 945.00", open, err)
	}
	draft := func(id string) invoice.Invoice {
		lines, total, over := invoice.Propose("USD", open, nil, contract.PerEntry)
		return invoice.Invoice{ID: id, Kind: invoice.KindInvoice, ContractID: c.ID, LegalEntityID: e.LE.ID, CustomerID: c.CustomerID,
			Currency: "USD", Status: invoice.Draft, Lines: lines, Total: total, OverCap: over}
	}
	first, second := "01a22400-0000-7000-8000-0000000000a1", "01a22400-0000-7000-8000-0000000000a2"
	if err := e.Store.InsertInvoice(e.Ctx, draft(first)); err != nil {
		t.Fatal(err)
	}
	err = e.Store.InTx(e.Ctx, func(ctx context.Context) error { return e.Store.InsertInvoice(ctx, draft(second)) })
	if !errors.Is(err, invoice.ErrBusy) {
		t.Fatalf("second live draft of the candidate: %v, want INVOICE_CANDIDATE_TAKEN", err)
	}
	if err := e.Store.VoidInvoice(e.Ctx, first); err != nil {
		t.Fatal(err)
	}
	if err := e.Store.InsertInvoice(e.Ctx, draft(second)); err != nil {
		t.Fatalf("draft after the void: %v", err)
	}
}
