package subscription

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/accrue/accrue/gateway/internal/vendorshape"
)

// CanonicalShape is the default body: a CloudEvents 1.0 structured JSON document.
const CanonicalShape = ""

// CloudEventContentType is the canonical body's content type.
const CloudEventContentType = "application/cloudevents+json"

// ErrNotApplicable is what RenderBody returns when the subscription's vendor shape has nothing
// to say about the event (e.g. the PSA shape and a payment): the delivery is settled unsent.
var ErrNotApplicable = vendorshape.ErrNotApplicable

// shapes are the body shapes a subscription may ask for, besides the canonical one: the vendor
// shapes of package vendorshape (Salesforce, PSA), fed the canonical event.
var shapes = func() map[string]func(Event) (string, []byte, error) {
	out := map[string]func(Event) (string, []byte, error){}
	for _, name := range vendorshape.Shapes() {
		out[name] = func(ev Event) (string, []byte, error) {
			return vendorshape.Apply(name, vendorshape.Event{ID: ev.ID, Type: ev.Type, Source: "/accrue/" + ev.Producer,
				Subject: ev.Subject, Time: ev.OccurredAt, CorrelationID: ev.CorrelationID, Data: ev.Data})
		}
	}
	return out
}()

// ShapeKnown reports whether shape names a body shape.
func ShapeKnown(shape string) bool {
	_, ok := shapes[shape]
	return shape == CanonicalShape || ok
}

// RenderBody is where the body a subscription receives is produced: the canonical CloudEvent,
// or the vendor shape the subscription asked for. ErrNotApplicable (wrapped) means the shape
// skips this event; another rendering error dead-letters nothing: the delivery's attempt fails
// with it and is retried (a shape fixed by a release then applies).
func RenderBody(shape string, ev Event) (contentType string, body []byte, err error) {
	if f, ok := shapes[shape]; ok && shape != CanonicalShape {
		return f(ev)
	}
	return CloudEventContentType, CloudEvent(ev), nil
}

// CloudEvent returns ev as a CloudEvents 1.0 structured JSON document: id (the event id), source
// ("/accrue/<producer>"), type, subject, time, datacontenttype, data and the correlation id as
// the extension attribute "correlationid". The bytes depend on ev only, so every attempt and
// replay of a delivery sends the same body.
func CloudEvent(ev Event) []byte {
	var b bytes.Buffer
	b.WriteString(`{"specversion":"1.0","id":`)
	writeString(&b, ev.ID)
	b.WriteString(`,"source":`)
	writeString(&b, "/accrue/"+ev.Producer)
	b.WriteString(`,"type":`)
	writeString(&b, ev.Type)
	if ev.Subject != "" {
		b.WriteString(`,"subject":`)
		writeString(&b, ev.Subject)
	}
	b.WriteString(`,"time":`)
	writeString(&b, ev.OccurredAt.UTC().Format(time.RFC3339Nano))
	b.WriteString(`,"datacontenttype":"application/json"`)
	if ev.CorrelationID != "" {
		b.WriteString(`,"correlationid":`)
		writeString(&b, ev.CorrelationID)
	}
	data := ev.Data
	if len(data) == 0 {
		data = []byte("{}")
	}
	b.WriteString(`,"data":`)
	b.Write(data)
	b.WriteString("}")
	return b.Bytes()
}

func writeString(b *bytes.Buffer, s string) {
	j, _ := json.Marshal(s) // a string always marshals
	b.Write(j)
}
