package exceptions

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/auth"
)

// CostRatesScope is the scope that reveals costs and cost rates in an exception's payload.
const CostRatesScope = "costrates:read"

// masked replaces a cost or cost rate the caller may not read.
const masked = "***"

// PayloadJSON renders an exception's payload for an operator: an event envelope as JSON with its
// payload decoded (when this binary knows the payload's type), a JSON payload as is, otherwise a
// note of its size. Unless showCosts, every value under a field whose name contains "cost"
// (costs and cost rates) reads "***".
func PayloadJSON(payload []byte, showCosts bool) string {
	if len(payload) == 0 {
		return ""
	}
	var v any
	if json.Valid(payload) {
		_ = json.Unmarshal(payload, &v)
	} else {
		var env commonv1.EventEnvelope
		if err := proto.Unmarshal(payload, &env); err != nil || env.GetEventId() == "" {
			return fmt.Sprintf(`{"note": "%d bytes, neither JSON nor an event envelope"}`, len(payload))
		}
		b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(&env)
		if err != nil { // a payload type this binary does not know: show the envelope without it
			typ := env.GetPayload().GetTypeUrl()
			env.Payload = nil
			b, _ = protojson.MarshalOptions{UseProtoNames: true}.Marshal(&env)
			_ = json.Unmarshal(b, &v)
			if m, ok := v.(map[string]any); ok {
				m["payload"] = map[string]any{"note": "payload of type " + typ + " not shown"}
			}
		} else {
			_ = json.Unmarshal(b, &v)
		}
	}
	if !showCosts {
		v = maskCosts(v)
	}
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return ""
	}
	return string(out)
}

func maskCosts(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if strings.Contains(strings.ToLower(k), "cost") {
				x[k] = masked
			} else {
				x[k] = maskCosts(e)
			}
		}
	case []any:
		for i, e := range x {
			x[i] = maskCosts(e)
		}
	}
	return v
}

// canSeeCosts reports whether ctx's caller has the cost rates scope.
func canSeeCosts(ctx context.Context) bool {
	p, ok := auth.FromContext(ctx)
	return ok && p.HasScope(CostRatesScope)
}
