package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
)

// reconcile run --redrive runs reconciliation and replays each event the run found not consumed
// from its producer's outbox, one call per producer; the table shows the totals and findings.
func TestReconcileRunRedrivesUnconsumedEvents(t *testing.T) {
	var mu sync.Mutex
	replays := map[string][]string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/v1/reconciliation/runs":
			run := &opsv1.ReconciliationRun{RunId: "run-1", LegalEntityId: "le-1", Period: "2026-06",
				Status: opsv1.ReconciliationStatus_RECONCILIATION_STATUS_DRIFT,
				Totals: []*opsv1.ReconciliationTotal{{Name: "time.hours_approved", Value: "18"}},
				Findings: []*opsv1.ReconciliationFinding{
					{Check: "events", Code: "EVENT_NOT_CONSUMED", EntityType: "event", EntityIds: []string{"ev-1"}, Producer: "timeexpense", Consumer: "billing"},
					{Check: "events", Code: "EVENT_NOT_CONSUMED", EntityType: "event", EntityIds: []string{"ev-1"}, Producer: "timeexpense", Consumer: "resource"},
					{Check: "time", Code: "APPROVED_NOT_POSTED", EntityType: "time_entry", EntityIds: []string{"te-1"}},
				}}
			b, _ := protojson.Marshal(&opsv1.RunReconciliationResponse{Run: run})
			_, _ = w.Write(b)
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/events:replay"):
			var req opsv1.ReplayEventsRequest
			if err := protojson.Unmarshal(body, &req); err != nil || r.Header.Get("Idempotency-Key") == "" {
				http.Error(w, "bad replay", http.StatusBadRequest)
				return
			}
			mu.Lock()
			replays[req.GetService()] = append(replays[req.GetService()], req.GetEventIds()...)
			mu.Unlock()
			b, _ := protojson.Marshal(&opsv1.ReplayEventsResponse{ReplayedCount: int32(len(req.GetEventIds()))})
			_, _ = w.Write(b)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	var out bytes.Buffer
	if err := run([]string{"reconcile", "run", "--url", srv.URL, "--token", "t", "--legal-entity", "le-1", "--period", "2026-06", "--redrive"}, &out); err != nil {
		t.Fatal(err)
	}
	if got := replays["timeexpense"]; len(replays) != 1 || len(got) != 1 || got[0] != "ev-1" {
		t.Errorf("replays %v, want ev-1 once from timeexpense", replays)
	}
	for _, want := range []string{"DRIFT", "time.hours_approved", "18", "APPROVED_NOT_POSTED", "time_entry te-1", "re-drove 1 events from timeexpense's outbox", "3 findings"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// exceptions lists every service's queue with the filters applied (older-than, legal entity) and
// prints which service holds each.
func TestExceptionsListsAcrossServices(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		svc := strings.Split(r.URL.Path, "/")[3]
		if r.URL.Query().Get("status") != "EXCEPTION_STATUS_OPEN" {
			http.Error(w, "want status", http.StatusBadRequest)
			return
		}
		resp := &opsv1.ListExceptionsResponse{}
		if r.URL.Query().Get("legal_entity_id") != "le-1" {
			http.Error(w, "want legal_entity_id le-1", http.StatusBadRequest)
			return
		}
		if svc == "billing" { // the service filters by legal entity: le-2's exception is not listed
			resp.Exceptions = []*opsv1.Exception{
				{ExceptionId: "x-1", Kind: "reconciliation.time", Reason: "APPROVED_NOT_POSTED", Message: "legal entity le-1, period 2026-06: …",
					Status: opsv1.ExceptionStatus_EXCEPTION_STATUS_OPEN, CreateTime: stampAgo(48)},
				{ExceptionId: "x-3", Kind: "reconciliation.time", Reason: "APPROVED_NOT_POSTED", Message: "legal entity le-1, period 2026-06: …",
					Status: opsv1.ExceptionStatus_EXCEPTION_STATUS_OPEN, CreateTime: stampAgo(0)},
			}
		}
		b, _ := protojson.Marshal(resp)
		_, _ = w.Write(b)
	}))
	defer srv.Close()
	var out bytes.Buffer
	if err := run([]string{"exceptions", "--url", srv.URL, "--token", "t", "--status", "open", "--legal-entity", "le-1", "--older-than", "24h"}, &out); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.Contains(s, "billing") || !strings.Contains(s, "x-1") || strings.Contains(s, "x-2") || strings.Contains(s, "x-3") ||
		!strings.Contains(s, "1 exceptions") {
		t.Errorf("output:\n%s\nwant x-1 only (x-3 too recent)", s)
	}
}

func stampAgo(hours int) *timestamppb.Timestamp {
	return timestamppb.New(time.Now().Add(-time.Duration(hours) * time.Hour))
}
