package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"google.golang.org/grpc"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/services/billing/internal/app"
	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
	"github.com/accrue/accrue/services/billing/internal/reconcile"
)

// approvedList answers ListApprovedEntries with fixed entries (time & expense's side).
type approvedList struct {
	timeexpensev1.TimeExpenseServiceClient
	entries []*timeexpensev1.ApprovedEntry
}

func (a approvedList) ListApprovedEntries(_ context.Context, req *timeexpensev1.ListApprovedEntriesRequest, _ ...grpc.CallOption) (*timeexpensev1.ListApprovedEntriesResponse, error) {
	resp := &timeexpensev1.ListApprovedEntriesResponse{}
	for _, e := range a.entries {
		if fmt.Sprintf("%04d-%02d", e.GetWorkDate().GetYear(), e.GetWorkDate().GetMonth()) == req.GetPeriod() {
			resp.Entries = append(resp.Entries, e)
		}
	}
	return resp, nil
}

// The scheduled run covers every open period: June, where 8 h are approved and posted and 4 h
// approved and never posted, is DRIFT with the unposted entry named and an open exception; July
// (open, nothing in it) is CLEAN. The latest run of June is what the close checklist reads.
func TestScheduledReconciliationCoversEveryOpenPeriod(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	e.WithProject(e.Terms(billingtest.StandardCard()...))
	for _, p := range []string{"2026-06", "2026-07"} {
		if _, err := e.UC.SetPeriod(e.Ctx, e.LE.ID, p, false); err != nil {
			t.Fatal(err)
		}
	}
	const posted, unposted = "01a22200-0000-7000-8000-0000000000e1", "01a22200-0000-7000-8000-0000000000e2"
	e.post(hours(posted, billingtest.Consult, billingtest.TaskBill, "2026-06-02", "8"))
	te := approvedList{entries: []*timeexpensev1.ApprovedEntry{
		{EntryId: posted, Kind: timeexpensev1.EntryKind_ENTRY_KIND_TIME, Hours: "8", Billable: true, WorkDate: &commonv1.Date{Year: 2026, Month: 6, Day: 2}},
		{EntryId: unposted, Kind: timeexpensev1.EntryKind_ENTRY_KIND_TIME, Hours: "4", Billable: true, WorkDate: &commonv1.Date{Year: 2026, Month: 6, Day: 3}},
	}}
	ops := map[string]app.Ops{"billing": exceptions.NewServer(e.Queue, "billing").WithReplay(outbox.NewReplayer(e.DB.Pool))}
	rec := app.NewReconciler(e.Store, te, ops, app.ReconcileConfig{}, slog.New(slog.NewTextHandler(io.Discard, nil)))

	rec.RunScheduled(e.Ctx)

	june, ok, err := e.Store.LatestReconciliation(e.Ctx, e.LE.ID, "2026-06")
	if err != nil || !ok {
		t.Fatalf("no June run: %v", err)
	}
	june, err = rec.GetRun(e.Ctx, june.ID)
	if err != nil {
		t.Fatal(err)
	}
	if june.Status != reconcile.Drift || june.TriggeredBy != "schedule" || len(june.Findings) != 1 ||
		june.Findings[0].Code != reconcile.ApprovedNotPosted || june.Findings[0].EntityIDs[0] != unposted || june.Findings[0].ExceptionID == "" {
		t.Errorf("June: %s by %s, findings %+v; want DRIFT by schedule, APPROVED_NOT_POSTED of %s with its exception", june.Status, june.TriggeredBy, june.Findings, unposted)
	}
	totals := map[string]string{}
	for _, x := range june.Totals {
		totals[x.Name] = x.Value.String()
	}
	if totals["time.hours_approved"] != "12" || totals["ledger.hours_posted"] != "8" || totals["candidates.hours_unbilled"] != "8" {
		t.Errorf("June totals %v, want 12 h approved, 8 posted, 8 unbilled", totals)
	}
	if n := billingtest.Scalar[int64](e.Env, `SELECT count(*) FROM exceptions WHERE kind = 'reconciliation.time' AND entity_id = $1 AND status = 'OPEN'`, unposted); n != 1 {
		t.Errorf("%d open exceptions about %s, want 1", n, unposted)
	}
	july, ok, err := e.Store.LatestReconciliation(e.Ctx, e.LE.ID, "2026-07")
	if err != nil || !ok || july.Status != reconcile.Clean {
		t.Errorf("July: %v %v %v, want a CLEAN run", july.Status, ok, err)
	}
}
