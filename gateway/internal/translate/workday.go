package translate

import (
	"context"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
	"google.golang.org/protobuf/proto"

	"github.com/accrue/accrue/gateway/internal/webhook"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	webhooksv1 "github.com/accrue/accrue/gen/go/accrue/webhooks/v1"
)

// workerFields is what the gateway takes from a Workday worker, whichever shape it came in
// (workerOfDocument, workerOfNotification).
type workerFields struct {
	eventID, workerID, moment, workerType      string
	name, email, location, company, jobProfile string
	weeklyHours, fte                           any // numbers; FTE as a fraction (1 = full time)
	active                                     *bool
	comp                                       *compensation
}

// compensation is the worker's pay: an hourly cost, or an annual pay with an optional burden.
type compensation struct {
	hourly, annual, burden any
	currency               string
	effective              any
	// Field paths, for errors.
	hourlyName, annualName, source string
}

// roleOf maps a job profile ("Senior Consultant") to a rate-card role ("SENIOR_CONSULTANT").
func roleOf(profile string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(strings.TrimSpace(profile)) {
		switch {
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "_") {
				b.WriteByte('_')
			}
		}
	}
	return strings.TrimSuffix(b.String(), "_")
}

// WorkdayWorkerChange translates a Workday worker into ResourceService.SyncWorker. Two shapes are
// read (field names case-insensitively, XML namespace prefixes ignored):
//
//   - Workday's own: a Get_Workers response as JSON ({"Get_Workers_Response": {"Response_Filter",
//     "Response_Data": {"Worker": [{"Worker_Reference", "Worker_Data": {...}}]}}}, its
//     Response_Data, or one Worker), see workerOfDocument;
//   - the flat notification {"Event_ID", "Worker": {"Worker_ID", "Effective_Moment", ...}}.
//
// The record version is the effective moment in milliseconds, so an older record delivered late
// changes nothing. The cost rate is the hourly cost, or the annual base pay × (1 + burden/100) /
// (52 × weekly hours), rounded to cents.
func WorkdayWorkerChange(client resourcev1.ResourceServiceClient) webhook.Translator {
	return func(source string, body []byte) (webhook.Command, error) {
		root, err := decodeAny(body)
		if err != nil {
			return webhook.Command{}, err
		}
		var w workerFields
		if doc, ok := workerDocument(root); ok {
			w, err = workerOfDocument(root, doc)
		} else {
			w = workerOfNotification(root)
		}
		if err != nil {
			return webhook.Command{}, err
		}
		rec, err := w.record(source)
		if err != nil {
			return webhook.Command{}, err
		}
		if w.eventID == "" {
			w.eventID = "worker:" + rec.GetWorkerId() + "@" + strconv.FormatInt(rec.GetVersion(), 10)
		}
		if err := checkEventID(w.eventID); err != nil {
			return webhook.Command{}, err
		}
		return webhook.Command{EventID: w.eventID, Call: func(ctx context.Context) (proto.Message, error) {
			return client.SyncWorker(ctx, &resourcev1.SyncWorkerRequest{Worker: rec})
		}}, nil
	}
}

// workerOfNotification reads the flat notification.
func workerOfNotification(root map[string]any) workerFields {
	w := object(field(root, "Worker"))
	s := func(path string) string { return text(at(w, path)) }
	f := workerFields{eventID: text(field(root, "Event_ID")), workerID: s("Worker_ID"), moment: s("Effective_Moment"),
		workerType: s("Worker_Type"), name: strings.TrimSpace(s("Legal_Name.First_Name") + " " + s("Legal_Name.Last_Name")),
		email: s("Email_Address"), location: s("Location"), company: s("Company_Reference_ID"), jobProfile: s("Job_Profile"),
		weeklyHours: field(w, "Scheduled_Weekly_Hours"), fte: field(w, "FTE")}
	if a, ok := flag(field(w, "Active")); ok {
		f.active = &a
	}
	if c := object(field(w, "Compensation")); c != nil {
		f.comp = &compensation{hourly: field(c, "Hourly_Cost"), annual: field(c, "Annual_Base_Pay"),
			burden: field(c, "Burden_Percent"), currency: text(field(c, "Currency")),
			effective: field(c, "Effective_Date"), source: "Worker.Compensation",
			hourlyName: "Worker.Compensation.Hourly_Cost", annualName: "Worker.Compensation.Annual_Base_Pay"}
	}
	return f
}

// record builds the canonical worker record.
func (w workerFields) record(source string) (*resourcev1.WorkerRecord, error) {
	if w.workerID == "" {
		return nil, malformed("the worker has no id (Worker_Reference ID of type Employee_ID or Contingent_Worker_ID, or Worker_ID)")
	}
	if w.moment == "" {
		return nil, malformed("the worker has no effective moment (Effective_Moment, or Response_Filter.As_Of_Entry_DateTime)")
	}
	moment, err := parseMoment(w.moment)
	if err != nil {
		return nil, malformed("effective moment %q is not an RFC 3339 time", clip(w.moment))
	}
	if moment.UnixMilli() <= 0 {
		return nil, malformed("effective moment %q is before 1970", clip(w.moment))
	}
	rec := &resourcev1.WorkerRecord{HcmSystem: source, WorkerId: w.workerID, Version: moment.UnixMilli(), Name: w.name,
		Email: w.email, HomeLegalEntityCode: w.company, Location: w.location, Role: roleOf(w.jobProfile),
		Active: w.active == nil || *w.active}
	switch strings.ToLower(w.workerType) {
	case "employee", "":
		rec.Kind = resourcev1.ResourceKind_RESOURCE_KIND_EMPLOYEE
	case "contingent_worker", "contractor", "contingent worker":
		rec.Kind = resourcev1.ResourceKind_RESOURCE_KIND_CONTRACTOR
	default:
		return nil, malformed("worker type: unknown value %q", clip(w.workerType))
	}
	weekly := decimal.NewFromInt(40)
	if h, ok, err := number(w.weeklyHours, "Scheduled_Weekly_Hours"); err != nil {
		return nil, err
	} else if ok {
		weekly = h
	} else if fte, ok, err := number(w.fte, "FTE"); err != nil {
		return nil, err
	} else if ok {
		weekly = fte.Mul(decimal.NewFromInt(40))
	}
	rec.WeeklyCapacityHours = weekly.Round(2).String()
	if w.comp != nil {
		if rec.CostRate, err = w.comp.costRate(weekly); err != nil {
			return nil, err
		}
		if rec.CostRate != nil {
			if rec.CostRateEffectiveFrom, err = civilDate(w.comp.effective, w.comp.source+" effective date"); err != nil {
				return nil, err
			}
		}
	}
	return rec, nil
}

// costRate is the hourly cost, or the loaded annual pay spread over 52 weeks of weekly hours.
func (c *compensation) costRate(weekly decimal.Decimal) (*commonv1.Money, error) {
	hourly, ok, err := number(c.hourly, c.hourlyName)
	if err != nil {
		return nil, err
	}
	rate := hourly
	if !ok {
		annual, ok, err := number(c.annual, c.annualName)
		if err != nil || !ok || !weekly.IsPositive() {
			return nil, err
		}
		burden, _, err := number(c.burden, c.source+".Burden_Percent")
		if err != nil {
			return nil, err
		}
		loaded := annual.Mul(decimal.NewFromInt(100).Add(burden)).Div(decimal.NewFromInt(100))
		rate = loaded.Div(weekly.Mul(decimal.NewFromInt(52))).Round(2)
	}
	if rate.IsZero() {
		return nil, nil
	}
	return &commonv1.Money{Amount: rate.StringFixed(2), CurrencyCode: c.currency}, nil
}

// CanonicalWorker translates accrue.webhooks.v1.HcmWorkerEvent (JSON) into SyncWorker.
func CanonicalWorker(client resourcev1.ResourceServiceClient) webhook.Translator {
	return func(source string, body []byte) (webhook.Command, error) {
		var ev webhooksv1.HcmWorkerEvent
		if err := unmarshalCanonical(body, &ev); err != nil {
			return webhook.Command{}, err
		}
		w := ev.GetWorker()
		if ev.GetEventId() == "" || w == nil {
			return webhook.Command{}, malformed("event_id and worker are required")
		}
		if err := checkEventID(ev.GetEventId()); err != nil {
			return webhook.Command{}, err
		}
		if w.GetHcmSystem() == "" {
			w.HcmSystem = source
		}
		return webhook.Command{EventID: ev.GetEventId(), Call: func(ctx context.Context) (proto.Message, error) {
			return client.SyncWorker(ctx, &resourcev1.SyncWorkerRequest{Worker: w})
		}}, nil
	}
}
