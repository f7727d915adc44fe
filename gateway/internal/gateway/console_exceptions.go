package gateway

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/status"

	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	"github.com/accrue/accrue/internal/platform/paging"
)

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
// kind, legal_entity_id (exceptions recorded for that legal entity) and age (?older_than=1h: created at least that long ago), page_size (50, at most 200)
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
	if len(q.Get("legal_entity_id")) > 64 {
		bad("legal_entity_id", "legal_entity_id is at most 64 characters")
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
			Status: st, Reason: q.Get("reason"), Kind: q.Get("kind"), LegalEntityId: q.Get("legal_entity_id"), PageSize: int32(size + 1), PageToken: token})
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
