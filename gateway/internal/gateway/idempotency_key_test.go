package gateway

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/accrue/accrue/internal/platform/idempotency"
)

// The gateway reads Idempotency-Key with the services' parser: `"k"` and `k` reach the service
// as the same key (in the draft's quoted form, which the service reads back as k); two headers,
// a list, an empty, over-long or non-ASCII key answer 400 IDEMPOTENCY_KEY_INVALID naming the
// header, and nothing reaches the service.
func TestIdempotencyKeyHeader(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, nil)
	tok := "Bearer " + e.token("crm-connector", "projects:write")
	body := []byte(`{"crm_system":"salesforce","opportunity_id":"006A"}`)
	post := func(keys ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/v1/opportunities:convert", bytes.NewReader(body))
		req.Header.Set("Authorization", tok)
		req.Header.Set("Content-Type", "application/json")
		for _, k := range keys {
			req.Header.Add("Idempotency-Key", k)
		}
		rec := httptest.NewRecorder()
		e.g.Handler().ServeHTTP(rec, req)
		return rec
	}

	for _, k := range []string{`"deal-006A"`, `deal-006A`, ` "deal-006A";src=crm`} {
		if rec := post(k); rec.Code >= 300 {
			t.Fatalf("Idempotency-Key %s: %d %s", k, rec.Code, rec.Body)
		}
	}
	calls := e.project.Calls()
	if len(calls) != 3 {
		t.Fatalf("%d upstream calls, want 3", len(calls))
	}
	for i, c := range calls {
		if len(c.idempotencyKeys) != 1 || c.idempotencyKeys[0] != `"deal-006A"` {
			t.Errorf("call %d reached the service with idempotency-key %q, want one value \"deal-006A\" quoted", i, c.idempotencyKeys)
		}
		if key, _, err := idempotency.ParseKey(c.idempotencyKeys); err != nil || key != "deal-006A" {
			t.Errorf("the service reads call %d's key as %q, %v", i, key, err)
		}
	}

	for name, keys := range map[string][]string{
		"two headers":      {`"a"`, `"b"`},
		"two equal bare":   {`a`, `a`},
		"a list":           {`"a", "b"`},
		"a bare list":      {`a, b`},
		"empty quoted":     {`""`},
		"over-long":        {`"` + strings.Repeat("k", 256) + `"`},
		"not ASCII":        {"cl\u00e9"},
		"unclosed quote":   {`"abc`},
		"junk after quote": {`"abc" def`},
	} {
		rec := post(keys...)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", name, rec.Code, rec.Body)
			continue
		}
		p := problemOf(t, rec)
		if p.Reason != idempotency.ReasonInvalid || len(p.Violations) != 1 || p.Violations[0].Field != "Idempotency-Key" ||
			p.Type != "https://accrue.dev/problems/idempotency-key-invalid" {
			t.Errorf("%s: problem %+v, want IDEMPOTENCY_KEY_INVALID with a violation on Idempotency-Key", name, p)
		}
	}
	// An empty header line is refused as well (it is a present, empty key).
	if rec := post(""); rec.Code != http.StatusBadRequest {
		t.Errorf("empty Idempotency-Key: %d, want 400", rec.Code)
	}
	if n := len(e.project.Calls()); n != 3 {
		t.Errorf("%d upstream calls after the refusals, want still 3", n)
	}
}
