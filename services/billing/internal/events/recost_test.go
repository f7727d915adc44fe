package events_test

import (
	"context"
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/services/billing/internal/app"
	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/events"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
)

// rates is the envelope of a cost_rate.changed event of the newcomer at version v: each rate is
// "amount from to" (to "" open-ended).
func rates(t testing.TB, v int64, periods ...[3]string) *commonv1.EventEnvelope {
	var current []*resourcev1.CostRate
	for _, p := range periods {
		r := &resourcev1.CostRate{Rate: &commonv1.Money{Amount: p[0], CurrencyCode: "USD"}, EffectiveFrom: date(p[1])}
		if p[2] != "" {
			r.EffectiveTo = date(p[2])
		}
		current = append(current, r)
	}
	return envelope(t, resourcev1.EventTypeCostRateChanged, &resourcev1.CostRateChanged{ResourceId: newcomer, RatesVersion: v,
		Role: "CONSULTANT", Current: current})
}

func date(s string) *commonv1.Date {
	d := billingtest.Day(s)
	return &commonv1.Date{Year: int32(d.Year), Month: int32(d.Month), Day: int32(d.Day)}
}

// adjustments returns the cost adjustments published in postings.recorded, as "source_id cost".
func adjustments(t *testing.T, f *billingtest.Env) []string {
	t.Helper()
	rows, err := f.DB.Pool.Query(context.Background(), `SELECT envelope FROM outbox WHERE event_type = $1 ORDER BY id`, billingv1.EventTypePostingsRecorded)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		var env commonv1.EventEnvelope
		var ev billingv1.PostingsRecorded
		if err := proto.Unmarshal(b, &env); err != nil {
			t.Fatal(err)
		}
		if err := env.GetPayload().UnmarshalTo(&ev); err != nil {
			t.Fatal(err)
		}
		for _, r := range ev.GetResults() {
			if r.GetSourceType() == "cost_adjustment" {
				out = append(out, fmt.Sprintf("%s %s %s %s h=%s", r.GetSourceId(), r.GetOutcome(), r.GetCost().GetAmount(), r.GetCost().GetCurrencyCode(), r.GetHours()))
			}
		}
	}
	return out
}

// trialBalanceZero fails unless every journal line sums to zero.
func trialBalanceZero(t *testing.T, f *billingtest.Env) {
	t.Helper()
	if got := billingtest.Scalar[string](f, `SELECT (sum(debit) - sum(credit))::text FROM journal_lines`); got != "0" && got != "0.00" {
		t.Fatalf("trial balance debits − credits = %s, want 0", got)
	}
}

// 7.25 h posted at 61.30 (444.43); the rate becomes 70.00 from the 1st of the month, back-dated
// over the posted time: a delta adjustment of +63.07 brings labor cost to 507.50, the original
// untouched; redelivering the change posts nothing more.
func TestBackDatedCostRatePostsADelta(t *testing.T) {
	t.Parallel()
	f := setup(t, legalentity.Reject)
	apply(t, f, events.Resources(f.UC), rates(t, 1, [3]string{"61.30", "2026-01-01", ""}))
	apply(t, f, events.Postings(f.UC), approved(t, entry("T-60", newcomer, taskBill, "2026-06-10", "7.25", true)))
	if got := account(f, "5000"); got != "444.43" {
		t.Fatalf("labor cost = %s, want 444.43", got)
	}
	change := rates(t, 2, [3]string{"61.30", "2026-01-01", "2026-05-31"}, [3]string{"70.00", "2026-06-01", ""})
	apply(t, f, events.Resources(f.UC), change)
	if got := account(f, "5000"); got != "507.50" {
		t.Fatalf("labor cost after the change = %s, want 507.50", got)
	}
	if got := account(f, "2150"); got != "-507.50" {
		t.Fatalf("labor cost clearing = %s, want -507.50", got)
	}
	trialBalanceZero(t, f)
	if got := billingtest.Scalar[string](f, `SELECT string_agg(l.account_code || ' ' || l.debit::text || '/' || l.credit::text || ' ' || e.posting_date::text, ', ' ORDER BY l.line_no)
		FROM journal_entries e JOIN journal_lines l ON l.entry_id = e.id WHERE e.source_type = 'cost_adjustment' AND e.source_id = 'T-60' AND e.source_version = 2`); got != "5000 63.07/0 2026-06-10, 2150 0/63.07 2026-06-10" {
		t.Fatalf("adjustment lines = %q", got)
	}
	if got := billingtest.Scalar[string](f, `SELECT l.debit::text FROM journal_entries e JOIN journal_lines l ON l.entry_id = e.id
		WHERE e.source_type = 'time_entry' AND e.source_id = 'T-60' AND l.account_code = '5000'`); got != "444.43" {
		t.Fatalf("original labor line = %s, want it untouched at 444.43", got)
	}
	if got := adjustments(t, f); len(got) != 1 || got[0] != "T-60 POSTING_OUTCOME_POSTED 63.07 USD h=0" {
		t.Fatalf("published adjustments = %v, want one of +63.07 with zero hours", got)
	}
	if n := billingtest.Scalar[int](f, `SELECT count(*) FROM audit_log WHERE action = 'posting.cost_adjusted' AND entity_id = 'T-60' AND details->>'rates_version' = '2' AND details->>'resource_id' = $1`, newcomer); n != 1 {
		t.Fatalf("audit records of the adjustment = %d, want 1", n)
	}

	apply(t, f, events.Resources(f.UC), change) // redelivered
	if n := billingtest.Scalar[int](f, `SELECT count(*) FROM journal_entries WHERE source_type = 'cost_adjustment'`); n != 1 {
		t.Fatalf("adjustments after redelivery = %d, want 1", n)
	}
	if got := account(f, "5000"); got != "507.50" {
		t.Fatalf("labor cost after redelivery = %s", got)
	}

	// A decrease re-costs from what is posted now (444.43 + 63.07): −36.25 to 65.00.
	apply(t, f, events.Resources(f.UC), rates(t, 3, [3]string{"61.30", "2026-01-01", "2026-05-31"}, [3]string{"65.00", "2026-06-01", ""}))
	if got := account(f, "5000"); got != "471.25" {
		t.Fatalf("labor cost after the decrease = %s, want 471.25", got)
	}
	if got := adjustments(t, f); len(got) != 2 || got[1] != "T-60 POSTING_OUTCOME_POSTED -36.25 USD h=0" {
		t.Fatalf("published adjustments = %v, want a second of -36.25", got)
	}
	trialBalanceZero(t, f)
}

// A change that does not cover the work date (a new rate from July) re-costs nothing.
func TestCostRateChangeOutsideTheWorkDateChangesNothing(t *testing.T) {
	t.Parallel()
	f := setup(t, legalentity.Reject)
	apply(t, f, events.Resources(f.UC), rates(t, 1, [3]string{"61.30", "2026-01-01", ""}))
	apply(t, f, events.Postings(f.UC), approved(t, entry("T-61", newcomer, taskBill, "2026-06-10", "7.25", true)))
	apply(t, f, events.Resources(f.UC), rates(t, 2, [3]string{"61.30", "2026-01-01", "2026-06-30"}, [3]string{"70.00", "2026-07-01", ""}))
	if n := billingtest.Scalar[int](f, `SELECT count(*) FROM journal_entries WHERE source_type = 'cost_adjustment'`); n != 0 {
		t.Fatalf("adjustments = %d, want none", n)
	}
	if got := account(f, "5000"); got != "444.43" {
		t.Fatalf("labor cost = %s, want 444.43", got)
	}
}

// The posted time's period closed: ROLL_FORWARD dates the delta on the first day of the first
// open period; REJECT posts nothing and lists the entry in an exception.
func TestCostAdjustmentInAClosedPeriod(t *testing.T) {
	for _, c := range []struct {
		policy      legalentity.ClosedPeriodPolicy
		cost, dated string
	}{{legalentity.RollForward, "507.50", "2026-07-01"}, {legalentity.Reject, "444.43", ""}} {
		t.Run(string(c.policy), func(t *testing.T) {
			t.Parallel()
			f := setup(t, c.policy)
			ctx := context.Background()
			apply(t, f, events.Resources(f.UC), rates(t, 1, [3]string{"61.30", "2026-01-01", ""}))
			apply(t, f, events.Postings(f.UC), approved(t, entry("T-62", newcomer, taskBill, "2026-06-10", "7.25", true)))
			if _, err := f.UC.SetPeriod(ctx, f.LE.ID, "2026-06", true); err != nil {
				t.Fatal(err)
			}
			apply(t, f, events.Resources(f.UC), rates(t, 2, [3]string{"70.00", "2026-06-01", ""}))
			if got := account(f, "5000"); got != c.cost {
				t.Fatalf("labor cost = %s, want %s", got, c.cost)
			}
			trialBalanceZero(t, f)
			if c.dated != "" {
				if got := billingtest.Scalar[string](f, `SELECT posting_date::text || ' ' || source_date::text || ' ' || source_id FROM journal_entries WHERE source_type = 'cost_adjustment'`); got != c.dated+" 2026-06-10 T-62" {
					t.Fatalf("adjustment dated %q, want posting %s for T-62 of 2026-06-10", got, c.dated)
				}
				return
			}
			open, err := f.Queue.CountOpen(ctx, app.KindRecostRejected, "PERIOD_CLOSED")
			if err != nil || open != 1 {
				t.Fatalf("open re-cost exceptions = %d (%v), want 1", open, err)
			}
		})
	}
}

// The race of issue 11: approval posted at the old rate because the replica had not yet received
// the new one; the change arriving afterwards corrects it, every time.
func TestApprovalBeforeTheRateChangeIsCorrected(t *testing.T) {
	t.Parallel()
	f := setup(t, legalentity.Reject)
	apply(t, f, events.Resources(f.UC), rates(t, 1, [3]string{"61.30", "2026-01-01", ""}))
	for i := 0; i < 20; i++ {
		id := fmt.Sprintf("T-R%02d", i)
		v := int64(2 + 2*i)
		apply(t, f, events.Postings(f.UC), approved(t, entry(id, newcomer, taskBill, "2026-06-10", "7.25", true))) // reads 61.30
		apply(t, f, events.Resources(f.UC), rates(t, v, [3]string{"61.30", "2026-01-01", "2026-05-31"}, [3]string{"70.00", "2026-06-01", ""}))
		if got := billingtest.Scalar[string](f, `SELECT sum(l.debit - l.credit)::text FROM journal_entries e JOIN journal_lines l ON l.entry_id = e.id
			WHERE e.source_id = $1 AND l.account_code = '5000'`, id); got != "507.50" {
			t.Fatalf("try %d: %s costs %s, want 507.50 at the new rate", i, id, got)
		}
		if got := billingtest.Scalar[string](f, `SELECT l.debit::text FROM journal_entries e JOIN journal_lines l ON l.entry_id = e.id
			WHERE e.source_type = 'cost_adjustment' AND e.source_id = $1 AND l.account_code = '5000'`, id); got != "63.07" {
			t.Fatalf("try %d: delta %s, want 63.07", i, got)
		}
		// Back to the old rate for the next try (which re-costs what was posted so far).
		apply(t, f, events.Resources(f.UC), rates(t, v+1, [3]string{"61.30", "2026-01-01", ""}))
	}
	trialBalanceZero(t, f)
	if got := account(f, "5000"); got != "8888.60" { // 20 × 7.25 × 61.30 rounded per entry (444.43)
		t.Fatalf("labor cost after the rates went back = %s, want 8888.60", got)
	}
}

// A re-costed entry's reversal reverses the cost as it stands (original and delta), and a
// reversed entry is not re-costed again.
func TestReversalOfARecostedEntryReversesTheDelta(t *testing.T) {
	t.Parallel()
	f := setup(t, legalentity.Reject)
	apply(t, f, events.Resources(f.UC), rates(t, 1, [3]string{"61.30", "2026-01-01", ""}))
	apply(t, f, events.Postings(f.UC), approved(t, entry("T-63", newcomer, taskBill, "2026-06-10", "7.25", true)))
	apply(t, f, events.Resources(f.UC), rates(t, 2, [3]string{"70.00", "2026-01-01", ""}))
	rev := entry("T-63-R", newcomer, taskBill, "2026-06-10", "-7.25", true)
	rev.ReversesEntryId = "T-63"
	apply(t, f, events.Postings(f.UC), envelope(t, timeexpensev1.EventTypeTimeEntriesReversed, &timeexpensev1.EntriesReversed{Entries: []*timeexpensev1.TimeEntry{rev}}))
	if got := account(f, "5000"); got != "0.00" {
		t.Fatalf("labor cost after the reversal = %s, want 0.00 (444.43 + 63.07 reversed)", got)
	}
	apply(t, f, events.Resources(f.UC), rates(t, 3, [3]string{"80.00", "2026-01-01", ""}))
	if got := account(f, "5000"); got != "0.00" {
		t.Fatalf("labor cost after a later change = %s, want 0.00: a reversed entry is not re-costed", got)
	}
	trialBalanceZero(t, f)
}
