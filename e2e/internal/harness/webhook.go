package harness

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// WebhookSources are the webhook sources every Env's gateway knows (the {source} segment of
// /webhooks/<kind>/{source}/...), each with its own random signing secret: the gateway reads
// them from ACCRUE_WEBHOOK_SECRETS_FILE.
var WebhookSources = []string{"salesforce", "hubspot", "workday", "bamboohr"}

// SignatureHeader is the header carrying a webhook's signature.
const SignatureHeader = "X-Accrue-Signature"

// writeWebhookSecrets writes the Env's webhook secrets file ("source=secret" lines).
func (e *Env) writeWebhookSecrets() error {
	e.webhookSecrets = map[string][]byte{}
	var b strings.Builder
	for _, s := range WebhookSources {
		raw := make([]byte, 24)
		if _, err := rand.Read(raw); err != nil {
			return err
		}
		secret := hex.EncodeToString(raw)
		e.webhookSecrets[s] = []byte(secret)
		fmt.Fprintf(&b, "%s=%s\n", s, secret)
	}
	return os.WriteFile(filepath.Join(e.dir, "webhook-secrets"), []byte(b.String()), 0o600)
}

// WebhookSecret returns the signing secret of a webhook source (one of WebhookSources).
func (e *Env) WebhookSecret(source string) []byte {
	e.t.Helper()
	s, ok := e.webhookSecrets[source]
	if !ok {
		e.t.Fatalf("harness: no webhook source %q (sources: %v)", source, WebhookSources)
	}
	return s
}

// SignWebhook returns the X-Accrue-Signature value of body signed with secret at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">" (written from the contract, not
// borrowed from the gateway, so the two are checked against each other).
func SignWebhook(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts + "."))
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// WebhookHeaders returns the headers of a delivery of body from source signed at t (now when
// zero) with the source's secret.
func (e *Env) WebhookHeaders(source string, body []byte, t time.Time) map[string]string {
	e.t.Helper()
	if t.IsZero() {
		t = time.Now()
	}
	return map[string]string{SignatureHeader: SignWebhook(e.WebhookSecret(source), t, body), "Content-Type": "application/json"}
}

// PostWebhook delivers body to the gateway's webhook path, signed now with source's secret.
func (e *Env) PostWebhook(path, source string, body []byte) (int, http.Header, []byte) {
	e.t.Helper()
	return e.Do(http.MethodPost, path, body, e.WebhookHeaders(source, body, time.Time{}))
}
