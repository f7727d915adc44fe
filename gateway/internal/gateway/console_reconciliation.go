package gateway

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/status"

	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
)

// consoleRun is one reconciliation run as the console's Reconciliation view reads it.
type consoleRun struct {
	RunID         string         `json:"run_id"`
	LegalEntityID string         `json:"legal_entity_id"`
	Period        string         `json:"period"`
	FinishTime    *time.Time     `json:"finish_time,omitempty"`
	Status        string         `json:"status"`
	DriftCount    int32          `json:"drift_count"`
	Drifts        []consoleDrift `json:"drifts"`
}

// consoleDrift is one finding of a run: its check, code and the offending ids.
type consoleDrift struct {
	Check       string   `json:"check"`
	Code        string   `json:"code"`
	EntityType  string   `json:"entity_type,omitempty"`
	IDs         []string `json:"ids"`
	Detail      string   `json:"detail,omitempty"`
	ExceptionID string   `json:"exception_id,omitempty"`
}

// consoleReconciliation: GET /v1/ops/console/reconciliation[?legal_entity_id=&period=&page_size=]
// — the latest reconciliation runs (billing's ListReconciliationRuns, newest first, 20 by
// default, at most 50), each run with drift fetched with its findings (GetReconciliationRun) so
// the console can drill down to the offending ids. The caller's token is forwarded; billing
// checks ops:read and the legal entities again.
func (g *Gateway) consoleReconciliation(w http.ResponseWriter, r *http.Request) {
	if !needScope(w, r, "ops:read") {
		return
	}
	q := r.URL.Query()
	size := 20
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 50 {
			writeProblem(w, r, Problem{Status: http.StatusBadRequest, Reason: "MALFORMED_REQUEST", Detail: "page_size is 1 to 50",
				Violations: []Violation{{Field: "page_size", Description: "page_size is 1 to 50"}}})
			return
		}
		size = n
	}
	conn := g.conns["billing"]
	if conn == nil {
		writeProblem(w, r, Problem{Status: http.StatusNotFound, Reason: "NOT_FOUND", Detail: "reconciliation is served by billing, which this gateway does not reach"})
		return
	}
	ctx := opsContext(r)
	client := opsv1.NewReconciliationServiceClient(conn)
	list, err := client.ListReconciliationRuns(ctx, &opsv1.ListReconciliationRunsRequest{
		LegalEntityId: q.Get("legal_entity_id"), Period: q.Get("period"), PageSize: int32(size)})
	if err != nil {
		writeProblem(w, r, g.upstreamProblem(r.Context(), status.Convert(err)))
		return
	}
	// Runs with drift: their findings, fetched concurrently (keyed by run id).
	var drifted []string
	for _, run := range list.GetRuns() {
		if run.GetFindingCount() > 0 {
			drifted = append(drifted, run.GetRunId())
		}
	}
	full, errs := fanOut(drifted, func(id string) (*opsv1.ReconciliationRun, error) {
		resp, err := client.GetReconciliationRun(ctx, &opsv1.GetReconciliationRunRequest{RunId: id})
		return resp.GetRun(), err
	})
	runs := make([]consoleRun, 0, len(list.GetRuns()))
	for _, run := range list.GetRuns() {
		cr := consoleRun{RunID: run.GetRunId(), LegalEntityID: run.GetLegalEntityId(), Period: run.GetPeriod(),
			Status: strings.TrimPrefix(run.GetStatus().String(), "RECONCILIATION_STATUS_"), DriftCount: run.GetFindingCount(), Drifts: []consoleDrift{}}
		if run.GetEndTime() != nil {
			t := run.GetEndTime().AsTime()
			cr.FinishTime = &t
		}
		for _, f := range full[run.GetRunId()].GetFindings() {
			cr.Drifts = append(cr.Drifts, consoleDrift{Check: f.GetCheck(), Code: f.GetCode(), EntityType: f.GetEntityType(),
				IDs: f.GetEntityIds(), Detail: f.GetDetail(), ExceptionID: f.GetExceptionId()})
		}
		runs = append(runs, cr)
	}
	writeAny(w, map[string]any{"runs": runs, "next_page_token": list.GetNextPageToken(), "errors": errText(errs)})
}
