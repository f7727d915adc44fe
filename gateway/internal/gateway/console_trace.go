package gateway

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"

	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
)

// traceRounds bounds how far the console's trace follows related keys and correlation ids.
const traceRounds = 4

// consoleTrace: GET /v1/ops/console/trace?key= — the timeline of a business key or correlation
// id across the five services and the webhook dispatcher. Each round asks every service about the keys and correlation ids
// not asked yet and the events published so far; their answers (correlation ids, related keys,
// published event ids) feed the next round, until nothing new turns up.
func (g *Gateway) consoleTrace(w http.ResponseWriter, r *http.Request) {
	if !needScope(w, r, "ops:read") {
		return
	}
	key := strings.TrimSpace(r.URL.Query().Get("key"))
	if key == "" || len(key) > 256 {
		writeProblem(w, r, Problem{Status: http.StatusBadRequest, Reason: "MALFORMED_REQUEST", Detail: "key is required (at most 256 characters)",
			Violations: []Violation{{Field: "key", Description: "a correlation id, an opportunity, project, invoice or time entry id"}}})
		return
	}
	ctx := opsContext(r)
	askedKeys, askedCorr, askedEvents := map[string]bool{}, map[string]bool{}, map[string]bool{}
	newKeys, corr, events := []string{key}, []string{}, []string{}
	seen := map[string]bool{}
	var items []*opsv1.TraceItem
	truncated := false
	var failed map[string]error
	// The five services, and the webhook dispatcher (its deliveries) when the gateway has one.
	traced := Services
	if g.conns[Dispatcher] != nil {
		traced = append(slices.Clone(Services), Dispatcher)
	}
	for round := 0; round < traceRounds; round++ {
		keys := take(newKeys, askedKeys, 50)
		c := take(corr, askedCorr, 100)
		ev := take(events, askedEvents, 500)
		if len(keys) == 0 && len(c) == 0 && len(ev) == 0 {
			break
		}
		got, errs := fanOut(traced, func(s string) (*opsv1.TraceKeyResponse, error) {
			return opsv1.NewOpsInsightServiceClient(g.conns[s]).TraceKey(ctx, &opsv1.TraceKeyRequest{Service: s,
				Keys: keys, CorrelationIds: c, EventIds: ev})
		})
		if len(errs) > 0 {
			failed = errs
		}
		newKeys = nil
		for _, s := range traced {
			resp := got[s]
			if resp == nil {
				continue
			}
			truncated = truncated || resp.GetTruncated()
			newKeys = append(newKeys, resp.GetRelatedKeys()...)
			corr = append(corr, resp.GetCorrelationIds()...)
			events = append(events, resp.GetPublishedEventIds()...)
			for _, it := range resp.GetItems() {
				id := it.GetService() + "|" + it.GetKind() + "|" + it.GetEntityId() + "|" + it.GetEventId() + "|" + it.GetTitle() + "|" + it.GetTime().AsTime().String()
				if !seen[id] {
					seen[id] = true
					items = append(items, it)
				}
			}
		}
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].GetTime().AsTime().Before(items[j].GetTime().AsTime()) })
	raw := make([]json.RawMessage, 0, len(items))
	for _, it := range items {
		b, err := rawJSON(it)
		if err != nil {
			writeProblem(w, r, Problem{Status: http.StatusInternalServerError, Reason: "INTERNAL", Detail: "encoding failed"})
			return
		}
		raw = append(raw, b)
	}
	corrIDs := []string{}
	for c := range askedCorr {
		if c != key {
			corrIDs = append(corrIDs, c)
		}
	}
	sort.Strings(corrIDs)
	writeAny(w, map[string]any{"key": key, "items": raw, "correlation_ids": corrIDs, "truncated": truncated, "errors": errText(failed)})
}

// take returns up to n of list not in asked yet, and marks them asked.
func take(list []string, asked map[string]bool, n int) []string {
	var out []string
	for _, s := range list {
		if s == "" || asked[s] || len(out) == n {
			continue
		}
		asked[s] = true
		out = append(out, s)
	}
	return out
}
