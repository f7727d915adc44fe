package translate

import (
	"strings"
)

// cdcEvent is a Salesforce Change Data Capture event, whichever way it was delivered:
//
//   - the Streaming API (CometD) message: {"data": {"schema", "payload": {ChangeEventHeader, fields…},
//     "event": {"replayId", "EventUuid"}}, "channel": "/data/OpportunityChangeEvent"}, or its
//     "data" object alone;
//   - a Pub/Sub API event as a subscriber decodes it: {"replayId", "id" or "event": {"id"},
//     "payload": {…}}, the ConsumerEvent form {"replayId", "event": {"id", "schemaId", "payload": {…}}},
//     or flattened (the payload's fields at the top level next to "replayId" and "eventId");
//   - the bare payload {ChangeEventHeader, fields…}.
//
// A forwarder may add the org id at the top level ("orgId" or "organizationId").
type cdcEvent struct {
	header   map[string]any
	payload  map[string]any
	eventID  string // the event's UUID: CometD event.EventUuid, Pub/Sub event id
	replayID string
	channel  string
	orgID    string
}

func parseCDC(body []byte) (*cdcEvent, error) {
	root, err := decodeAny(body)
	if err != nil {
		return nil, err
	}
	ev := &cdcEvent{orgID: firstText(root, "orgId", "organizationId")}
	env := root
	if data := object(field(root, "data")); data != nil {
		env = data
		ev.channel = text(field(root, "channel"))
	}
	event := object(field(env, "event"))
	flat := false
	switch {
	case hasHeader(object(field(env, "payload"))):
		ev.payload = object(field(env, "payload"))
	case hasHeader(object(field(event, "payload"))):
		ev.payload = object(field(event, "payload"))
	case hasHeader(env):
		ev.payload, flat = env, true
	default:
		return nil, malformed("no ChangeEventHeader: the body is none of a CometD message {data: {payload: {ChangeEventHeader, …}}}, " +
			"a Pub/Sub API event {replayId, payload: {ChangeEventHeader, …}} or a change event payload {ChangeEventHeader, …}")
	}
	ev.header = object(field(ev.payload, "ChangeEventHeader"))
	ev.eventID = firstText(event, "EventUuid", "id")
	if ev.eventID == "" {
		ev.eventID = firstText(env, "EventUuid", "eventId")
	}
	// In the flattened and bare forms an "Id" would be a record field, not the event's id.
	if ev.eventID == "" && !flat {
		ev.eventID = text(field(env, "id"))
	}
	ev.replayID = firstText(event, "replayId")
	if ev.replayID == "" {
		ev.replayID = firstText(env, "replayId", "replay_id")
	}
	if ev.channel == "" {
		ev.channel = firstText(env, "channel", "topicName", "topic_name")
	}
	return ev, nil
}

func hasHeader(obj map[string]any) bool {
	return object(field(obj, "ChangeEventHeader")) != nil
}

func firstText(obj map[string]any, keys ...string) string {
	for _, k := range keys {
		if s := text(field(obj, k)); s != "" {
			return s
		}
	}
	return ""
}

// entity is the header's entityName.
func (ev *cdcEvent) entity() string { return text(field(ev.header, "entityName")) }

// changeType is the header's changeType, upper case.
func (ev *cdcEvent) changeType() string { return strings.ToUpper(text(field(ev.header, "changeType"))) }

// recordIDs are the header's recordIds.
func (ev *cdcEvent) recordIDs() ([]string, error) {
	raw, ok := field(ev.header, "recordIds").([]any)
	if !ok && field(ev.header, "recordIds") != nil {
		return nil, malformed("ChangeEventHeader.recordIds is not a list")
	}
	ids := make([]string, 0, len(raw))
	for _, r := range raw {
		id := text(r)
		if !recordID(id) {
			return nil, malformed("ChangeEventHeader.recordIds: %q is not a record id", clip(id))
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// recordID reports whether s can be a record id: 1 to 128 printable ASCII characters without a
// space or a comma (Salesforce's are 15 or 18 letters and digits; ids are listed comma-separated
// in the quarantine).
func recordID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= 0x20 || s[i] > 0x7e || s[i] == ',' {
			return false
		}
	}
	return true
}

// dedupeKey is the event's id as Salesforce documents it: the event UUID (CometD
// event.EventUuid, which the Pub/Sub API gives as the event id, so one change has one key in
// both), else the header's transactionKey and sequenceNumber (which identify a change in every
// shape), else the replay id on its channel.
func (ev *cdcEvent) dedupeKey() (string, error) {
	var key string
	switch tk := text(field(ev.header, "transactionKey")); {
	case ev.eventID != "":
		key = ev.eventID
	case tk != "":
		key = tk + ":" + text(field(ev.header, "sequenceNumber"))
	case ev.replayID != "":
		ch := ev.channel
		if ch == "" {
			ch = "/data/" + ev.entity() + "ChangeEvent"
		}
		key = "replay:" + ch + ":" + ev.replayID
	default:
		return "", malformed("the event has no id: neither ChangeEventHeader.transactionKey, nor an event UUID " +
			"(event.EventUuid, the Pub/Sub event id), nor a replayId")
	}
	return key, checkEventID(key)
}
