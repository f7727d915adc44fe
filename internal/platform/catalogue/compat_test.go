package catalogue_test

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	_ "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	_ "github.com/accrue/accrue/gen/go/accrue/customer/v1"
	_ "github.com/accrue/accrue/gen/go/accrue/project/v1"
	_ "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	_ "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/catalogue"
)

// previousRelease holds the event payload contracts of the last release: every .proto file
// declaring an (accrue.common.v1.event) payload and the files they import, as a
// FileDescriptorSet. `make events-snapshot` rewrites it from the contracts compiled into this
// module when a release is cut (docs/deploy.md).
const previousRelease = "testdata/previous-release-events.binpb"

var writeSnapshot = flag.Bool("write-events-snapshot", false, "rewrite "+previousRelease+" from the current contracts")

// Events are versioned within v1 additively: a consumer of this release must accept every
// payload a producer of the previous release publishes. For each payload message of the
// previous release's contracts, the test checks that the current contracts still declare it
// on the same stream under every type it had, that each of its fields (nested messages and enums
// included) keeps its number, kind and cardinality, and that a payload with every field set,
// encoded with the previous descriptor, decodes into the current Go type with no unknown field
// and encodes back to the same message. A breaking payload change needs a new message and type.
func TestConsumersAcceptPreviousReleasePayloads(t *testing.T) {
	if *writeSnapshot {
		writeEventsSnapshot(t)
	}
	raw, err := os.ReadFile(previousRelease)
	if err != nil {
		t.Fatalf("%v (create it with make events-snapshot)", err)
	}
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(raw, &set); err != nil {
		t.Fatal(err)
	}
	files, err := protodesc.NewFiles(&set)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	files.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		for i := 0; i < f.Messages().Len(); i++ {
			old := f.Messages().Get(i)
			spec, ok := catalogue.SpecOf(old)
			if !ok {
				continue
			}
			n++
			t.Run(string(old.FullName()), func(t *testing.T) {
				cur, err := protoregistry.GlobalTypes.FindMessageByName(old.FullName())
				if err != nil {
					t.Fatalf("payload %s of the previous release is gone: consumers would dead-letter its events", old.FullName())
				}
				for _, typ := range spec.GetTypes() {
					if name, ok := catalogue.Payload(spec.GetStream(), typ); !ok || name != old.FullName() {
						t.Errorf("event type %q on %s carried %s in the previous release; now %q", typ, spec.GetStream(), old.FullName(), name)
					}
				}
				for _, p := range compareMessage(old, cur.Descriptor(), map[protoreflect.FullName]bool{}) {
					t.Error(p)
				}
				if p := roundTrip(old, cur); p != "" {
					t.Error(p)
				}
			})
		}
		return true
	})
	if n == 0 {
		t.Fatalf("%s declares no event payload", previousRelease)
	}
}

// The check fails on the changes it exists to catch: a previous-release EntriesApproved with a
// field the current one lacks (a removed field), and one whose field 1 had another type.
func TestPreviousPayloadCheckCatchesBreakingChanges(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(previousRelease)
	if err != nil {
		t.Fatal(err)
	}
	const name = "accrue.timeexpense.v1.EntriesApproved"
	cur, err := protoregistry.GlobalTypes.FindMessageByName(name)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what   string
		change func(*descriptorpb.DescriptorProto)
	}{
		{"a field removed since", func(m *descriptorpb.DescriptorProto) {
			m.Field = append(m.Field, &descriptorpb.FieldDescriptorProto{Name: proto.String("dropped"), Number: proto.Int32(999),
				Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum(),
				JsonName: proto.String("dropped")})
		}},
		{"a field whose type changed", func(m *descriptorpb.DescriptorProto) {
			m.Field[0].Type, m.Field[0].TypeName = descriptorpb.FieldDescriptorProto_TYPE_INT64.Enum(), nil
		}},
	} {
		var set descriptorpb.FileDescriptorSet
		if err := proto.Unmarshal(raw, &set); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, f := range set.GetFile() {
			for _, m := range f.GetMessageType() {
				if f.GetPackage()+"."+m.GetName() == name {
					tc.change(m)
					found = true
				}
			}
		}
		if !found {
			t.Fatalf("%s is not in %s", name, previousRelease)
		}
		files, err := protodesc.NewFiles(&set)
		if err != nil {
			t.Fatal(err)
		}
		d, err := files.FindDescriptorByName(name)
		if err != nil {
			t.Fatal(err)
		}
		old := d.(protoreflect.MessageDescriptor)
		problems := compareMessage(old, cur.Descriptor(), map[protoreflect.FullName]bool{})
		rt := roundTrip(old, cur)
		if len(problems) == 0 || rt == "" {
			t.Errorf("%s: descriptor check %v, round trip %q; want both to fail", tc.what, problems, rt)
		}
		t.Logf("%s: %v; %s", tc.what, problems, rt)
	}
}

// compareMessage checks that every field of old exists in cur with the same number, kind and
// cardinality, recursively.
func compareMessage(old, cur protoreflect.MessageDescriptor, seen map[protoreflect.FullName]bool) []string {
	if seen[old.FullName()] {
		return nil
	}
	var out []string
	seen[old.FullName()] = true
	for i := 0; i < old.Fields().Len(); i++ {
		of := old.Fields().Get(i)
		cf := cur.Fields().ByNumber(of.Number())
		switch {
		case cf == nil:
			out = append(out, fmt.Sprintf("%s: field %d (%s) of the previous release is gone (reserve it, never reuse it)", old.FullName(), of.Number(), of.Name()))
			continue
		case cf.Kind() != of.Kind() || cf.Cardinality() != of.Cardinality() || cf.IsMap() != of.IsMap():
			out = append(out, fmt.Sprintf("%s: field %d (%s) was %s %s, now %s %s", old.FullName(), of.Number(), of.Name(), of.Cardinality(), of.Kind(), cf.Cardinality(), cf.Kind()))
			continue
		}
		switch {
		case of.Message() != nil:
			out = append(out, compareMessage(of.Message(), cf.Message(), seen)...)
		case of.Enum() != nil:
			for j := 0; j < of.Enum().Values().Len(); j++ {
				v := of.Enum().Values().Get(j)
				if cf.Enum().Values().ByNumber(v.Number()) == nil {
					out = append(out, fmt.Sprintf("%s: enum value %s (%d) of the previous release is gone", of.Enum().FullName(), v.Name(), v.Number()))
				}
			}
		}
	}
	return out
}

// roundTrip encodes a fully populated payload with the previous descriptor and decodes it into
// the current generated type; it returns what went wrong ("" when nothing did).
func roundTrip(old protoreflect.MessageDescriptor, cur protoreflect.MessageType) string {
	msg := dynamicpb.NewMessage(old)
	populate(msg, 3)
	b, err := proto.Marshal(msg)
	if err != nil {
		return err.Error()
	}
	got := cur.New().Interface()
	if err := proto.Unmarshal(b, got); err != nil {
		return fmt.Sprintf("the current %s does not decode a previous-release payload: %v", old.FullName(), err)
	}
	if path := unknownFields(got.ProtoReflect(), string(old.Name())); path != "" {
		return fmt.Sprintf("decoding a previous-release %s leaves unknown fields at %s: the current contract lost them", old.FullName(), path)
	}
	b2, err := proto.Marshal(got)
	if err != nil {
		return err.Error()
	}
	back := dynamicpb.NewMessage(old)
	if err := proto.Unmarshal(b2, back); err != nil || !proto.Equal(msg, back) {
		return fmt.Sprintf("%s does not survive previous → current → previous (%v)", old.FullName(), err)
	}
	return ""
}

// populate sets every field of m (the first of each oneof), nested messages to depth levels.
func populate(m protoreflect.Message, depth int) {
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		f := fields.Get(i)
		if o := f.ContainingOneof(); o != nil && !o.IsSynthetic() && o.Fields().Get(0) != f {
			continue
		}
		switch {
		case f.IsMap():
			k := scalar(f.MapKey())
			if f.MapValue().Message() != nil {
				if depth > 0 {
					v := m.Mutable(f).Map().NewValue()
					populate(v.Message(), depth-1)
					m.Mutable(f).Map().Set(k.MapKey(), v)
				}
				continue
			}
			m.Mutable(f).Map().Set(k.MapKey(), scalar(f.MapValue()))
		case f.IsList():
			if f.Message() != nil {
				if depth > 0 {
					populate(m.Mutable(f).List().AppendMutable().Message(), depth-1)
				}
				continue
			}
			m.Mutable(f).List().Append(scalar(f))
		case f.Message() != nil:
			if depth > 0 {
				populate(m.Mutable(f).Message(), depth-1)
			}
		default:
			m.Set(f, scalar(f))
		}
	}
}

// scalar is a non-zero value of a scalar or enum field (timestamps and durations stay valid).
func scalar(f protoreflect.FieldDescriptor) protoreflect.Value {
	switch f.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(true)
	case protoreflect.EnumKind:
		vals := f.Enum().Values()
		return protoreflect.ValueOfEnum(vals.Get(vals.Len() - 1).Number())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(7)
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(7)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(7)
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(7)
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(7)
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(7)
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes([]byte("7"))
	}
	return protoreflect.ValueOfString("7")
}

// unknownFields returns the path of the first message holding unknown fields ("" when none).
func unknownFields(m protoreflect.Message, path string) string {
	if len(m.GetUnknown()) > 0 {
		return path
	}
	found := ""
	m.Range(func(f protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		p := path + "." + string(f.Name())
		switch {
		case f.IsMap() && f.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				found = unknownFields(mv.Message(), p)
				return found == ""
			})
		case f.IsList() && f.Message() != nil:
			for i := 0; i < v.List().Len() && found == ""; i++ {
				found = unknownFields(v.List().Get(i).Message(), p)
			}
		case !f.IsMap() && !f.IsList() && f.Message() != nil:
			found = unknownFields(v.Message(), p)
		}
		return found == ""
	})
	return found
}

// writeEventsSnapshot writes the files declaring event payloads, and every file they import,
// as compiled into this test binary.
func writeEventsSnapshot(t *testing.T) {
	var order []protoreflect.FileDescriptor
	seen := map[string]bool{}
	var add func(f protoreflect.FileDescriptor)
	add = func(f protoreflect.FileDescriptor) {
		if seen[f.Path()] {
			return
		}
		seen[f.Path()] = true
		for i := 0; i < f.Imports().Len(); i++ {
			add(f.Imports().Get(i).FileDescriptor)
		}
		order = append(order, f)
	}
	var roots []protoreflect.FileDescriptor
	protoregistry.GlobalFiles.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		for i := 0; i < f.Messages().Len(); i++ {
			if _, ok := catalogue.SpecOf(f.Messages().Get(i)); ok {
				roots = append(roots, f)
				break
			}
		}
		return true
	})
	slices.SortFunc(roots, func(a, b protoreflect.FileDescriptor) int { return cmpString(a.Path(), b.Path()) })
	for _, f := range roots {
		add(f)
	}
	set := &descriptorpb.FileDescriptorSet{}
	for _, f := range order {
		set.File = append(set.File, protodesc.ToFileDescriptorProto(f))
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(previousRelease, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s: %d files, %d bytes", previousRelease, len(set.File), len(b))
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
