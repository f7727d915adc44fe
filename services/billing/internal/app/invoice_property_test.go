package app_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/invoice"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
)

// Whatever the sequence of deliveries, proposals, postings, voids and partial credit notes, once
// everything left is invoiced every delivered hour is billed exactly once net: per candidate,
// posted invoice lines less credit-note lines equal its hours and amount, the receivable equals
// the delivered amount and WIP is empty. It holds on contracts that group their lines (per
// resource, role or task) too: a partial credit of a grouped line returns its latest entries.
// On an EUR contract of the USD legal entity, with a rate that changes every week, WIP still ends
// at 0.00 (every candidate relieves exactly its carrying amount, whatever credit notes and
// re-invoicing did in between), the receivable and FX together equal the WIP the work booked,
// and the aging ties to the receivable account.
func TestEveryDeliveredHourIsBilledOnceNet(t *testing.T) {
	runs := []struct {
		seed     uint64
		grouping contract.LineGrouping
		foreign  bool
	}{{1, contract.PerEntry, false}, {2, contract.PerEntry, false}, {3, contract.PerEntry, false}, {4, contract.PerResource, false},
		{5, contract.PerRole, false}, {6, contract.PerTask, false}, {7, contract.PerEntry, true}, {8, contract.PerResource, true}}
	for _, run := range runs {
		seed := run.seed
		name := fmt.Sprint("seed ", seed, " ", run.grouping)
		if run.foreign {
			name += " EUR"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, legalentity.Reject)
			rng := rand.New(rand.NewPCG(seed, 14))
			terms := e.Terms(billingtest.StandardCard()...)
			if run.foreign {
				terms = e.eurTerms("50.00")
				terms.Lines[0].RateCard = append(terms.Lines[0].RateCard,
					contract.RateEntry{Role: "ARCHITECT", Rate: billingtest.EUR("90.00"), From: billingtest.Day("2026-01-01")})
				for d := billingtest.Day("2026-03-01"); d.Before(billingtest.Day("2026-07-01")); d = d.AddDays(7) {
					e.rates(d.String(), decimal.NewFromInt(int64(10500+rng.IntN(2000))).Div(decimal.NewFromInt(10000)).String())
				}
			}
			terms.LineGrouping = run.grouping
			c := e.WithProject(terms)
			var drafts, posted []invoice.Invoice
			day, n := billingtest.Day("2026-03-02"), 0
			issue := func() civil.Date { day = day.AddDays(1); return day }
			for step := 0; step < 40; step++ {
				switch op := rng.IntN(6); {
				case op <= 1: // deliver
					n++
					who := []string{billingtest.Consult, billingtest.Architect}[rng.IntN(2)]
					h := decimal.NewFromInt(int64(1 + rng.IntN(40))).Div(decimal.NewFromInt(4))
					e.post(hours(fmt.Sprintf("T-%d", n), who, billingtest.TaskBill, issue().String(), h.String()))
					if rng.IntN(3) == 0 { // same day, same resource: grouped contracts merge them
						n++
						e.post(hours(fmt.Sprintf("T-%d", n), who, billingtest.TaskBill, day.String(), "0.75"))
					}
				case op == 2: // propose, up to today or a few days back
					inv, err := e.UC.ProposeInvoice(e.Ctx, c.ID, day.AddDays(-rng.IntN(4)))
					if err == nil {
						drafts = append(drafts, inv)
					} else if !errors.Is(err, invoice.ErrNothingToBill) {
						t.Fatal(err)
					}
				case op == 3 && len(drafts) > 0: // post or void a draft
					i := rng.IntN(len(drafts))
					if rng.IntN(3) == 0 {
						if _, err := e.UC.VoidInvoice(e.Ctx, drafts[i].ID); err != nil {
							t.Fatal(err)
						}
					} else {
						posted = append(posted, e.postInvoice(drafts[i].ID, issue().String()))
					}
					drafts = append(drafts[:i], drafts[i+1:]...)
				case op >= 4 && len(posted) > 0: // credit part of a line, or a whole invoice
					inv := posted[rng.IntN(len(posted))]
					var req []invoice.CreditRequest
					if rng.IntN(3) > 0 {
						l := inv.Lines[rng.IntN(len(inv.Lines))]
						req = []invoice.CreditRequest{{LineNo: l.No, Quantity: decimal.NewFromInt(int64(1 + rng.IntN(8))).Div(decimal.NewFromInt(4))}}
					}
					if _, err := e.UC.CreditInvoice(e.Ctx, inv.ID, req, issue()); err != nil && !errors.Is(err, invoice.ErrOverCredit) {
						t.Fatal(err)
					}
				}
			}
			for _, d := range drafts {
				e.postInvoice(d.ID, issue().String())
			}
			if inv, err := e.UC.ProposeInvoice(e.Ctx, c.ID, civil.Date{}); err == nil {
				e.postInvoice(inv.ID, issue().String())
			} else if !errors.Is(err, invoice.ErrNothingToBill) {
				t.Fatal(err)
			}
			off := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM invoice_candidates c
				LEFT JOIN LATERAL (SELECT COALESCE(sum(l.quantity), 0) AS q, COALESCE(sum(l.amount), 0) AS a FROM invoice_lines l
					JOIN invoices i ON i.id = l.invoice_id WHERE l.candidate_id = c.id AND i.status = 'POSTED') b ON true
				WHERE c.quantity <> b.q OR c.amount <> b.a`)
			t.Logf("%d entries, %d invoices, %d credit notes, %d voided drafts", n,
				billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM invoices WHERE kind = 'INVOICE' AND status = 'POSTED'`),
				billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM invoices WHERE kind = 'CREDIT_NOTE'`),
				billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM invoices WHERE status = 'VOID'`))
			if run.foreign {
				// The receivable less the net FX gain is the WIP the work carried.
				carried := billingtest.Scalar[string](e.Env, `SELECT COALESCE(sum(wip_amount), 0)::numeric(14,2)::text FROM invoice_candidates`)
				ar, wip := e.balance(ledger.AccountsReceivable), e.balance(ledger.UnbilledReceivables)
				fx := dec(e.balance(ledger.RealizedFXGain)).Add(dec(e.balance(ledger.RealizedFXLoss)))
				if off != 0 || wip != "0.00" || dec(ar).Add(fx).StringFixed(2) != carried {
					t.Fatalf("%d of %d candidates not billed once net; WIP %s, receivable %s + FX %s; want 0, 0.00, %s", off, n, wip, ar, fx, carried)
				}
				e.wantAgingTiesOut(day.String(), ar)
				return
			}
			delivered := billingtest.Scalar[string](e.Env, `SELECT COALESCE(sum(amount), 0)::numeric(14,2)::text FROM invoice_candidates`)
			if ar, wip := e.balance(ledger.AccountsReceivable), e.balance(ledger.UnbilledReceivables); off != 0 || ar != delivered || wip != "0.00" {
				t.Fatalf("%d of %d candidates not billed once net; receivable %s, WIP %s; want 0, %s, 0.00", off, n, ar, wip, delivered)
			}
		})
	}
}
