package grpcx

import (
	"fmt"
	"strconv"
	"unicode/utf8"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/accrue/accrue/internal/platform/fault"
)

// MaxStringLen bounds every string field of every request that its contract does not bound more
// tightly (characters, not bytes): a guard for the fields added without a max_len rule.
const MaxStringLen = 4096

// maxTextViolations caps the violations one request reports.
const maxTextViolations = 20

// CheckText applies the rules every string field of a request obeys, whatever its contract says:
// no control characters (C0 but tab, newline and carriage return; DEL; C1), so no NUL byte that
// Postgres would refuse and no invisible characters in names, and at most MaxStringLen characters.
// It returns an INVALID_ARGUMENT / VALIDATION_FAILED fault naming every field at fault, or nil.
func CheckText(m protoreflect.Message) error {
	var vs []fault.Violation
	checkText(m, "", &vs)
	if len(vs) == 0 {
		return nil
	}
	return &fault.Error{Kind: fault.Invalid, Reason: ReasonValidationFailed, Message: "the request is invalid", Violations: vs}
}

func checkText(m protoreflect.Message, prefix string, vs *[]fault.Violation) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		path := prefix + string(fd.Name())
		switch {
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				checkValue(fd, l.Get(i), path+"["+strconv.Itoa(i)+"]", vs)
			}
		case fd.IsMap():
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				p := path + "[" + strconv.Quote(k.String()) + "]"
				if fd.MapKey().Kind() == protoreflect.StringKind {
					checkString(k.String(), p, vs)
				}
				checkValue(fd.MapValue(), mv, p, vs)
				return true
			})
		default:
			checkValue(fd, v, path, vs)
		}
		return len(*vs) < maxTextViolations
	})
}

func checkValue(fd protoreflect.FieldDescriptor, v protoreflect.Value, path string, vs *[]fault.Violation) {
	switch fd.Kind() {
	case protoreflect.StringKind:
		checkString(v.String(), path, vs)
	case protoreflect.MessageKind, protoreflect.GroupKind:
		checkText(v.Message(), path+".", vs)
	}
}

func checkString(s, path string, vs *[]fault.Violation) {
	if n := utf8.RuneCountInString(s); n > MaxStringLen {
		*vs = append(*vs, fault.Violation{Field: path, Description: fmt.Sprintf("must be at most %d characters", MaxStringLen)})
		return
	}
	for i, r := range s {
		if ControlChar(r) {
			*vs = append(*vs, fault.Violation{Field: path,
				Description: fmt.Sprintf("must not contain control characters (U+%04X at byte %d)", r, i)})
			return
		}
	}
}

// ControlChar reports whether r is a control character a request's text must not hold: C0 but
// tab, newline and carriage return, DEL, and C1.
func ControlChar(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return false
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	}
	return false
}
