package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// exampleCloudEvent is the CloudEvent JSON an outbound webhook carries for an event of type typ:
// the attributes the dispatcher sets and a payload built from the message's fields with
// placeholder values (ids, figures and dates that only show the shape). Deterministic, so the
// catalogue is reproducible.
func exampleCloudEvent(e event, typ string) (string, error) {
	ex := &exampler{}
	var data bytes.Buffer
	ex.message(&data, e.msg.Desc, 0, map[protoreflect.FullName]bool{})
	var b bytes.Buffer
	b.WriteString(`{"specversion":"1.0","id":"01970c3a-5e00-7000-8000-00000000e001","source":`)
	writeString(&b, "/accrue/"+sourceOf(e.stream))
	b.WriteString(`,"type":`)
	writeString(&b, typ)
	b.WriteString(`,"subject":"01970c3a-5e00-7000-8000-00000000a001","time":"2026-06-30T17:45:00Z",`)
	b.WriteString(`"datacontenttype":"application/json","correlationid":"2f1c9b1e-8d4a-4c1e-9a57-3c1d0e5b7a10","data":`)
	b.Write(data.Bytes())
	b.WriteString("}")
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
		return "", err
	}
	return out.String(), nil
}

// sourceOf is the CloudEvent source's last segment: the producer, or "billing" etc. for the
// shared ops stream's example (its real source is the publishing service).
func sourceOf(stream string) string {
	if p := producer(stream); p != "ops" {
		return p
	}
	return "billing"
}

type exampler struct{ ids int }

// maxDepth bounds nested examples (a message holding its own kind, or deep trees).
const maxDepth = 5

func (x *exampler) message(b *bytes.Buffer, m protoreflect.MessageDescriptor, depth int, seen map[protoreflect.FullName]bool) {
	switch m.FullName() {
	case "google.protobuf.Timestamp":
		b.WriteString(`"2026-06-30T17:45:00Z"`)
		return
	case "google.protobuf.Duration":
		b.WriteString(`"3600s"`)
		return
	case "accrue.common.v1.Date":
		b.WriteString(`{"year":2026,"month":6,"day":30}`)
		return
	case "accrue.common.v1.Money":
		b.WriteString(`{"amount":"12500.00","currency_code":"USD"}`)
		return
	}
	if depth >= maxDepth || seen[m.FullName()] {
		b.WriteString("{}")
		return
	}
	seen[m.FullName()] = true
	defer delete(seen, m.FullName())
	b.WriteString("{")
	fs := m.Fields()
	for i := 0; i < fs.Len(); i++ {
		if i > 0 {
			b.WriteString(",")
		}
		f := fs.Get(i)
		writeString(b, string(f.Name()))
		b.WriteString(":")
		if f.IsList() {
			b.WriteString("[")
			x.value(b, f, depth, seen)
			b.WriteString("]")
			continue
		}
		if f.IsMap() {
			b.WriteString("{}")
			continue
		}
		x.value(b, f, depth, seen)
	}
	b.WriteString("}")
}

func (x *exampler) value(b *bytes.Buffer, f protoreflect.FieldDescriptor, depth int, seen map[protoreflect.FullName]bool) {
	name := string(f.Name())
	switch f.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		x.message(b, f.Message(), depth+1, seen)
	case protoreflect.EnumKind:
		vs := f.Enum().Values()
		v := vs.Get(0)
		if vs.Len() > 1 {
			v = vs.Get(1)
		}
		writeString(b, string(v.Name()))
	case protoreflect.BoolKind:
		b.WriteString("false")
	case protoreflect.StringKind:
		writeString(b, x.stringFor(name))
	case protoreflect.BytesKind:
		b.WriteString(`""`)
	case protoreflect.Int64Kind, protoreflect.Uint64Kind, protoreflect.Sint64Kind, protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind:
		b.WriteString(`"1"`) // protobuf JSON spells 64-bit integers as strings
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		b.WriteString("0")
	default:
		b.WriteString("1")
	}
}

// stringFor is a placeholder for a string field, by what its name says it holds.
func (x *exampler) stringFor(name string) string {
	switch {
	case strings.HasSuffix(name, "_id") && (strings.HasPrefix(name, "crm_") || strings.HasPrefix(name, "erp_") || strings.HasPrefix(name, "psa_")):
		return strings.ToUpper(strings.TrimSuffix(name, "_id")) + "-EXT-1"
	case strings.HasSuffix(name, "_id"):
		x.ids++
		return fmt.Sprintf("01970c3a-5e00-7000-8000-%012x", x.ids)
	case strings.HasSuffix(name, "_system") || name == "system":
		return "salesforce"
	case name == "currency_code" || strings.HasSuffix(name, "_currency"):
		return "USD"
	case strings.Contains(name, "hours"):
		return "40.00"
	case strings.Contains(name, "percent"):
		return "25.00"
	case strings.Contains(name, "rate") || strings.Contains(name, "amount") || strings.Contains(name, "quantity"):
		return "150.00"
	case name == "service":
		return "billing"
	}
	return name
}

func writeString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s)
	b.Write(q)
}
