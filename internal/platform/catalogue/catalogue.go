// Package catalogue reads the event catalogue declared in the contracts: the
// (accrue.common.v1.event) option of every payload message linked into the binary says which
// stream it is published on and under which types. The outbox refuses a payload published
// under a name its message does not declare; consumers dead-letter an event whose type no
// message declares on its stream. Safe for concurrent use.
package catalogue

import (
	"slices"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
)

// SpecOf returns the event declaration of a payload message, if it has one.
func SpecOf(d protoreflect.MessageDescriptor) (*commonv1.EventSpec, bool) {
	s, ok := proto.GetExtension(d.Options(), commonv1.E_Event).(*commonv1.EventSpec)
	return s, ok && s != nil && s.GetStream() != ""
}

// Declares reports whether payload's message declares typ on stream.
func Declares(payload proto.Message, stream, typ string) bool {
	s, ok := SpecOf(payload.ProtoReflect().Descriptor())
	return ok && s.GetStream() == stream && slices.Contains(s.GetTypes(), typ)
}

var (
	once  sync.Once
	index map[string]map[string]protoreflect.FullName // stream → type → payload
)

// Payload returns the payload message declared for typ on stream by the contracts linked into
// this binary; ok is false for a type no message declares there (unknown, or renamed).
func Payload(stream, typ string) (protoreflect.FullName, bool) {
	once.Do(build)
	n, ok := index[stream][typ]
	return n, ok
}

// Types returns the event types declared on stream, sorted.
func Types(stream string) []string {
	once.Do(build)
	var out []string
	for t := range index[stream] {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// Streams returns the streams the contracts linked into this binary declare, sorted.
func Streams() []string {
	once.Do(build)
	var out []string
	for s := range index {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// Known reports whether any stream declares the event type typ.
func Known(typ string) bool {
	once.Do(build)
	for _, types := range index {
		if _, ok := types[typ]; ok {
			return true
		}
	}
	return false
}

func build() {
	index = map[string]map[string]protoreflect.FullName{}
	protoregistry.GlobalFiles.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		msgs := f.Messages()
		for i := 0; i < msgs.Len(); i++ {
			s, ok := SpecOf(msgs.Get(i))
			if !ok {
				continue
			}
			if index[s.GetStream()] == nil {
				index[s.GetStream()] = map[string]protoreflect.FullName{}
			}
			for _, t := range s.GetTypes() {
				index[s.GetStream()][t] = msgs.Get(i).FullName()
			}
		}
		return true
	})
}
