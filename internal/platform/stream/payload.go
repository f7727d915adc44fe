package stream

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/reflect/protoregistry"
)

// PayloadAs decodes m's payload and returns it as a T when its type is one. ok is false, with no
// error, when the payload's type is unknown to this binary or is not a T: the consumer skips
// such events. An interface T reads a family of events at once: every project.* event carries
// the project, so PayloadAs[interface{ GetProject() *projectv1.Project }] serves them all.
func PayloadAs[T any](m Message) (v T, ok bool, err error) {
	msg, err := m.Envelope.GetPayload().UnmarshalNew()
	if errors.Is(err, protoregistry.NotFound) {
		return v, false, nil
	}
	if err != nil {
		return v, false, fmt.Errorf("event %s: payload: %w", m.Envelope.GetEventId(), err)
	}
	v, ok = msg.(T)
	return v, ok, nil
}
