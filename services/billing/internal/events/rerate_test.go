package events_test

import (
	"context"
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/events"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
)

var o1 = contract.ExternalRef{System: "crm", ObjectType: "Opportunity", ExternalID: "O1"}

// consultant50 is the standard consultant rate (50.00 from 2026-01-01).
var consultant50 = billingtest.Rate("CONSULTANT", "50.00", "2026-01-01", "")

// amend upserts contract O1 at sourceVersion with the rate card given.
func amend(t *testing.T, f *billingtest.Env, sourceVersion int64, card ...contract.RateEntry) (contract.Contract, contract.Outcome) {
	t.Helper()
	c, out, err := f.UC.UpsertContract(f.Ctx, o1, sourceVersion, f.Terms(card...), false)
	if err != nil {
		t.Fatal(err)
	}
	return c, out
}

// billAdjustments returns the bill adjustments published in postings.recorded, as "source_id
// outcome revenue h=hours".
func billAdjustments(t *testing.T, f *billingtest.Env) []string {
	t.Helper()
	rows, err := f.DB.Pool.Query(context.Background(), `SELECT envelope FROM outbox WHERE event_type = $1 ORDER BY id`, billingv1.EventTypePostingsRecorded)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var b []byte
		var env commonv1.EventEnvelope
		var ev billingv1.PostingsRecorded
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		if err := proto.Unmarshal(b, &env); err != nil {
			t.Fatal(err)
		}
		if err := env.GetPayload().UnmarshalTo(&ev); err != nil {
			t.Fatal(err)
		}
		for _, r := range ev.GetResults() {
			if r.GetSourceType() == ledger.SourceBillAdjustment {
				out = append(out, fmt.Sprintf("%s %s %s %s h=%s", r.GetSourceId(), r.GetOutcome(), r.GetRevenue().GetAmount(),
					r.GetRevenue().GetCurrencyCode(), r.GetHours()))
			}
		}
	}
	return out
}

// candidate returns an entry's candidate as "status quantity × unit_price = amount".
func candidate(f *billingtest.Env, sourceID string) string {
	return billingtest.Scalar[string](f, `SELECT status || ' ' || quantity::text || ' × ' || unit_price::numeric(18,2)::text || ' = ' || amount::numeric(18,2)::text
		FROM invoice_candidates WHERE source_id = $1`, sourceID)
}

// wipOf is the WIP an entry carries (original plus adjustments).
func wipOf(f *billingtest.Env, id string) string {
	return billingtest.Scalar[string](f, `SELECT COALESCE(sum(l.debit - l.credit), 0)::numeric(18,2)::text FROM journal_entries e
		JOIN journal_lines l ON l.entry_id = e.id WHERE e.source_id = $1 AND l.account_code = '1200'`, id)
}

// 10.5 h of an architect posted at 90.00 (945.00); the contract's architect rate becomes 100.00
// over the work date: the open candidate is re-rated to 1,050.00 by a WIP delta of +105.00 on the
// work date (the original untouched), audited with the contract version; the consultant's time,
// whose rate did not change, is not touched; the same amendment again re-rates nothing more.
func TestBillRateChangeReratesOpenCandidates(t *testing.T) {
	t.Parallel()
	f := setup(t, legalentity.Reject)
	apply(t, f, events.Postings(f.UC), approved(t, entry("B-1", architect, taskBill, "2026-06-10", "10.5", true),
		entry("B-2", consult, taskBill, "2026-06-10", "8", true)))
	if got := candidate(f, "B-1"); got != "OPEN 10.5 × 90.00 = 945.00" {
		t.Fatalf("candidate before = %q", got)
	}
	c, out := amend(t, f, 2, consultant50, billingtest.Rate("ARCHITECT", "100.00", "2026-01-01", ""))
	if out != contract.Amended || c.Version != 2 {
		t.Fatalf("amendment: outcome %d version %d", out, c.Version)
	}
	if got := candidate(f, "B-1"); got != "OPEN 10.5 × 100.00 = 1050.00" {
		t.Fatalf("candidate after = %q, want 10.5 × 100.00 = 1050.00", got)
	}
	if got := wipOf(f, "B-1"); got != "1050.00" {
		t.Fatalf("WIP of B-1 = %s, want 1050.00", got)
	}
	if got := account(f, "1200"); got != "1450.00" { // 1,050.00 + 8 × 50.00
		t.Fatalf("WIP = %s, want 1450.00", got)
	}
	if got := account(f, "4000"); got != "-1450.00" {
		t.Fatalf("service revenue = %s, want -1450.00", got)
	}
	trialBalanceZero(t, f)
	if got := billingtest.Scalar[string](f, `SELECT string_agg(l.account_code || ' ' || l.debit::text || '/' || l.credit::text || ' ' || e.posting_date::text, ', ' ORDER BY l.line_no)
		FROM journal_entries e JOIN journal_lines l ON l.entry_id = e.id WHERE e.source_type = 'bill_adjustment' AND e.source_id = 'B-1' AND e.source_version = 2`); got != "1200 105.00/0 2026-06-10, 4000 0/105.00 2026-06-10" {
		t.Fatalf("adjustment lines = %q", got)
	}
	if got := billingtest.Scalar[string](f, `SELECT l.debit::text FROM journal_entries e JOIN journal_lines l ON l.entry_id = e.id
		WHERE e.source_type = 'time_entry' AND e.source_id = 'B-1' AND l.account_code = '1200'`); got != "945.00" {
		t.Fatalf("original WIP line = %s, want it untouched at 945.00", got)
	}
	if got := candidate(f, "B-2"); got != "OPEN 8 × 50.00 = 400.00" {
		t.Fatalf("consultant candidate = %q, want it untouched", got)
	}
	if got := billAdjustments(t, f); len(got) != 1 || got[0] != "B-1 POSTING_OUTCOME_POSTED 105.00 USD h=0" {
		t.Fatalf("published bill adjustments = %v, want one of +105.00 with zero hours", got)
	}
	if n := billingtest.Scalar[int](f, `SELECT count(*) FROM audit_log WHERE action = 'posting.bill_rerated' AND entity_id = 'B-1'
		AND details->>'contract_version' = '2' AND details->>'contract_id' = $1 AND details->>'delta' = '105.00 USD'`, c.ID); n != 1 {
		t.Fatalf("audit records of the re-rate = %d, want 1", n)
	}
	k, err := f.UC.KPIs(f.Ctx)
	if err != nil || len(k.UnbilledTime) != 1 || k.UnbilledTime[0].String() != "1450.00 USD" {
		t.Fatalf("unbilled time = %v (%v), want 1450.00 USD", k.UnbilledTime, err)
	}

	// The same amendment again (a retried upsert, an amendment with the same terms) re-rates once.
	if _, out := amend(t, f, 2, consultant50, billingtest.Rate("ARCHITECT", "100.00", "2026-01-01", "")); out != contract.Unchanged {
		t.Fatalf("same amendment again: outcome %d, want Unchanged", out)
	}
	if _, err := f.UC.AmendContract(f.Ctx, c.ID, 2, "again", c.Terms); err != nil {
		t.Fatal(err)
	}
	if n := billingtest.Scalar[int](f, `SELECT count(*) FROM journal_entries WHERE source_type = 'bill_adjustment'`); n != 1 {
		t.Fatalf("bill adjustments after the same amendment again = %d, want 1", n)
	}
	if got := wipOf(f, "B-1"); got != "1050.00" {
		t.Fatalf("WIP of B-1 after the same amendment again = %s", got)
	}

	// An amendment that changes another line's terms (here the consultant's rate from July, after
	// every work date) re-rates nothing; one that brings the architect back to 90.00 re-rates
	// from what is posted now: −105.00.
	amend(t, f, 3, billingtest.Rate("CONSULTANT", "50.00", "2026-01-01", "2026-06-30"), billingtest.Rate("CONSULTANT", "55.00", "2026-07-01", ""),
		billingtest.Rate("ARCHITECT", "100.00", "2026-01-01", ""))
	if n := billingtest.Scalar[int](f, `SELECT count(*) FROM journal_entries WHERE source_type = 'bill_adjustment'`); n != 1 {
		t.Fatalf("bill adjustments after an amendment not covering the work dates = %d, want 1", n)
	}
	amend(t, f, 4, consultant50, billingtest.Rate("ARCHITECT", "90.00", "2026-01-01", ""))
	if got := candidate(f, "B-1"); got != "OPEN 10.5 × 90.00 = 945.00" {
		t.Fatalf("candidate back at 90.00 = %q", got)
	}
	if got := billAdjustments(t, f); len(got) != 2 || got[1] != "B-1 POSTING_OUTCOME_POSTED -105.00 USD h=0" {
		t.Fatalf("published bill adjustments = %v, want a second of -105.00", got)
	}
	trialBalanceZero(t, f)
}
