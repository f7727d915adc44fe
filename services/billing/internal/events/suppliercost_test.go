package events_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/redistest"
	"github.com/accrue/accrue/internal/platform/stream"
	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/events"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
	"github.com/accrue/accrue/services/billing/internal/suppliercost"
)

// The allocation request the intake wrote to the outbox, delivered three times on the stream to
// the allocation consumer group: the line posts once (Dr subcontractor cost, Cr payable).
func TestAllocationRequestDeliveredThreeTimesPostsOnce(t *testing.T) {
	f := setup(t, legalentity.Reject)
	ctx := context.Background()
	l, _, err := f.UC.RecordSupplierBillLine(ctx, f.LE.ID, suppliercost.Line{VendorID: "V-7", VendorName: "Subco Ltd", BillNumber: "B-1", LineNo: 1,
		Amount: billingtest.USD("750.00"), BillDate: billingtest.Day("2026-03-31"), PeriodStart: billingtest.Day("2026-03-01"),
		PeriodEnd: billingtest.Day("2026-03-31"), ProjectID: projectID, TaskID: taskBill})
	if err != nil {
		t.Fatal(err)
	}
	var eventID string
	var envelope []byte
	if err := f.DB.Pool.QueryRow(ctx, `SELECT event_id::text, envelope FROM outbox WHERE event_type = $1 AND subject = $2`,
		billingv1.EventTypeSupplierCostAllocationRequested, l.ID).Scan(&eventID, &envelope); err != nil {
		t.Fatalf("the intake wrote no allocation request: %v", err)
	}
	rdb, prefix := redistest.New(t)
	key := prefix + billingv1.EventStream
	if err := rdb.XGroupCreateMkStream(ctx, key, events.AllocationGroup, "0").Err(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: key, Values: []any{"event_id", eventID,
			"type", billingv1.EventTypeSupplierCostAllocationRequested, "envelope", envelope}}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	cfg := stream.Config{Stream: billingv1.EventStream, Types: events.AllocationTypes, Group: events.AllocationGroup, Consumer: "allocator-1",
		StreamPrefix: prefix, BatchSize: 2, Block: 50 * time.Millisecond, ClaimMinIdle: time.Hour, ClaimInterval: time.Hour}
	c, err := stream.NewConsumer(cfg, rdb, f.DB.Pool, f.Queue, events.Allocations(f.UC), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	cctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		for cctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
			info, err := rdb.XInfoGroups(cctx, key).Result()
			if err == nil && len(info) == 1 && info[0].Pending == 0 && info[0].Lag == 0 {
				stop()
			}
		}
	}()
	if err := c.Run(cctx); err != nil {
		t.Fatal(err)
	}
	if n := billingtest.Scalar[int](f, `SELECT count(*) FROM journal_entries WHERE source_id = $1`, l.ID); n != 1 {
		t.Fatalf("entries of the line = %d, want 1", n)
	}
	if got := account(f, "5200"); got != "750.00" {
		t.Errorf("subcontractor cost = %s, want 750.00", got)
	}
	if got := account(f, "2000"); got != "-750.00" {
		t.Errorf("accounts payable = %s, want -750.00 (a credit)", got)
	}
}

// Kill -9 of the allocation worker mid-batch (after a commit, before its XACK; and inside the
// handler), then a restart: 30 lines, one request delivered twice, each line posted exactly once.
func TestAllocatesExactlyOnceAcrossKills(t *testing.T) {
	for _, kill := range []string{"after_commit", "in_handler"} {
		t.Run(kill, func(t *testing.T) {
			f := setup(t, legalentity.Reject)
			ctx := context.Background()
			for i := 1; i <= 30; i++ {
				if _, _, err := f.UC.RecordSupplierBillLine(ctx, f.LE.ID, suppliercost.Line{VendorID: "V-9", VendorName: "Freelancer", BillNumber: "B-2",
					LineNo: int32(i), Amount: billingtest.USD(fmt.Sprintf("%d.00", 10*i)), BillDate: billingtest.Day("2026-03-31"),
					PeriodStart: billingtest.Day("2026-03-01"), PeriodEnd: billingtest.Day("2026-03-31"), ProjectID: projectID}); err != nil {
					t.Fatal(err)
				}
			}
			rdb, prefix := redistest.New(t)
			key := prefix + billingv1.EventStream
			if err := rdb.XGroupCreateMkStream(ctx, key, events.AllocationGroup, "0").Err(); err != nil {
				t.Fatal(err)
			}
			rows, err := f.DB.Pool.Query(ctx, `SELECT event_id::text, envelope FROM outbox WHERE event_type = $1 ORDER BY id`,
				billingv1.EventTypeSupplierCostAllocationRequested)
			if err != nil {
				t.Fatal(err)
			}
			type entry struct {
				id  string
				env []byte
			}
			var list []entry
			for rows.Next() {
				var e entry
				if err := rows.Scan(&e.id, &e.env); err != nil {
					t.Fatal(err)
				}
				list = append(list, e)
			}
			list = append(list, list[7])
			for _, e := range list {
				if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: key, Values: []any{"event_id", e.id,
					"type", billingv1.EventTypeSupplierCostAllocationRequested, "envelope", e.env}}).Err(); err != nil {
					t.Fatal(err)
				}
			}
			err = runPoster(t, f, prefix, kill, "allocation")
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("the worker should have died of SIGKILL, got %v", err)
			}
			if err := runPoster(t, f, prefix, "", "allocation"); err != nil {
				t.Fatalf("restart: %v", err)
			}
			if n := billingtest.Scalar[int](f, `SELECT count(*) FROM journal_entries WHERE source_type = 'supplier_bill_line'`); n != 30 {
				t.Fatalf("supplier entries = %d, want 30 (each line exactly once)", n)
			}
			if got := account(f, "5200"); got != "4650.00" { // 10.00 + 20.00 + … + 300.00
				t.Fatalf("subcontractor cost = %s, want 4650.00", got)
			}
			if n := billingtest.Scalar[int](f, `SELECT count(*) FROM supplier_bill_lines WHERE status <> 'ALLOCATED'`); n != 0 {
				t.Fatalf("%d lines still awaiting allocation", n)
			}
		})
	}
}
