package stream

// PayloadAs returns m's payload as a T when it is one. An interface T reads a family of events
// at once: every project.* event carries the project, so
// PayloadAs[interface{ GetProject() *projectv1.Project }] serves them all.
func PayloadAs[T any](m Message) (T, bool) {
	v, ok := m.Payload.(T)
	return v, ok
}
