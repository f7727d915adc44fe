package translate_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/accrue/accrue/gateway/internal/translate"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	"github.com/accrue/accrue/internal/platform/fault"
)

// resources is the resource service as the translator sees it: it keeps the sync request.
type resources struct {
	resourcev1.ResourceServiceClient
	got *resourcev1.SyncWorkerRequest
}

func (r *resources) SyncWorker(_ context.Context, req *resourcev1.SyncWorkerRequest, _ ...grpc.CallOption) (*resourcev1.SyncWorkerResponse, error) {
	r.got = req
	return &resourcev1.SyncWorkerResponse{}, nil
}

func syncWorker(t testing.TB, body []byte) (string, *resourcev1.WorkerRecord) {
	t.Helper()
	rec := &resources{}
	cmd, err := translate.WorkdayWorkerChange(rec)("workday", body)
	if err != nil {
		t.Fatalf("translate: %v", err)
	}
	if _, err := cmd.Call(context.Background()); err != nil {
		t.Fatal(err)
	}
	return cmd.EventID, rec.got.GetWorker()
}

// asOf is the fixture's Response_Filter.As_Of_Entry_DateTime.
var asOf = time.Date(2026, 11, 20, 17, 0, 0, 0, time.UTC)

func documentedWorker() *resourcev1.WorkerRecord {
	return &resourcev1.WorkerRecord{HcmSystem: "workday", WorkerId: "21001", Version: asOf.UnixMilli(), Name: "Katherine Johnson",
		Email: "katherine.johnson@example.com", HomeLegalEntityCode: "US01", Location: "Hampton, VA", Role: "SENIOR_CONSULTANT",
		Active: true, Kind: resourcev1.ResourceKind_RESOURCE_KIND_EMPLOYEE, WeeklyCapacityHours: "40",
		CostRate:              &commonv1.Money{Amount: "60.00", CurrencyCode: "USD"}, // 124,800 a year / (52 × 40 h)
		CostRateEffectiveFrom: day(2026, 1, 1)}
}

// A Get_Workers response, as Workday's Human_Resources service documents it, converted to JSON:
// the Employee_ID reference, the legal name, the WORK email, the primary job's profile, site and
// hours, the company organization and the annual base pay plan become the worker record.
func TestWorkdayGetWorkersResponse(t *testing.T) {
	id, w := syncWorker(t, fixture(t, "workday-get-workers.json"))
	sameMsg(t, "worker", w, documentedWorker())
	if id != "worker:21001@1795194000000" {
		t.Errorf("event id %q, want the worker id and the as-of moment", id)
	}
}

// xmlStyle rewrites a JSON document the way an XML-to-JSON conversion writes Workday's XML:
// namespace prefixes on names, a reference ID as {"@wd:type", "#text"}, one-element lists as the
// element alone, booleans as "1"/"0".
func xmlStyle(v any) any {
	switch t := v.(type) {
	case map[string]any:
		if typ, ok := t["type"]; ok && len(t) == 2 {
			return map[string]any{"@wd:type": typ, "#text": t["value"]}
		}
		out := map[string]any{}
		for k, c := range t {
			out["wd:"+k] = xmlStyle(c)
		}
		return out
	case []any:
		if len(t) == 1 {
			return xmlStyle(t[0])
		}
		out := make([]any, len(t))
		for i, c := range t {
			out[i] = xmlStyle(c)
		}
		return out
	case bool:
		if t {
			return "1"
		}
		return "0"
	}
	return v
}

func TestWorkdayGetWorkersXMLConversion(t *testing.T) {
	var doc any
	if err := json.Unmarshal(fixture(t, "workday-get-workers.json"), &doc); err != nil {
		t.Fatal(err)
	}
	_, w := syncWorker(t, marshal(t, xmlStyle(doc)))
	sameMsg(t, "worker from the XML-style conversion", w, documentedWorker())
}

// The variants of a documented worker: a contingent worker, hourly and monthly pay, an event id
// of its own, an inactive worker, a part-time FTE.
func TestWorkdayDocumentVariants(t *testing.T) {
	base := string(fixture(t, "workday-get-workers.json"))
	edit := func(pairs ...string) []byte { return []byte(strings.NewReplacer(pairs...).Replace(base)) }
	_, w := syncWorker(t, edit(`{"type": "Employee_ID", "value": "21001"}`, `{"type": "Contingent_Worker_ID", "value": "C-77"}`))
	if w.GetWorkerId() != "C-77" || w.GetKind() != resourcev1.ResourceKind_RESOURCE_KIND_CONTRACTOR {
		t.Errorf("contingent worker: %v", w)
	}
	_, w = syncWorker(t, edit(`"Amount": 124800`, `"Amount": 72.5`, `"value": "Annual"`, `"value": "Hourly"`))
	if w.GetCostRate().GetAmount() != "72.50" {
		t.Errorf("hourly pay: cost rate %v, want 72.50", w.GetCostRate())
	}
	_, w = syncWorker(t, edit(`"Amount": 124800`, `"Amount": 10400`, `"value": "Annual"`, `"value": "Monthly"`))
	if w.GetCostRate().GetAmount() != "60.00" {
		t.Errorf("monthly pay: cost rate %v, want 60.00 (10,400 × 12 / 2,080 h)", w.GetCostRate())
	}
	id, _ := syncWorker(t, edit(`"Get_Workers_Response": {`, `"Event_ID": "wd-bp-991", "Get_Workers_Response": {`))
	if id != "wd-bp-991" {
		t.Errorf("event id %q, want the delivery's Event_ID", id)
	}
	_, w = syncWorker(t, edit(`"Active": true`, `"Active": false`, `"Scheduled_Weekly_Hours": 40,`, ``, `"Full_Time_Equivalent_Percentage": 100`, `"Full_Time_Equivalent_Percentage": 50`))
	if w.GetActive() || w.GetWeeklyCapacityHours() != "20" || w.GetCostRate().GetAmount() != "120.00" {
		t.Errorf("inactive half-time worker: active %v, capacity %s, rate %v; want false, 20, 120.00", w.GetActive(), w.GetWeeklyCapacityHours(), w.GetCostRate())
	}
	for name, c := range map[string]struct {
		body []byte
		says string
	}{
		"two workers":   {edit(`"Worker": [`, `"Worker": [{"Worker_Reference": {}}, `), "exactly one Worker"},
		"no moment":     {edit(`"As_Of_Entry_DateTime": "2026-11-20T09:00:00.000-08:00",`, ``), "effective moment"},
		"bad moment":    {edit(`2026-11-20T09:00:00.000-08:00`, `yesterday`), "RFC 3339"},
		"no worker id":  {edit(`{"type": "Employee_ID", "value": "21001"}`, `{"type": "Other", "value": "x"}`, `"Worker_ID": "21001",`, ``), "no id"},
		"bad frequency": {edit(`"value": "Annual"`, `"value": "Fortnightly"`), "Fortnightly"},
		"bad amount":    {edit(`"Amount": 124800`, `"Amount": "lots"`), "Amount"},
	} {
		_, err := translate.WorkdayWorkerChange(&resources{})("workday", c.body)
		if fault.ReasonOf(err) != translate.ReasonMalformed || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v, want MALFORMED_PAYLOAD saying %q", name, err, c.says)
		}
	}
}

// The flat notification of docs/examples/workday-worker.json is still read as before.
func TestWorkdayFlatNotification(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "examples", "workday-worker.json"))
	if err != nil {
		t.Fatal(err)
	}
	id, w := syncWorker(t, body)
	sameMsg(t, "worker", w, &resourcev1.WorkerRecord{HcmSystem: "workday", WorkerId: "21001",
		Version: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC).UnixMilli(), Name: "Katherine Johnson",
		Email: "katherine.johnson@example.com", HomeLegalEntityCode: "US01", Location: "Hampton, VA", Role: "CONSULTANT",
		Active: true, Kind: resourcev1.ResourceKind_RESOURCE_KIND_EMPLOYEE, WeeklyCapacityHours: "40",
		CostRate:              &commonv1.Money{Amount: "60.00", CurrencyCode: "USD"}, // 104,000 × 1.2 / 2,080 h
		CostRateEffectiveFrom: day(2026, 1, 1)})
	if id != "wd-evt-0001" {
		t.Errorf("event id %q", id)
	}
	lower := strings.NewReplacer(`"Worker_ID"`, `"worker_id"`, `"Effective_Moment"`, `"effective_moment"`).Replace(string(body))
	if _, w := syncWorker(t, []byte(lower)); w.GetWorkerId() != "21001" {
		t.Errorf("field names are matched case-insensitively: %v", w)
	}
}
