package idempotency

import (
	"strings"

	"github.com/accrue/accrue/internal/platform/fault"
)

// Header is the HTTP field name of the key (draft-ietf-httpapi-idempotency-key-header).
const Header = "Idempotency-Key"

// MaxKeyLen is the longest key accepted, in bytes of the unquoted value.
const MaxKeyLen = 255

// ParseKey reads the Idempotency-Key from its field values (HTTP header lines or gRPC metadata
// values), the same way on the gateway and in the services:
//
//   - no value: no key (present is false);
//   - the draft's form, a Structured Field sf-string (RFC 8941/9651 §3.3.3): `"k"`, with `\"` and
//     `\\` escapes; parameters after it (`"k";p=1`), which the draft defines none of, are parsed
//     and ignored;
//   - the legacy form, a bare key (`k`): accepted for compatibility and normalised to the same
//     key, so `"k"` and `k` are one key. A bare key is printable ASCII without `"` or `,`;
//   - two values, or a list in one value (`"a", "b"`, `a, b`): refused (the draft says one key);
//   - an empty key, one over MaxKeyLen bytes, or anything else malformed: refused.
//
// Every refusal is Invalid / IDEMPOTENCY_KEY_INVALID with a violation on the field
// "Idempotency-Key" (REST 400 problem+json).
func ParseKey(values []string) (key string, present bool, err error) {
	if len(values) == 0 {
		return "", false, nil
	}
	if len(values) > 1 {
		return "", true, invalidKey("send exactly one Idempotency-Key, not %d", len(values))
	}
	v := strings.Trim(values[0], " \t")
	switch {
	case v == "":
		return "", true, invalidKey("the idempotency key is empty")
	case v[0] == '"':
		key, err = parseSFString(v)
	default:
		key, err = parseBare(v)
	}
	if err != nil {
		return "", true, err
	}
	if key == "" {
		return "", true, invalidKey("the idempotency key is empty")
	}
	if len(key) > MaxKeyLen {
		return "", true, invalidKey("the idempotency key is longer than %d characters", MaxKeyLen)
	}
	return key, true, nil
}

// FormatKey serialises key as the draft's sf-string, the form a client should send.
func FormatKey(key string) string {
	var b strings.Builder
	b.Grow(len(key) + 2)
	b.WriteByte('"')
	for i := 0; i < len(key); i++ {
		if key[i] == '"' || key[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(key[i])
	}
	b.WriteByte('"')
	return b.String()
}

func invalidKey(format string, args ...any) *fault.Error {
	return fault.Invalidf(ReasonInvalid, Header, format+`; send one key as a quoted string, e.g. Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324" (1 to 255 printable ASCII characters)`, args...)
}

func parseBare(v string) (string, error) {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == ',':
			return "", invalidKey("the Idempotency-Key holds a list; send exactly one key")
		case c == '"':
			return "", invalidKey("an unquoted idempotency key cannot contain a double quote")
		case c < 0x20 || c > 0x7e:
			return "", invalidKey("the idempotency key has a character that is not printable ASCII")
		}
	}
	return v, nil
}

// parseSFString parses an sf-string item with optional parameters and returns the string.
func parseSFString(v string) (string, error) {
	s, rest, err := sfString(v)
	if err != nil {
		return "", err
	}
	for rest != "" {
		switch rest[0] {
		case ';':
			rest = strings.TrimLeft(rest[1:], " ")
			if rest, err = sfParameter(rest); err != nil {
				return "", err
			}
		case ',':
			return "", invalidKey("the Idempotency-Key holds a list; send exactly one key")
		default:
			if strings.TrimLeft(rest, " \t") == "" {
				return s, nil
			}
			if r := strings.TrimLeft(rest, " \t"); r[0] == ',' {
				return "", invalidKey("the Idempotency-Key holds a list; send exactly one key")
			}
			return "", invalidKey("the Idempotency-Key has characters after its quoted string")
		}
	}
	return s, nil
}

// sfString parses a leading sf-string and returns it and what follows it.
func sfString(v string) (string, string, error) {
	var b strings.Builder
	for i := 1; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\':
			i++
			if i == len(v) || (v[i] != '"' && v[i] != '\\') {
				return "", "", invalidKey(`a quoted idempotency key may only escape \" and \\`)
			}
			b.WriteByte(v[i])
		case c == '"':
			return b.String(), v[i+1:], nil
		case c < 0x20 || c > 0x7e:
			return "", "", invalidKey("the idempotency key has a character that is not printable ASCII")
		default:
			b.WriteByte(c)
		}
	}
	return "", "", invalidKey("the quoted idempotency key has no closing quote")
}

// sfParameter parses one `key[=bare-item]` and returns what follows it.
func sfParameter(v string) (string, error) {
	bad := invalidKey("the Idempotency-Key has a malformed parameter")
	if v == "" || !(isLCAlpha(v[0]) || v[0] == '*') {
		return "", bad
	}
	i := 1
	for i < len(v) && (isLCAlpha(v[i]) || isDigit(v[i]) || strings.IndexByte("_-.*", v[i]) >= 0) {
		i++
	}
	v = v[i:]
	if v == "" || v[0] != '=' {
		return v, nil // a boolean true parameter
	}
	return sfBareItem(v[1:], bad)
}

// sfBareItem skips one bare item: integer, decimal, string, token, byte sequence or boolean.
func sfBareItem(v string, bad error) (string, error) {
	switch {
	case v == "":
		return "", bad
	case v[0] == '"':
		_, rest, err := sfString(v)
		return rest, err
	case v[0] == '-' || isDigit(v[0]):
		i := 0
		if v[0] == '-' {
			i++
		}
		start, dot := i, false
		for i < len(v) && (isDigit(v[i]) || v[i] == '.' && !dot) {
			dot = dot || v[i] == '.'
			i++
		}
		if i == start || v[i-1] == '.' || i-start > 16 {
			return "", bad
		}
		return v[i:], nil
	case v[0] == ':':
		end := strings.IndexByte(v[1:], ':')
		if end < 0 {
			return "", bad
		}
		for _, c := range []byte(v[1 : 1+end]) {
			if !(isLCAlpha(c) || c >= 'A' && c <= 'Z' || isDigit(c) || c == '+' || c == '/' || c == '=') {
				return "", bad
			}
		}
		return v[end+2:], nil
	case v[0] == '?':
		if len(v) < 2 || (v[1] != '0' && v[1] != '1') {
			return "", bad
		}
		return v[2:], nil
	case v[0] == '*' || isLCAlpha(v[0]) || v[0] >= 'A' && v[0] <= 'Z':
		i := 1
		for i < len(v) && (isTChar(v[i]) || v[i] == ':' || v[i] == '/') {
			i++
		}
		return v[i:], nil
	}
	return "", bad
}

func isLCAlpha(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool   { return c >= '0' && c <= '9' }
func isTChar(c byte) bool {
	return isLCAlpha(c) || c >= 'A' && c <= 'Z' || isDigit(c) || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
