package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accrue/accrue/e2e/internal/harness"
	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
)

// Helpers of the operational side: exception queues, quarantine, metrics, concurrent requests,
// problem reasons, and secrets that must not appear in logs.

// listExceptions lists a service's exceptions (query: "kind=...&status=..." or "").
func listExceptions(t testing.TB, env *harness.Env, service, query string) []*opsv1.Exception {
	t.Helper()
	path := "/v1/ops/" + service + "/exceptions?page_size=500"
	if query != "" {
		path += "&" + query
	}
	st, _, body := env.Do(http.MethodGet, path, nil, env.Bearer(opsRead))
	if st != http.StatusOK {
		t.Fatalf("GET %s: %d: %s", path, st, body)
	}
	var resp opsv1.ListExceptionsResponse
	decode(t, body, &resp)
	return resp.GetExceptions()
}

// findException returns the exception of kind about entityID, or nil.
func findException(list []*opsv1.Exception, kind, entityID string) *opsv1.Exception {
	for _, e := range list {
		if e.GetKind() == kind && e.GetEntityId() == entityID {
			return e
		}
	}
	return nil
}

// result is one answer of a concurrent request.
type result struct {
	status int
	body   []byte
	err    error
}

// concurrently sends n requests at once (released together) and returns their answers in order.
// It uses its own HTTP client: the Env's helpers fail the test and must stay on its goroutine.
func concurrently(n int, req func(i int) (*http.Request, error)) []result {
	client := &http.Client{Timeout: 30 * time.Second}
	out := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		r, err := req(i)
		if err != nil {
			out[i].err = err
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, err := client.Do(r)
			if err != nil {
				out[i].err = err
				return
			}
			defer resp.Body.Close()
			out[i].status = resp.StatusCode
			out[i].body, out[i].err = io.ReadAll(resp.Body)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// newRequest builds a request to the Env's gateway.
func newRequest(env *harness.Env, method, path string, body []byte, headers map[string]string) (*http.Request, error) {
	r, err := http.NewRequest(method, env.URL(path), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	return r, nil
}

// problemReason returns the reason member of a problem document ("" when it is not one).
func problemReason(body []byte) string {
	var p harness.Problem
	if json.Unmarshal(body, &p) != nil {
		return ""
	}
	return p.Reason
}

// quarantined returns the gateway's webhook quarantine, newest first.
func quarantined(t testing.TB, env *harness.Env) []quarantineEntry {
	t.Helper()
	st, _, body := env.Do(http.MethodGet, "/v1/ops/gateway/webhook-quarantine?limit=1000", nil, env.Bearer(opsRead))
	if st != http.StatusOK {
		t.Fatalf("GET /v1/ops/gateway/webhook-quarantine: %d: %s", st, body)
	}
	var resp struct {
		Deliveries []quarantineEntry `json:"deliveries"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatalf("quarantine: %v: %s", err, body)
	}
	return resp.Deliveries
}

type quarantineEntry struct {
	Source        string `json:"source"`
	Route         string `json:"route"`
	Reason        string `json:"reason"`
	EventID       string `json:"event_id"`
	BodySHA256    string `json:"body_sha256"`
	CorrelationID string `json:"correlation_id"`
}

// metricValue reads an unlabelled sample of a service's /metrics (false when absent).
func metricValue(t testing.TB, env *harness.Env, service, name string) (string, bool) {
	t.Helper()
	return scrapeSeries(t, "http://"+env.MetricsAddr(service)+"/metrics", name)
}

// scrapeSeries reads the value of one series (its name and labels, exactly as exposed) from the
// /metrics page at url (false when absent).
func scrapeSeries(t testing.TB, url, series string) (string, bool) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// secretLeaks returns the log lines of every process that show one of the secrets as a number
// on its own (not as part of a longer number). Timings ("duration_ms") are not data and are
// skipped; everything else of a JSON line is searched, and non-JSON lines entirely.
func secretLeaks(env *harness.Env, secrets ...string) []string {
	var pats []*regexp.Regexp
	for _, s := range secrets {
		pats = append(pats, regexp.MustCompile(`(^|[^0-9.])`+regexp.QuoteMeta(s)+`($|[^0-9])`))
	}
	var leaks []string
	for _, proc := range append(append([]string{}, harness.Services...), harness.Gateway) {
		sc := bufio.NewScanner(strings.NewReader(env.Logs(proc)))
		sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
		for sc.Scan() {
			line := sc.Text()
			text := line
			var fields map[string]any
			if json.Unmarshal([]byte(line), &fields) == nil {
				for k := range fields {
					if strings.Contains(k, "duration") || strings.HasSuffix(k, "_ms") {
						delete(fields, k)
					}
				}
				b, _ := json.Marshal(fields)
				text = string(b)
			}
			for _, p := range pats {
				if p.MatchString(text) {
					leaks = append(leaks, proc+": "+line)
					break
				}
			}
		}
	}
	return leaks
}
