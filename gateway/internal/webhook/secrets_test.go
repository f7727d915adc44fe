package webhook_test

import (
	"strings"
	"testing"
	"time"

	"github.com/accrue/accrue/gateway/internal/webhook"
	"github.com/accrue/accrue/internal/platform/fault"
)

func TestParseSecrets(t *testing.T) {
	t.Parallel()
	s, err := webhook.ParseSecrets(`# make run
salesforce.opportunities/salesforce=sf-secret-0123456789
timeexpense.approved/tne=tne-secret-0123456789
timeexpense.approved/tne=tne-rotated-0123456789
, workday.workers/workday = wd-secret-0123456789`)
	if err != nil {
		t.Fatal(err)
	}
	if got := s[webhook.Binding{Route: "timeexpense.approved", Source: "tne"}]; len(got) != 2 || string(got[1]) != "tne-rotated-0123456789" {
		t.Errorf("rotated secrets of tne: %q", got)
	}
	if got := strings.Join(s.Sources(), " "); got != "salesforce tne workday" {
		t.Errorf("sources %q", got)
	}
	if got := strings.Join(s.Routes(), " "); got != "salesforce.opportunities timeexpense.approved workday.workers" {
		t.Errorf("routes %q", got)
	}

	for text, want := range map[string]string{
		// The old form would open every route: refused, with the way out.
		"salesforce=sf-secret-0123456789": "names no route",
		"crm.opportunities/crm=short":     "shorter than 16",
		"crm.opportunities/crm=same-secret-0123456789\nhcm.workers/hcm=same-secret-0123456789": "same secret",
		"crm.opportunities/bad source=crm-secret-0123456789":                                   "is not <route>/<source>",
		"crm.opportunities/crm": "no \"=\"",
	} {
		_, err := webhook.ParseSecrets(text)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseSecrets(%q) = %v, want an error containing %q", text, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "0123456789") {
			t.Errorf("the error quotes a secret: %v", err)
		}
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	secret, body := []byte("sf-secret-0123456789"), []byte(`{"event_id":"e-1"}`)
	reason := func(err error) string { fe, _ := fault.As(err); return fe.Reason }
	if err := webhook.Verify(webhook.Sign(secret, now, body), [][]byte{[]byte("old-secret-0123456789"), secret}, body, now, time.Minute); err != nil {
		t.Errorf("a signature by the second secret of a rotation: %v", err)
	}
	for name, c := range map[string]struct {
		header string
		want   string
	}{
		"missing":       {"", webhook.ReasonSignatureMissing},
		"garbled":       {"v1=abc", webhook.ReasonSignatureInvalid},
		"other secret":  {webhook.Sign([]byte("another-secret-0123456789"), now, body), webhook.ReasonSignatureInvalid},
		"body modified": {webhook.Sign(secret, now, []byte(`{"event_id":"e-2"}`)), webhook.ReasonSignatureInvalid},
		"stale":         {webhook.Sign(secret, now.Add(-2*time.Minute), body), webhook.ReasonStaleTimestamp},
	} {
		if got := reason(webhook.Verify(c.header, [][]byte{secret}, body, now, time.Minute)); got != c.want {
			t.Errorf("%s: %q, want %q", name, got, c.want)
		}
	}
}
