package harness

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// Do sends a request to the gateway and returns the status, headers and body. body may be nil,
// a []byte or string (sent as is), an io.Reader, or anything else (sent as JSON). A JSON
// Content-Type is set for a body unless headers name one. Transport errors fail the test.
//
// A write carrying an Idempotency-Key that is answered 503 (a dependency down, a connection lost
// at COMMIT) is sent again after the Retry-After the gateway names (at most retry503 times), as
// a well-behaved client does: the key makes the retry safe. Other requests are sent once.
func (e *Env) Do(method, path string, body any, headers map[string]string) (int, http.Header, []byte) {
	e.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		raw = b
	case string:
		raw = []byte(b)
	case io.Reader:
		var err error
		if raw, err = io.ReadAll(b); err != nil {
			e.t.Fatalf("harness: read body: %v", err)
		}
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatalf("harness: encode body: %v", err)
		}
		raw = j
	}
	_, keyed := headers["Idempotency-Key"]
	for attempt := 0; ; attempt++ {
		st, hdr, out := e.send(method, path, body != nil, raw, headers)
		if st != http.StatusServiceUnavailable || !keyed || attempt == retry503 {
			return st, hdr, out
		}
		time.Sleep(retryAfter(hdr))
	}
}

// retry503 is how many times Do sends a keyed write again after a 503.
const retry503 = 3

// retryAfter is the wait a 503 asks for (Retry-After in seconds, at most 2 s; 200 ms without one).
func retryAfter(h http.Header) time.Duration {
	if n, err := strconv.Atoi(h.Get("Retry-After")); err == nil && n >= 0 {
		return min(time.Duration(n)*time.Second, 2*time.Second)
	}
	return 200 * time.Millisecond
}

func (e *Env) send(method, path string, hasBody bool, raw []byte, headers map[string]string) (int, http.Header, []byte) {
	e.t.Helper()
	var r io.Reader
	if hasBody {
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.URL(path), r)
	if err != nil {
		e.t.Fatalf("harness: %v", err)
	}
	if r != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := e.http.Do(req)
	if err != nil {
		e.t.Fatalf("harness: %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("harness: %s %s: read body: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header, out
}

// Bearer returns headers carrying a token with the given scopes, plus any extra pairs
// (key, value, key, value, ...).
func (e *Env) Bearer(scopes []string, kv ...string) map[string]string {
	e.t.Helper()
	h := map[string]string{"Authorization": "Bearer " + e.Token(scopes...)}
	for i := 0; i+1 < len(kv); i += 2 {
		h[kv[i]] = kv[i+1]
	}
	return h
}

// Problem is an RFC 9457 problem document as the gateway writes it.
type Problem struct {
	Type          string            `json:"type"`
	Title         string            `json:"title"`
	Status        int               `json:"status"`
	Detail        string            `json:"detail"`
	Instance      string            `json:"instance"`
	Reason        string            `json:"reason"`
	Violations    []Violation       `json:"violations"`
	CorrelationID string            `json:"correlation_id"`
	Metadata      map[string]string `json:"metadata"`
}

// Violation is one field problem.
type Violation struct {
	Field       string `json:"field"`
	Description string `json:"description"`
}

// Fields returns the fields the violations name.
func (p Problem) Fields() []string {
	out := make([]string, len(p.Violations))
	for i, v := range p.Violations {
		out[i] = v.Field
	}
	return out
}

// DecodeProblem checks that a response is an application/problem+json document whose status
// member matches the HTTP status, and decodes it.
func DecodeProblem(t testing.TB, status int, hdr http.Header, body []byte) Problem {
	t.Helper()
	mt, _, _ := mime.ParseMediaType(hdr.Get("Content-Type"))
	if mt != "application/problem+json" {
		t.Fatalf("status %d: Content-Type %q, want application/problem+json; body: %s", status, hdr.Get("Content-Type"), body)
	}
	var p Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("problem document does not decode: %v: %s", err, body)
	}
	if p.Status != status {
		t.Errorf("problem status member %d, HTTP status %d", p.Status, status)
	}
	return p
}

// Eventually calls check every interval until it returns nil, and fails t with check's last
// error when timeout passes first. It returns how long it took.
func Eventually(t testing.TB, timeout, interval time.Duration, check func() error) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		err := check()
		if err == nil {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("not within %s: %v", timeout, err)
		}
		time.Sleep(interval)
	}
}
