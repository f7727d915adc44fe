package translate

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
)

// Vendor payloads are read as generic JSON (objects, arrays, json.Number, strings, booleans)
// and navigated by field names, because their shape varies with the delivery channel (CometD,
// Pub/Sub, an XML-to-JSON conversion) and the customer's own field names. Keys match exactly
// first, then case-insensitively (as encoding/json matches struct fields). A null is absent.

// maxDepth bounds the nesting of a payload: deeper bodies are refused before they are walked.
const maxDepth = 64

// decodeAny decodes a JSON object keeping numbers exact.
func decodeAny(body []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, malformed("the body is not JSON: %v", err)
	}
	if d.More() {
		return nil, malformed("the body holds more than one JSON value")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, malformed("the body is not a JSON object")
	}
	if depth(obj, 0) > maxDepth {
		return nil, malformed("the body nests deeper than %d levels", maxDepth)
	}
	return obj, nil
}

func depth(v any, d int) int {
	if d > maxDepth {
		return d
	}
	deepest := d
	switch t := v.(type) {
	case map[string]any:
		for _, c := range t {
			deepest = max(deepest, depth(c, d+1))
		}
	case []any:
		for _, c := range t {
			deepest = max(deepest, depth(c, d+1))
		}
	}
	return deepest
}

// field returns obj's member named key (exact, else case-insensitive, else ignoring an XML
// namespace prefix or attribute marker: "wd:Worker", "@wd:type"), nil when absent. Candidates
// are tried in sorted order, so the answer does not depend on map order.
func field(obj map[string]any, key string) any {
	if v, ok := obj[key]; ok {
		return unwrapUnion(v)
	}
	var folded, bare string
	for k := range obj {
		switch {
		case strings.EqualFold(k, key) && (folded == "" || k < folded):
			folded = k
		case strings.EqualFold(localName(k), key) && (bare == "" || k < bare):
			bare = k
		}
	}
	switch {
	case folded != "":
		return unwrapUnion(obj[folded])
	case bare != "":
		return unwrapUnion(obj[bare])
	}
	return nil
}

// localName strips an attribute marker and a namespace prefix: "@wd:type" → "type".
func localName(k string) string {
	k = strings.TrimLeft(k, "@-")
	if i := strings.LastIndexByte(k, ':'); i >= 0 {
		k = k[i+1:]
	}
	return k
}

// avroTypes are the branch names of Avro's JSON encoding of unions ({"string": "Acme"}), which
// some Pub/Sub API decoders keep.
var avroTypes = map[string]bool{"string": true, "long": true, "int": true, "double": true, "float": true, "boolean": true}

func unwrapUnion(v any) any {
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		for k, inner := range m {
			if avroTypes[k] {
				return inner
			}
		}
	}
	return v
}

// at follows a dotted path ("Product2.Family") from v; nil when any step is missing.
func at(v any, path string) any {
	for _, step := range strings.Split(path, ".") {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		if v = field(obj, step); v == nil {
			return nil
		}
	}
	return v
}

// object returns v as an object (nil when it is not one).
func object(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// list returns v as a list: an array, a Salesforce relationship query result ({"records": [...]}),
// a JSON array held in a string (a long text field), or a single object.
func list(v any) ([]any, bool) {
	switch t := v.(type) {
	case nil:
		return nil, true
	case []any:
		return t, true
	case map[string]any:
		if recs, ok := field(t, "records").([]any); ok {
			return recs, true
		}
		return []any{t}, true
	case string:
		s := strings.TrimSpace(t)
		if s == "" {
			return nil, true
		}
		if !strings.HasPrefix(s, "[") {
			return nil, false
		}
		obj, err := decodeAny([]byte(`{"v":` + s + `}`))
		if err != nil {
			return nil, false
		}
		arr, ok := obj["v"].([]any)
		return arr, ok
	}
	return nil, false
}

// text returns a scalar as a string ("" when absent); numbers and booleans are written as JSON.
func text(v any) string {
	switch t := v.(type) {
	case string:
		return strings.TrimSpace(t)
	case json.Number:
		return t.String()
	case bool:
		return strconv.FormatBool(t)
	}
	return ""
}

// number returns a JSON number or a numeric string as an exact decimal.
func number(v any, name string) (decimal.Decimal, bool, error) {
	s := text(v)
	if s == "" {
		if v != nil && !isScalar(v) {
			return decimal.Zero, false, malformed("%s is not a number", name)
		}
		return decimal.Zero, false, nil
	}
	if _, isBool := v.(bool); isBool {
		return decimal.Zero, false, malformed("%s: %s is not a number", name, s)
	}
	d, err := decimal.NewFromString(s)
	if err != nil || len(s) > 40 {
		return decimal.Zero, false, malformed("%s: %q is not a number", name, clip(s))
	}
	if e := d.Exponent(); e > 30 || e < -30 {
		return decimal.Zero, false, malformed("%s: %s is out of range", name, clip(s))
	}
	return d, true, nil
}

func isScalar(v any) bool {
	switch v.(type) {
	case string, json.Number, bool:
		return true
	}
	return false
}

// flag reads a boolean: JSON true/false, or "true"/"false"/"1"/"0" (XML-to-JSON conversions).
func flag(v any) (value, ok bool) {
	switch t := v.(type) {
	case bool:
		return t, true
	case string, json.Number:
		switch strings.ToLower(text(t)) {
		case "true", "1":
			return true, true
		case "false", "0":
			return false, true
		}
	}
	return false, false
}

// epochMillisMax is 9999-12-31T23:59:59.999Z: a larger number is not a date.
const epochMillisMax = 253402300799999

// civilDate reads a date: "YYYY-MM-DD" (optionally with an XML Schema zone, "2026-01-01-08:00"),
// an RFC 3339 or Salesforce date-time (the date as written), or epoch milliseconds (a number or
// a numeric string, read in UTC, as the Pub/Sub API sends date fields). Absent is nil.
func civilDate(v any, name string) (*commonv1.Date, error) {
	s := text(v)
	if s == "" {
		if v != nil && !isScalar(v) {
			return nil, malformed("%s is not a date", name)
		}
		return nil, nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		if ms < 0 || ms > epochMillisMax {
			return nil, malformed("%s: %s is out of range for epoch milliseconds", name, s)
		}
		return dateOfTime(time.UnixMilli(ms).UTC()), nil
	}
	if t, err := parseMoment(s); err == nil {
		return dateOfTime(t), nil
	}
	if len(s) > len(time.DateOnly) {
		if _, err := time.Parse("Z07:00", s[len(time.DateOnly):]); err == nil {
			s = s[:len(time.DateOnly)]
		}
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return nil, malformed("%s: %q is not a date (YYYY-MM-DD, RFC 3339 or epoch milliseconds)", name, clip(s))
	}
	return dateOfTime(t), nil
}

// parseMoment reads an RFC 3339 date-time or Salesforce's "2026-11-27T10:00:00.000+0000".
func parseMoment(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t, err = time.Parse("2006-01-02T15:04:05.999999999Z0700", s)
	}
	return t, err
}

func dateOfTime(t time.Time) *commonv1.Date {
	return &commonv1.Date{Year: int32(t.Year()), Month: int32(t.Month()), Day: int32(t.Day())}
}

// clip shortens a value quoted in an error message.
func clip(s string) string {
	if len(s) <= 64 {
		return s
	}
	i := 64
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
