package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/paging"
)

// The console's API: fan-out reads over the five services' OpsInsightService and
// ExceptionService, merged for one page of the console (routes under /v1/ops/console/). Each
// needs ops:read; the services check the caller's token again on every call.

// kpiDef describes one console KPI: where it comes from, how it reads, and the list API with the
// records behind it.
type kpiDef struct {
	KPI     string `json:"kpi"`
	Label   string `json:"label"`
	Service string `json:"service"`
	// Unit is "count" or "amount" (one value per currency).
	Unit    string `json:"unit"`
	Seed    bool   `json:"seed"`
	Records string `json:"records"`
	Help    string `json:"help"`
}

// consoleKPIs are the seed's five KPIs, then the finance ones.
var consoleKPIs = []kpiDef{
	{"unbilled_time", "Unbilled time", "billing", "amount", true, "/v1/invoice-candidates",
		"Billable time posted and not invoiced yet (open invoice candidates of time)."},
	{"projects_awaiting_financial_activation", "Projects awaiting financial activation", "project", "count", true,
		"/v1/projects?status=PROJECT_STATUS_PENDING_FINANCIAL_ACTIVATION", "Projects waiting for their contract in billing."},
	{"timesheets_rejected_closed_period", "Timesheets rejected for closed periods", "timeexpense", "count", true,
		"/v1/time-entries?posting_status=POSTING_STATUS_REJECTED_CLOSED_PERIOD", "Timesheets with entries refused because their accounting period was closed."},
	{"invoices_blocked_tax", "Invoices blocked by missing tax data", "billing", "count", true, "/v1/legal-entities",
		"Invoice drafts waiting for their customer's tax profile (per legal entity: tax-blocked-invoices)."},
	{"assignments_missing_cost_rates", "Assignments missing cost rates", "resource", "count", true,
		"/v1/assignments?rate_missing_only=true", "Staffed assignments whose resource has no cost rate for their dates."},
	{"unbilled_amount", "Unbilled amount", "billing", "amount", false, "/v1/invoice-candidates",
		"Everything billable not invoiced yet: open invoice candidates of time, expenses and fees."},
	{"wip", "Work in progress (WIP)", "billing", "amount", false, "/v1/journal-entries",
		"Balance of the unbilled receivables account, in each legal entity's functional currency."},
	{"ar_outstanding", "AR outstanding", "billing", "amount", false, "/v1/journal-entries",
		"Balance of accounts receivable: posted invoices not paid yet (payments, once recorded, reduce it)."},
	{"supplier_cost_awaiting_allocation", "Supplier cost awaiting allocation", "billing", "amount", false, "/v1/legal-entities",
		"Supplier bill lines recorded and not allocated to projects yet (per legal entity: supplier-cost-kpis)."},
}

type kpiPoint struct {
	Time     time.Time `json:"time"`
	Value    string    `json:"value"`
	Currency string    `json:"currency_code,omitempty"`
}

type consoleKPI struct {
	kpiDef
	Current []kpiPoint `json:"current"`
	History []kpiPoint `json:"history"`
	Error   string     `json:"error,omitempty"`
}

// opsContext is the context of the console's upstream calls: the caller's token and correlation id.
func opsContext(r *http.Request) context.Context {
	return metadata.AppendToOutgoingContext(r.Context(), "authorization", r.Header.Get("Authorization"),
		correlation.MetadataKey, r.Header.Get(correlation.Header))
}

// needScope answers 403 unless the caller has scope; it reports whether the request may go on.
func needScope(w http.ResponseWriter, r *http.Request, scope string) bool {
	if p, _ := auth.FromContext(r.Context()); !p.HasScope(scope) {
		writeProblem(w, r, Problem{Status: http.StatusForbidden, Reason: auth.ReasonScopeMissing, Detail: `this call needs the "` + scope + `" scope`})
		return false
	}
	return true
}

func writeAny(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}

// fanOut calls fn for each service concurrently and returns the answers and errors by service.
func fanOut[T any](services []string, fn func(s string) (T, error)) (map[string]T, map[string]error) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	out, errs := map[string]T{}, map[string]error{}
	for _, s := range services {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := fn(s)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs[s] = err
				return
			}
			out[s] = v
		}()
	}
	wg.Wait()
	return out, errs
}

func errText(errs map[string]error) map[string]string {
	if len(errs) == 0 {
		return nil
	}
	m := map[string]string{}
	for s, err := range errs {
		m[s] = status.Convert(err).Message()
	}
	return m
}

// consoleKpis: GET /v1/ops/console/kpis[?days=7] — every console KPI with its current value(s)
// and its recorded history.
func (g *Gateway) consoleKpis(w http.ResponseWriter, r *http.Request) {
	if !needScope(w, r, "ops:read") {
		return
	}
	days := 7
	if v, err := strconv.Atoi(r.URL.Query().Get("days")); err == nil && v > 0 && v <= 90 {
		days = v
	}
	ctx := opsContext(r)
	from := timestamppb.New(time.Now().Add(-time.Duration(days) * 24 * time.Hour))
	var svcs []string
	for _, k := range consoleKPIs {
		if !slices.Contains(svcs, k.Service) {
			svcs = append(svcs, k.Service)
		}
	}
	got, errs := fanOut(svcs, func(s string) (*opsv1.ListKpiHistoryResponse, error) {
		return opsv1.NewOpsInsightServiceClient(g.conns[s]).ListKpiHistory(ctx, &opsv1.ListKpiHistoryRequest{Service: s, From: from})
	})
	out := make([]consoleKPI, 0, len(consoleKPIs))
	for _, d := range consoleKPIs {
		k := consoleKPI{kpiDef: d, Current: []kpiPoint{}, History: []kpiPoint{}}
		if err := errs[d.Service]; err != nil {
			k.Error = d.Service + " did not answer: " + status.Convert(err).Message()
		}
		if resp := got[d.Service]; resp != nil {
			for _, c := range resp.GetCurrent() {
				if c.GetKpi() == d.KPI {
					k.Current = append(k.Current, kpiPoint{c.GetRecordTime().AsTime(), c.GetValue(), c.GetCurrencyCode()})
				}
			}
			for _, h := range resp.GetSamples() {
				if h.GetKpi() == d.KPI {
					k.History = append(k.History, kpiPoint{h.GetRecordTime().AsTime(), h.GetValue(), h.GetCurrencyCode()})
				}
			}
		}
		out = append(out, k)
	}
	writeAny(w, map[string]any{"kpis": out, "days": days})
}

// consoleStreams: GET /v1/ops/console/streams — every service's stream health.
func (g *Gateway) consoleStreams(w http.ResponseWriter, r *http.Request) {
	if !needScope(w, r, "ops:read") {
		return
	}
	ctx := opsContext(r)
	got, errs := fanOut(Services, func(s string) (json.RawMessage, error) {
		resp, err := opsv1.NewOpsInsightServiceClient(g.conns[s]).GetStreamHealth(ctx, &opsv1.GetStreamHealthRequest{Service: s})
		if err != nil {
			return nil, err
		}
		return rawJSON(resp)
	})
	list := make([]json.RawMessage, 0, len(Services))
	for _, s := range Services {
		if v, ok := got[s]; ok {
			list = append(list, v)
		}
	}
	writeAny(w, map[string]any{"services": list, "errors": errText(errs)})
}

func rawJSON(m proto.Message) (json.RawMessage, error) {
	b, err := jsonOut.Marshal(m)
	return json.RawMessage(b), err
}

// consoleException is an exception with the service that holds it.
type consoleException struct {
	Service string `json:"service"`
	e       *opsv1.Exception
	JSON    json.RawMessage `json:"exception"`
}

type exceptionGroup struct {
	Key      string    `json:"key"`
	Count    int       `json:"count"`
	Services []string  `json:"services"`
	Reasons  []string  `json:"reasons"`
	Latest   time.Time `json:"latest"`
}

// maxUUID makes a position "before everything created at t" (ids are compared after times).
const maxUUID = "ffffffff-ffff-ffff-ffff-ffffffffffff"

// consoleExceptions: GET /v1/ops/console/exceptions — the exceptions of every service (or of
// ?service=a,b), newest first, filtered by status (open, resolved, all; open by default), reason,
// kind and age (?older_than=1h: created at least that long ago), page_size (50, at most 200)
// and page_token; ?group_by=key adds the page's exceptions grouped by entity. The filters and the
// limit are pushed down to each service's ListExceptions; the answers are merged by time, and the
// next page token is the position of the page's last exception (ids are UUIDv7, unique across
// services, so one position serves every service).
func (g *Gateway) consoleExceptions(w http.ResponseWriter, r *http.Request) {
	if !needScope(w, r, "ops:read") {
		return
	}
	q := r.URL.Query()
	bad := func(field, detail string) {
		writeProblem(w, r, Problem{Status: http.StatusBadRequest, Reason: "MALFORMED_REQUEST", Detail: detail,
			Violations: []Violation{{Field: field, Description: detail}}})
	}
	svcs := Services
	if v := q.Get("service"); v != "" {
		svcs = nil
		for _, s := range strings.Split(v, ",") {
			if !slices.Contains(Services, s) {
				bad("service", "services are "+strings.Join(Services, ", "))
				return
			}
			svcs = append(svcs, s)
		}
	}
	st := opsv1.ExceptionStatus_EXCEPTION_STATUS_OPEN
	switch q.Get("status") {
	case "", "open", "OPEN":
	case "resolved", "RESOLVED":
		st = opsv1.ExceptionStatus_EXCEPTION_STATUS_RESOLVED
	case "all", "ALL":
		st = opsv1.ExceptionStatus_EXCEPTION_STATUS_UNSPECIFIED
	default:
		bad("status", "status is open, resolved or all")
		return
	}
	if q.Get("legal_entity_id") != "" {
		bad("legal_entity_id", "exceptions do not record their legal entity yet: filter by service, reason, kind or age")
		return
	}
	size := 50
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			bad("page_size", "page_size is 1 to 200")
			return
		}
		size = n
	}
	var before time.Time
	beforeID := ""
	if tok := q.Get("page_token"); tok != "" {
		id, key, err := paging.DecodeID(tok)
		t, terr := time.Parse(time.RFC3339Nano, key)
		if err != nil || terr != nil {
			bad("page_token", "the page token is not one this console issued")
			return
		}
		before, beforeID = t, id
	}
	if v := q.Get("older_than"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			bad("older_than", "older_than is a duration such as 30m, 4h or 72h")
			return
		}
		if cut := time.Now().Add(-d); beforeID == "" || cut.Before(before) {
			before, beforeID = cut, maxUUID
		}
	}
	token := ""
	if beforeID != "" {
		token = paging.Encode(beforeID, before.UTC().Format(time.RFC3339Nano))
	}
	ctx := opsContext(r)
	got, errs := fanOut(svcs, func(s string) ([]*opsv1.Exception, error) {
		resp, err := opsv1.NewExceptionServiceClient(g.conns[s]).ListExceptions(ctx, &opsv1.ListExceptionsRequest{Service: s,
			Status: st, Reason: q.Get("reason"), Kind: q.Get("kind"), PageSize: int32(size + 1), PageToken: token})
		return resp.GetExceptions(), err
	})
	if len(errs) == len(svcs) {
		for _, err := range errs {
			writeProblem(w, r, g.upstreamProblem(r.Context(), status.Convert(err)))
			return
		}
	}
	var all []consoleException
	for s, list := range got {
		for _, e := range list {
			all = append(all, consoleException{Service: s, e: e})
		}
	}
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i].e, all[j].e
		if !a.GetCreateTime().AsTime().Equal(b.GetCreateTime().AsTime()) {
			return a.GetCreateTime().AsTime().After(b.GetCreateTime().AsTime())
		}
		return a.GetExceptionId() > b.GetExceptionId()
	})
	next := ""
	if len(all) > size {
		all = all[:size]
		last := all[size-1].e
		next = paging.Encode(last.GetExceptionId(), last.GetCreateTime().AsTime().UTC().Format(time.RFC3339Nano))
	}
	groups := map[string]*exceptionGroup{}
	var order []string
	for i := range all {
		b, err := rawJSON(all[i].e)
		if err != nil {
			writeProblem(w, r, Problem{Status: http.StatusInternalServerError, Reason: "INTERNAL", Detail: "encoding failed"})
			return
		}
		all[i].JSON = b
		key := all[i].e.GetEntityType() + ":" + all[i].e.GetEntityId()
		gr := groups[key]
		if gr == nil {
			gr = &exceptionGroup{Key: key, Latest: all[i].e.GetCreateTime().AsTime()}
			groups[key] = gr
			order = append(order, key)
		}
		gr.Count++
		if !slices.Contains(gr.Services, all[i].Service) {
			gr.Services = append(gr.Services, all[i].Service)
		}
		if !slices.Contains(gr.Reasons, all[i].e.GetReason()) {
			gr.Reasons = append(gr.Reasons, all[i].e.GetReason())
		}
	}
	resp := map[string]any{"exceptions": all, "next_page_token": next, "errors": errText(errs)}
	if all == nil {
		resp["exceptions"] = []consoleException{}
	}
	if q.Get("group_by") == "key" {
		list := make([]*exceptionGroup, 0, len(order))
		for _, k := range order {
			list = append(list, groups[k])
		}
		resp["groups"] = list
	}
	writeAny(w, resp)
}

// traceRounds bounds how far the console's trace follows related keys and correlation ids.
const traceRounds = 4

// consoleTrace: GET /v1/ops/console/trace?key= — the timeline of a business key or correlation
// id across the five services. Each round asks every service about the keys and correlation ids
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
	for round := 0; round < traceRounds; round++ {
		keys := take(newKeys, askedKeys, 50)
		c := take(corr, askedCorr, 100)
		ev := take(events, askedEvents, 500)
		if len(keys) == 0 && len(c) == 0 && len(ev) == 0 {
			break
		}
		got, errs := fanOut(Services, func(s string) (*opsv1.TraceKeyResponse, error) {
			return opsv1.NewOpsInsightServiceClient(g.conns[s]).TraceKey(ctx, &opsv1.TraceKeyRequest{Service: s,
				Keys: keys, CorrelationIds: c, EventIds: ev})
		})
		if len(errs) > 0 {
			failed = errs
		}
		newKeys = nil
		for _, s := range Services {
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
