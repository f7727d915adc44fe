package translate

import (
	"context"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"google.golang.org/protobuf/proto"

	"github.com/accrue/accrue/gateway/internal/webhook"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
)

// ReasonCDCGap is the reason of a Salesforce gap or overflow event: Salesforce could not send
// the change itself, so the records it names must be re-synced.
const ReasonCDCGap = "CDC_GAP"

// gapEntities are the objects whose gaps can hide a deal change; gaps of other objects (an
// archived activity, say) are ignored.
var gapEntities = []string{"Opportunity", "OpportunityLineItem", "Account"}

// SalesforceClosedWon translates a Salesforce Change Data Capture event on Opportunity (any of the
// shapes cdcEvent reads) into ConvertOpportunity, reading the org's fields through its mapping
// (mappings.For; nil means the built-in mapping).
//
//   - CREATE, UPDATE and UNDELETE convert when the opportunity is closed-won (IsWon true, or a
//     StageName among the mapping's won stages); otherwise they are ignored (200).
//   - DELETE is ignored (200, OPPORTUNITY_DELETED): a won deal's contract is not undone by the CRM.
//   - GAP_* and GAP_OVERFLOW events of Opportunity, OpportunityLineItem or Account raise a CDC_GAP
//     exception naming the records (or, for an overflow, the object) to re-sync (202).
//
// The event id is the change's deduplication key (cdcEvent.dedupeKey); the opportunity version
// is the header's commitTimestamp, so an older change never overwrites a newer one.
func SalesforceClosedWon(client projectv1.ProjectServiceClient, mappings *SalesforceMappings) webhook.Translator {
	return func(source string, body []byte) (webhook.Command, error) {
		ev, err := parseCDC(body)
		if err != nil {
			return webhook.Command{}, err
		}
		id, err := ev.dedupeKey()
		if err != nil {
			return webhook.Command{}, err
		}
		ct, entity := ev.changeType(), ev.entity()
		if ct == "" || entity == "" {
			return webhook.Command{}, malformed("ChangeEventHeader.changeType and ChangeEventHeader.entityName are required")
		}
		ids, err := ev.recordIDs()
		if err != nil {
			return webhook.Command{}, err
		}
		if strings.HasPrefix(ct, "GAP_") {
			return gapCommand(id, ct, entity, ids, ev)
		}
		m := mappings.For(source, ev.orgID)
		switch {
		case !strings.EqualFold(entity, "Opportunity"):
			return webhook.Command{EventID: id, Ignore: "NOT_AN_OPPORTUNITY"}, nil
		case ct == "DELETE":
			return webhook.Command{EventID: id, Ignore: "OPPORTUNITY_DELETED"}, nil
		case ct != "CREATE" && ct != "UPDATE" && ct != "UNDELETE":
			return webhook.Command{EventID: id, Ignore: "CHANGE_TYPE_" + reasonPart(ct)}, nil
		case !m.won(ev.payload):
			return webhook.Command{EventID: id, Ignore: "NOT_CLOSED_WON"}, nil
		case len(ids) != 1:
			return webhook.Command{}, malformed("ChangeEventHeader.recordIds must name exactly one opportunity")
		}
		version, err := commitTimestamp(ev.header)
		if err != nil {
			return webhook.Command{}, err
		}
		opp, err := m.opportunity(source, ids[0], version, ev.payload)
		if err != nil {
			return webhook.Command{}, err
		}
		return webhook.Command{EventID: id, Call: func(ctx context.Context) (proto.Message, error) {
			return client.ConvertOpportunity(ctx, &projectv1.ConvertOpportunityRequest{Opportunity: opp})
		}}, nil
	}
}

// won reports whether the payload says the opportunity is closed-won.
func (m *SalesforceMapping) won(p map[string]any) bool {
	if v, _ := pick(m.Opportunity, "is_won", p); v != nil {
		if won, ok := flag(v); ok && won {
			return true
		}
	}
	stage, _ := pick(m.Opportunity, "stage", p)
	for _, s := range m.WonStages {
		if text(stage) != "" && strings.EqualFold(text(stage), s) {
			return true
		}
	}
	return false
}

func gapCommand(id, ct, entity string, ids []string, ev *cdcEvent) (webhook.Command, error) {
	known := ""
	for _, e := range gapEntities {
		if strings.EqualFold(entity, e) {
			known = e
		}
	}
	if known == "" {
		return webhook.Command{EventID: id, Ignore: "NOT_AN_OPPORTUNITY"}, nil
	}
	entity = known
	e := &webhook.Exception{Reason: ReasonCDCGap, Entity: entity, RecordIDs: ids}
	switch {
	case ct == "GAP_OVERFLOW":
		at := ""
		if ms, err := commitTimestamp(ev.header); err == nil {
			at = " in the transaction committed at " + time.UnixMilli(ms).UTC().Format(time.RFC3339)
		}
		e.Detail = "GAP_OVERFLOW: a Salesforce transaction changed over 100,000 records and the " + entity +
			" changes beyond that were not sent" + at + "; re-sync the " + entity + " records it changed"
	case len(ids) == 0:
		return webhook.Command{}, malformed("a %s event must name its records in ChangeEventHeader.recordIds", reasonPart(ct))
	default:
		e.Detail = reasonPart(ct) + ": Salesforce could not send the change of " + entity + " " + strings.Join(ids, ", ") +
			"; re-sync these records from Salesforce"
	}
	return webhook.Command{EventID: id, Exception: e}, nil
}

// commitTimestamp reads the header's commitTimestamp (epoch milliseconds, > 0).
func commitTimestamp(h map[string]any) (int64, error) {
	d, ok, err := number(field(h, "commitTimestamp"), "ChangeEventHeader.commitTimestamp")
	if err != nil {
		return 0, err
	}
	if !ok || !d.IsInteger() || !d.IsPositive() || d.GreaterThan(decimal.NewFromInt(epochMillisMax)) {
		return 0, malformed("ChangeEventHeader.commitTimestamp is required: epoch milliseconds")
	}
	return d.IntPart(), nil
}

// reasonPart makes a vendor value safe inside an UPPER_SNAKE reason.
func reasonPart(s string) string {
	var b strings.Builder
	for _, c := range strings.ToUpper(s) {
		if c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' {
			b.WriteRune(c)
		}
		if b.Len() >= 40 {
			break
		}
	}
	if b.Len() == 0 {
		return "UNKNOWN"
	}
	return b.String()
}
