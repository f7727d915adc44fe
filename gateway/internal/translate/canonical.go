package translate

import (
	"context"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/accrue/accrue/gateway/internal/webhook"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	webhooksv1 "github.com/accrue/accrue/gen/go/accrue/webhooks/v1"
)

// CanonicalOpportunity translates accrue.webhooks.v1.CrmOpportunityEvent (JSON) into
// ConvertOpportunity. The opportunity's crm_system is the webhook source when empty.
func CanonicalOpportunity(client projectv1.ProjectServiceClient) webhook.Translator {
	return func(source string, body []byte) (webhook.Command, error) {
		var ev webhooksv1.CrmOpportunityEvent
		if err := unmarshalCanonical(body, &ev); err != nil {
			return webhook.Command{}, err
		}
		if ev.GetEventId() == "" || ev.GetOpportunity() == nil {
			return webhook.Command{}, malformed("event_id and opportunity are required")
		}
		if err := checkEventID(ev.GetEventId()); err != nil {
			return webhook.Command{}, err
		}
		opp := ev.GetOpportunity()
		if opp.GetCrmSystem() == "" {
			opp.CrmSystem = source
		}
		return webhook.Command{EventID: ev.GetEventId(), Call: func(ctx context.Context) (proto.Message, error) {
			return client.ConvertOpportunity(ctx, &projectv1.ConvertOpportunityRequest{Opportunity: opp})
		}}, nil
	}
}

// unmarshalCanonical decodes a canonical webhook body (protobuf JSON).
func unmarshalCanonical(body []byte, m proto.Message) error {
	if err := protojson.Unmarshal(body, m); err != nil {
		return malformed("the body is not a %s: %v", m.ProtoReflect().Descriptor().Name(), err)
	}
	return nil
}
