package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
)

// accruectl reconcile: run reconciliation, show a run, re-drive the events it found not consumed.

func init() {
	commands = append(commands,
		command{name: "reconcile",
			synopsis: "run --legal-entity ID --period YYYY-MM [--redrive] | show [--legal-entity ID] [--period YYYY-MM] [--run ID] [-o table|json]",
			summary:  "run reconciliation of a legal entity and period now, or show the latest run with its findings",
			details: `run calls POST /v1/reconciliation/runs (ops:write) and prints the run; show prints the latest run
(of the legal entity and period when given; GET /v1/reconciliation/runs?page_size=1, then the run
with its findings), or the run --run names. A finding names the ids to look at; an event not
consumed is re-driven with: accruectl replay --service PRODUCER --event-id ID, or by run --redrive,
which replays every such event of the run from its producer (consumers skip what they applied).`,
			run: reconcileCmd})
}

func reconcileCmd(fs *flag.FlagSet, args []string, out io.Writer) error {
	sub, args := subcommand(args, "show", "run", "show")
	o := newOpsFlags(fs)
	le := fs.String("legal-entity", "", "legal entity id (run: required)")
	period := fs.String("period", "", "accounting period YYYY-MM (run: required)")
	runID := fs.String("run", "", "show: this run instead of the latest")
	redrive := fs.Bool("redrive", false, "run: replay every event the run found not consumed, from its producer's outbox (ops:write)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := o.check(); err != nil {
		return err
	}
	var run *opsv1.ReconciliationRun
	switch {
	case sub == "run":
		if *le == "" || *period == "" {
			return fmt.Errorf("reconcile run needs --legal-entity and --period")
		}
		var resp opsv1.RunReconciliationResponse
		if err := o.call(http.MethodPost, "/v1/reconciliation/runs", &opsv1.RunReconciliationRequest{LegalEntityId: *le, Period: *period}, &resp); err != nil {
			return err
		}
		run = resp.GetRun()
		if *redrive {
			if err := redriveUnconsumed(o, run, out); err != nil {
				return err
			}
		}
	default:
		id := *runID
		if id == "" {
			q := url.Values{"page_size": {"1"}}
			if *le != "" {
				q.Set("legal_entity_id", *le)
			}
			if *period != "" {
				q.Set("period", *period)
			}
			var list opsv1.ListReconciliationRunsResponse
			if err := o.call(http.MethodGet, "/v1/reconciliation/runs?"+q.Encode(), nil, &list); err != nil {
				return err
			}
			if len(list.GetRuns()) == 0 {
				return fmt.Errorf("no reconciliation run yet (run one: accruectl reconcile run --legal-entity ID --period YYYY-MM)")
			}
			id = list.GetRuns()[0].GetRunId()
		}
		var resp opsv1.GetReconciliationRunResponse
		if err := o.call(http.MethodGet, "/v1/reconciliation/runs/"+url.PathEscape(id), nil, &resp); err != nil {
			return err
		}
		run = resp.GetRun()
	}
	if *o.format == "json" {
		return printJSON(out, run)
	}
	return printRun(out, run)
}

func printRun(out io.Writer, r *opsv1.ReconciliationRun) error {
	fmt.Fprintf(out, "run %s  legal entity %s  period %s  %s  (%s, %s)\n", r.GetRunId(), r.GetLegalEntityId(), r.GetPeriod(),
		strings.TrimPrefix(r.GetStatus().String(), "RECONCILIATION_STATUS_"), r.GetTriggeredBy(), r.GetEndTime().AsTime().UTC().Format(time.RFC3339))
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nTOTAL\tVALUE\tCURRENCY")
	for _, t := range r.GetTotals() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", t.GetName(), t.GetValue(), t.GetCurrencyCode())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.GetFindings()) == 0 {
		_, err := fmt.Fprintln(out, "\nno findings: clean")
		return err
	}
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nCHECK\tCODE\tIDS\tEXCEPTION\tDETAIL")
	for _, f := range r.GetFindings() {
		fmt.Fprintf(tw, "%s\t%s\t%s %s\t%s\t%s\n", f.GetCheck(), f.GetCode(), f.GetEntityType(), strings.Join(f.GetEntityIds(), ","),
			f.GetExceptionId(), f.GetDetail())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(out, "%d findings\n", len(r.GetFindings()))
	return err
}

// redriveUnconsumed replays, per producer, the events the run found not consumed (one replay call
// per producer and 500 ids; consumers deduplicate, so a group that had the event skips it).
func redriveUnconsumed(o opsFlags, run *opsv1.ReconciliationRun, out io.Writer) error {
	byProducer := map[string][]string{}
	var producers []string
	for _, f := range run.GetFindings() {
		if f.GetCode() != "EVENT_NOT_CONSUMED" || f.GetProducer() == "" {
			continue
		}
		if _, ok := byProducer[f.GetProducer()]; !ok {
			producers = append(producers, f.GetProducer())
		}
		for _, id := range f.GetEntityIds() {
			if !slices.Contains(byProducer[f.GetProducer()], id) {
				byProducer[f.GetProducer()] = append(byProducer[f.GetProducer()], id)
			}
		}
	}
	slices.Sort(producers)
	for _, p := range producers {
		for ids := range slices.Chunk(byProducer[p], 500) {
			var resp opsv1.ReplayEventsResponse
			if err := o.call(http.MethodPost, "/v1/ops/"+url.PathEscape(p)+"/events:replay",
				&opsv1.ReplayEventsRequest{Service: p, EventIds: ids, PageSize: 500}, &resp); err != nil {
				return err
			}
			if *o.format == "table" {
				fmt.Fprintf(out, "re-drove %d events from %s's outbox\n", resp.GetReplayedCount(), p)
			}
		}
	}
	return nil
}
