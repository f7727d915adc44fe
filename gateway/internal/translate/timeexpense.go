package translate

import (
	"context"

	"google.golang.org/protobuf/proto"

	"github.com/accrue/accrue/gateway/internal/webhook"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	webhooksv1 "github.com/accrue/accrue/gen/go/accrue/webhooks/v1"
)

// ApprovedEntries translates accrue.webhooks.v1.TimeEntriesApprovedEvent (JSON) into
// ImportApprovedEntries. An item's external reference names the webhook source as its system when
// it names none; an item without a reference is sent as it is and comes back REJECTED
// (EXTERNAL_REFERENCE_REQUIRED) in the per-item results.
func ApprovedEntries(client timeexpensev1.TimeExpenseServiceClient) webhook.Translator {
	return func(source string, body []byte) (webhook.Command, error) {
		var ev webhooksv1.TimeEntriesApprovedEvent
		if err := unmarshalCanonical(body, &ev); err != nil {
			return webhook.Command{}, err
		}
		if ev.GetEventId() == "" || len(ev.GetItems()) == 0 {
			return webhook.Command{}, malformed("event_id and at least one item are required")
		}
		if err := checkEventID(ev.GetEventId()); err != nil {
			return webhook.Command{}, err
		}
		for _, it := range ev.GetItems() {
			var ref *commonv1.ExternalReference
			switch {
			case it.GetTime() != nil:
				ref = it.GetTime().GetExternalReference()
			case it.GetExpense() != nil:
				ref = it.GetExpense().GetExternalReference()
			}
			if ref != nil && ref.GetSystem() == "" {
				ref.System = source
			}
		}
		req := &timeexpensev1.ImportApprovedEntriesRequest{Items: ev.GetItems()}
		return webhook.Command{EventID: ev.GetEventId(), Call: func(ctx context.Context) (proto.Message, error) {
			return client.ImportApprovedEntries(ctx, req)
		}}, nil
	}
}
