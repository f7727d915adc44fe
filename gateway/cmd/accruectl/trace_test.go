package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestTraceCommand: accruectl trace asks the gateway's console trace for the key with the bearer
// token and prints the timeline as a table (with the counts) or, with -o json, as the API's JSON.
func TestTraceCommand(t *testing.T) {
	t.Parallel()
	const answer = `{"key":"006-A","correlation_ids":["corr-1","corr-2"],"truncated":false,"errors":null,"items":[
		{"service":"project","time":"2026-12-03T09:30:00Z","kind":"PROJECT","title":"project Apollo","status":"ACTIVE","entity_type":"project","entity_id":"p-1","correlation_id":"corr-1"},
		{"service":"billing","time":"2026-12-03T09:31:00Z","kind":"POSTING","title":"journal entry 360.00 USD","status":"POSTED","entity_type":"journal_entry","entity_id":"je-1","correlation_id":"corr-2"}]}`
	var gotKey string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/ops/console/trace" || r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "unexpected request "+r.URL.Path, http.StatusBadRequest)
			return
		}
		gotKey = r.URL.Query().Get("key")
		_, _ = w.Write([]byte(answer))
	}))
	t.Cleanup(srv.Close)

	var out bytes.Buffer
	if err := run([]string{"trace", "006-A", "--url", srv.URL, "--token", "tok"}, &out); err != nil {
		t.Fatal(err)
	}
	if gotKey != "006-A" {
		t.Errorf("key sent = %q, want 006-A", gotKey)
	}
	for _, want := range []string{"SERVICE", "2026-12-03 09:30:00", "project Apollo", "journal_entry je-1", "POSTED", "corr-2",
		"2 items under 2 correlation ids"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := run([]string{"trace", "--url", srv.URL, "--token", "tok", "-o", "json", "006-A"}, &out); err != nil {
		t.Fatal(err)
	}
	var a traceAnswer
	if err := json.Unmarshal(out.Bytes(), &a); err != nil || len(a.Items) != 2 || a.Items[1].EntityID != "je-1" {
		t.Errorf("json output %v (%v):\n%s", a, err, out.String())
	}
	if err := run([]string{"trace", "--url", srv.URL, "--token", "tok"}, &out); err == nil {
		t.Error("trace without a key: no error")
	}
}
