package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
)

// TestReplayCommand: accruectl replay posts the filters to the service's replay route with a
// bearer token and an Idempotency-Key, follows the page token, and prints the events as a table
// (with the count) or, with -o json, as the API's JSON.
func TestReplayCommand(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 12, 3, 9, 30, 0, 0, time.UTC)
	var got []*opsv1.ReplayEventsRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/ops/timeexpense/events:replay" ||
			r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("Idempotency-Key") == "" {
			http.Error(w, "unexpected request "+r.Method+" "+r.URL.Path, http.StatusBadRequest)
			return
		}
		raw, _ := io.ReadAll(r.Body)
		var req opsv1.ReplayEventsRequest
		if err := protojson.Unmarshal(raw, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got = append(got, &req)
		resp := &opsv1.ReplayEventsResponse{DryRun: req.GetDryRun(), MatchedCount: 1,
			Events: []*opsv1.ReplayedEvent{{EventId: "e-" + req.GetPageToken(), EventType: "time_entries.approved",
				Subject: "entry-1", CorrelationId: "corr-1", CreateTime: timestamppb.New(created)}}}
		if req.GetPageToken() == "" {
			resp.NextPageToken = "p2"
		}
		b, _ := protojson.Marshal(resp)
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)

	var out bytes.Buffer
	if err := run([]string{"replay", "--url", srv.URL, "--token", "tok", "--service", "timeexpense",
		"--type", "time_entries.approved", "--since", "2026-12-01T00:00:00Z", "--dry-run"}, &out); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].GetEventType() != "time_entries.approved" || !got[0].GetDryRun() ||
		!got[0].GetSince().AsTime().Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) || got[1].GetPageToken() != "p2" {
		t.Fatalf("requests = %v, want the filters on two pages", got)
	}
	for _, want := range []string{"EVENT ID", "e-p2", "time_entries.approved", "entry-1", "corr-1", "2026-12-03T09:30:00Z",
		"dry run: 2 events would be replayed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table output lacks %q:\n%s", want, out.String())
		}
	}

	out.Reset()
	if err := run([]string{"replay", "--url", srv.URL, "--token", "tok", "--service", "timeexpense", "--max-pages", "1", "-o", "json"}, &out); err != nil {
		t.Fatal(err)
	}
	var resp struct {
		Events []struct {
			EventID string `json:"eventId"`
		} `json:"events"`
		MatchedCount  int    `json:"matchedCount"`
		NextPageToken string `json:"nextPageToken"`
	}
	if err := json.Unmarshal(out.Bytes(), &resp); err != nil || len(resp.Events) != 1 || resp.MatchedCount != 1 || resp.NextPageToken != "p2" {
		t.Fatalf("-o json = %s (%v)", out.String(), err)
	}
	if err := run([]string{"replay", "--url", srv.URL, "--token", "tok"}, &out); err == nil {
		t.Error("replay without --service succeeded")
	}
}
