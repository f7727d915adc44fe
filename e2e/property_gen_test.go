package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
)

// spec is the part of the gateway's OpenAPI (swagger 2.0) document the property test reads.
type spec struct {
	Paths       map[string]map[string]operation `json:"paths"`
	Definitions map[string]schema               `json:"definitions"`
}

type operation struct {
	OperationID string      `json:"operationId"`
	Parameters  []parameter `json:"parameters"`
}

type parameter struct {
	Name   string   `json:"name"`
	In     string   `json:"in"`
	Type   string   `json:"type"`
	Format string   `json:"format"`
	Enum   []string `json:"enum"`
	Schema *schema  `json:"schema"`
	Items  *schema  `json:"items"`
}

type schema struct {
	Ref        string            `json:"$ref"`
	Type       string            `json:"type"`
	Format     string            `json:"format"`
	Enum       []string          `json:"enum"`
	Properties map[string]schema `json:"properties"`
	Items      *schema           `json:"items"`
}

// route is one REST operation of the spec.
type route struct {
	method, path string
	op           operation
}

func (s spec) routes() []route {
	var out []route
	for p, ops := range s.Paths {
		for m, op := range ops {
			out = append(out, route{method: strings.ToUpper(m), path: p, op: op})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path+out[i].method < out[j].path+out[j].method })
	return out
}

// gen generates request parts from the spec: mostly plausible values with one field made
// hostile (a boundary, a control character, a huge number, the wrong JSON type), sometimes a
// hostile body as a whole.
type gen struct {
	r    *rand.Rand
	defs map[string]schema
	// known holds ids of records that exist, by field name (project_id, resource_id, …), so that
	// plausible requests reach the services' rules, not only their not-found answers.
	known map[string][]string
}

// A UUIDv7 minted long ago (never seen by any service) and one minted now.
const oldID = "01a2210c-0000-7000-8000-0000000000ee"

func freshID() string { return uuid.Must(uuid.NewV7()).String() }

var hostileStrings = []string{
	"", " ", "a\x00b", "\x00", "x\x1b[31mred", "\u0085next", "\u200bzero-width", "\u00e9\u00e8 Z\u00fcrich",
	strings.Repeat("A", 5000), "-1", "0", "-0.01", "24.01", "25", "100", "1e400", "NaN", "Infinity",
	"1234567890123456789.00", "999999999999999999.99", "0.001", "12,50", "2026-13-45", "9999-12-31",
	"not-a-uuid", oldID, "'; DROP TABLE customers; --", "{\"nested\":true}", "%00", "../../etc/passwd",
}

// hostileJSON are values of the wrong JSON type for any field, or extremes of the right one.
var hostileJSON = []any{nil, true, -1, 0, 2147483648, -9223372036854775809.0, 1e308, []any{}, []any{1, "x"},
	map[string]any{}, map[string]any{"x": 1}, "x", 1.5}

// hostileBodies are whole request bodies.
var hostileBodies = []string{"", "{", "[]", "null", `"text"`, "1e999", `{"unknown_field":1}`, "\x00", `{"a":` + strings.Repeat("[", 200)}

func (g gen) pick(n int) int { return g.r.IntN(n) }

// value returns a plausible value for a field named name of schema s.
func (g gen) value(name string, s schema, depth int) any {
	if s.Ref != "" {
		return g.object(s.Ref, depth)
	}
	if len(s.Enum) > 0 {
		if len(s.Enum) == 1 {
			return s.Enum[0]
		}
		return s.Enum[1+g.pick(len(s.Enum)-1)] // not the UNSPECIFIED zero value
	}
	switch s.Type {
	case "object":
		if depth > 4 || len(s.Properties) == 0 {
			return map[string]any{}
		}
		out := map[string]any{}
		for k, p := range s.Properties {
			out[k] = g.value(k, p, depth+1)
		}
		return out
	case "array":
		if s.Items == nil || depth > 4 {
			return []any{}
		}
		return []any{g.value(name, *s.Items, depth+1)}
	case "boolean":
		return g.pick(2) == 0
	case "integer":
		switch name {
		case "year":
			return 2026
		case "month":
			return 6
		case "day":
			return 10
		}
		return 10
	case "number":
		return 1.5
	}
	return g.plausibleString(name, s.Format)
}

func (g gen) plausibleString(name, format string) string {
	switch {
	case format == "int64" || format == "uint64":
		return "1"
	case format == "date-time":
		return time.Date(2026, 6, 10, 9, 0, 0, 0, time.UTC).Format(time.RFC3339)
	case strings.HasSuffix(name, "_id") || name == "id":
		if ids := g.known[name]; len(ids) > 0 && g.pick(3) > 0 {
			return ids[g.pick(len(ids))]
		}
		if g.pick(3) == 0 {
			return freshID()
		}
		return oldID
	case name == "legal_entity_code" || name == "home_legal_entity_code":
		return "US01"
	case strings.HasSuffix(name, "currency_code"):
		return "USD"
	case name == "amount" || strings.Contains(name, "rate") || strings.Contains(name, "hours") || strings.Contains(name, "percent"):
		return "8"
	case name == "system":
		return "salesforce"
	case name == "period":
		return "2026-06"
	case strings.Contains(name, "role") || strings.Contains(name, "service_line") || name == "category" || name == "code":
		return "CONSULTANT"
	case strings.Contains(name, "email"):
		return "a@example.com"
	}
	return "Property test " + name
}

func (g gen) object(ref string, depth int) any {
	def, ok := g.defs[strings.TrimPrefix(ref, "#/definitions/")]
	if !ok || depth > 5 {
		return map[string]any{}
	}
	return g.value("", def, depth+1)
}

// hostile returns a hostile value: a string of hostileStrings or a JSON value of hostileJSON.
func (g gen) hostile() any {
	if g.pick(3) > 0 {
		return hostileStrings[g.pick(len(hostileStrings))]
	}
	return hostileJSON[g.pick(len(hostileJSON))]
}

// mutate replaces one leaf of v (a map or slice tree) by a hostile value, and returns the
// path it changed.
func (g gen) mutate(v any, path string) (any, string) {
	switch t := v.(type) {
	case map[string]any:
		if len(t) == 0 || g.pick(6) == 0 {
			return g.hostile(), path
		}
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		k := keys[g.pick(len(keys))]
		nv, p := g.mutate(t[k], strings.TrimPrefix(path+"."+k, "."))
		t[k] = nv
		return t, p
	case []any:
		if len(t) == 0 || g.pick(4) == 0 {
			return g.hostile(), path
		}
		nv, p := g.mutate(t[0], path+"[0]")
		t[0] = nv
		return t, p
	}
	return g.hostile(), path
}

// request builds one request for rt: the path with its parameters filled in, the query, the
// body (nil when the operation takes none) and a note of what was made hostile.
func (g gen) request(rt route, valid bool) (path string, body []byte, note string) {
	path = rt.path
	q := url.Values{}
	var bodyVal any
	hasBody := false
	for _, p := range rt.op.Parameters {
		switch p.In {
		case "path":
			v := g.plausibleString(p.Name, p.Format)
			if p.Name == "service" {
				v = []string{"customer", "project", "resource", "timeexpense", "billing"}[g.pick(5)]
			}
			if !valid && g.pick(3) == 0 {
				v = fmt.Sprint(hostileStrings[g.pick(len(hostileStrings))])
				note = "path " + p.Name
			}
			if v == "" {
				v = "x"
			}
			path = strings.Replace(path, "{"+p.Name+"}", url.PathEscape(v), 1)
		case "query":
			if g.pick(3) == 0 {
				continue
			}
			var v string
			switch {
			case len(p.Enum) > 0:
				v = p.Enum[g.pick(len(p.Enum))]
			case p.Type == "integer" || p.Format == "int64":
				v = "10"
			case p.Type == "boolean":
				v = "true"
			default:
				v = g.plausibleString(p.Name[strings.LastIndex(p.Name, ".")+1:], p.Format)
			}
			if !valid && g.pick(2) == 0 {
				v = fmt.Sprint(g.hostile())
				note += " query " + p.Name
			}
			q.Set(p.Name, v)
		case "body":
			hasBody = true
			if p.Schema != nil {
				bodyVal = g.value(p.Name, *p.Schema, 0)
			}
		}
	}
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	if !hasBody {
		return path, nil, strings.TrimSpace(note)
	}
	if !valid {
		if g.pick(8) == 0 {
			b := hostileBodies[g.pick(len(hostileBodies))]
			return path, []byte(b), "body " + fmt.Sprintf("%q", b)
		}
		var field string
		bodyVal, field = g.mutate(bodyVal, "")
		note = strings.TrimSpace(note + " field " + field)
	}
	b, err := json.Marshal(bodyVal)
	if err != nil {
		b = []byte("{}")
	}
	return path, b, note
}
