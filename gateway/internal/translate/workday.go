package translate

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"google.golang.org/protobuf/proto"

	"github.com/accrue/accrue/gateway/internal/webhook"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	webhooksv1 "github.com/accrue/accrue/gen/go/accrue/webhooks/v1"
)

// WorkdayWorker is a Workday-style worker change notification (as an integration would post it
// from a Workday business process or Studio integration). Names follow Workday's Get_Workers
// vocabulary.
type WorkdayWorker struct {
	EventID   string `json:"Event_ID"`
	EventType string `json:"Event_Type"`
	Worker    struct {
		WorkerID        string `json:"Worker_ID"`
		EffectiveMoment string `json:"Effective_Moment"`
		WorkerType      string `json:"Worker_Type"`
		LegalName       struct {
			FirstName string `json:"First_Name"`
			LastName  string `json:"Last_Name"`
		} `json:"Legal_Name"`
		Email                string      `json:"Email_Address"`
		Location             string      `json:"Location"`
		Company              string      `json:"Company_Reference_ID"`
		JobProfile           string      `json:"Job_Profile"`
		ScheduledWeeklyHours json.Number `json:"Scheduled_Weekly_Hours"`
		FTE                  json.Number `json:"FTE"`
		Active               *bool       `json:"Active"`
		Compensation         *struct {
			HourlyCost    json.Number `json:"Hourly_Cost"`
			AnnualBasePay json.Number `json:"Annual_Base_Pay"`
			BurdenPercent json.Number `json:"Burden_Percent"`
			Currency      string      `json:"Currency"`
			EffectiveDate string      `json:"Effective_Date"`
		} `json:"Compensation"`
	} `json:"Worker"`
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

// WorkdayWorkerChange translates the worker notification into ResourceService.SyncWorker. The
// record version is the Effective_Moment in milliseconds, so an older record delivered late
// changes nothing. The cost rate is Hourly_Cost, or Annual_Base_Pay × (1 + Burden_Percent/100)
// / (52 × weekly hours), rounded to cents.
func WorkdayWorkerChange(client resourcev1.ResourceServiceClient) webhook.Translator {
	return func(source string, body []byte) (webhook.Command, error) {
		var ev WorkdayWorker
		if err := decode(body, &ev); err != nil {
			return webhook.Command{}, err
		}
		w := ev.Worker
		if ev.EventID == "" || w.WorkerID == "" {
			return webhook.Command{}, malformed("Event_ID and Worker.Worker_ID are required")
		}
		moment, err := time.Parse(time.RFC3339, w.EffectiveMoment)
		if err != nil {
			return webhook.Command{}, malformed("Worker.Effective_Moment: %q is not an RFC 3339 time", w.EffectiveMoment)
		}
		rec := &resourcev1.WorkerRecord{HcmSystem: source, WorkerId: w.WorkerID, Version: moment.UnixMilli(),
			Name: strings.TrimSpace(w.LegalName.FirstName + " " + w.LegalName.LastName), Email: w.Email,
			HomeLegalEntityCode: w.Company, Location: w.Location, Role: roleOf(w.JobProfile), Active: w.Active == nil || *w.Active}
		switch strings.ToLower(w.WorkerType) {
		case "employee", "":
			rec.Kind = resourcev1.ResourceKind_RESOURCE_KIND_EMPLOYEE
		case "contingent_worker", "contractor", "contingent worker":
			rec.Kind = resourcev1.ResourceKind_RESOURCE_KIND_CONTRACTOR
		default:
			return webhook.Command{}, malformed("Worker.Worker_Type: unknown value %q", w.WorkerType)
		}
		weekly := decimal.NewFromInt(40)
		switch {
		case w.ScheduledWeeklyHours != "":
			if weekly, err = decimal.NewFromString(w.ScheduledWeeklyHours.String()); err != nil {
				return webhook.Command{}, malformed("Worker.Scheduled_Weekly_Hours is not a number")
			}
		case w.FTE != "":
			fte, err := decimal.NewFromString(w.FTE.String())
			if err != nil {
				return webhook.Command{}, malformed("Worker.FTE is not a number")
			}
			weekly = fte.Mul(decimal.NewFromInt(40))
		}
		rec.WeeklyCapacityHours = weekly.Round(2).String()
		if c := w.Compensation; c != nil {
			var rate decimal.Decimal
			switch {
			case c.HourlyCost != "":
				if rate, err = decimal.NewFromString(c.HourlyCost.String()); err != nil {
					return webhook.Command{}, malformed("Compensation.Hourly_Cost is not a number")
				}
			case c.AnnualBasePay != "" && weekly.IsPositive():
				annual, err := decimal.NewFromString(c.AnnualBasePay.String())
				if err != nil {
					return webhook.Command{}, malformed("Compensation.Annual_Base_Pay is not a number")
				}
				burden := decimal.Zero
				if c.BurdenPercent != "" {
					if burden, err = decimal.NewFromString(c.BurdenPercent.String()); err != nil {
						return webhook.Command{}, malformed("Compensation.Burden_Percent is not a number")
					}
				}
				loaded := annual.Mul(decimal.NewFromInt(100).Add(burden)).Div(decimal.NewFromInt(100))
				rate = loaded.Div(weekly.Mul(decimal.NewFromInt(52))).Round(2)
			}
			if !rate.IsZero() {
				rec.CostRate = &commonv1.Money{Amount: rate.StringFixed(2), CurrencyCode: c.Currency}
				if rec.CostRateEffectiveFrom, err = dateOf(c.EffectiveDate, "Compensation.Effective_Date"); err != nil {
					return webhook.Command{}, err
				}
			}
		}
		return webhook.Command{EventID: ev.EventID, Call: func(ctx context.Context) (proto.Message, error) {
			return client.SyncWorker(ctx, &resourcev1.SyncWorkerRequest{Worker: rec})
		}}, nil
	}
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
		if w.GetHcmSystem() == "" {
			w.HcmSystem = source
		}
		return webhook.Command{EventID: ev.GetEventId(), Call: func(ctx context.Context) (proto.Message, error) {
			return client.SyncWorker(ctx, &resourcev1.SyncWorkerRequest{Worker: w})
		}}, nil
	}
}
