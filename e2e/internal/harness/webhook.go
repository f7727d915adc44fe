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
// /webhooks/<kind>/{source}/...). A secret is valid for one route and source only, so each
// source has a random signing secret per route (ACCRUE_WEBHOOK_SECRETS_FILE, lines
// "<route>/<source>=<secret>").
var WebhookSources = []string{"salesforce", "hubspot", "workday", "bamboohr", "netsuite"}

// WebhookRoutes maps the "<kind>/<object>" of a webhook path to the gateway's route name.
var WebhookRoutes = map[string]string{
	"salesforce/opportunities":     "salesforce.opportunities",
	"crm/opportunities":            "crm.opportunities",
	"workday/workers":              "workday.workers",
	"hcm/workers":                  "hcm.workers",
	"timeexpense/approved-entries": "timeexpense.approved",
	"suppliercost/bills":           "suppliercost.bills",
}

// homeRoutes is the route whose secret WebhookSecret and WebhookHeaders use for a source.
var homeRoutes = map[string]string{"salesforce": "salesforce.opportunities", "hubspot": "crm.opportunities",
	"workday": "workday.workers", "bamboohr": "hcm.workers"}

// SignatureHeader is the header carrying a webhook's signature.
const SignatureHeader = "X-Accrue-Signature"

// writeWebhookSecrets writes the Env's webhook secrets file.
func (e *Env) writeWebhookSecrets() error {
	e.webhookSecrets = map[string][]byte{}
	var b strings.Builder
	for _, route := range WebhookRoutes {
		for _, s := range WebhookSources {
			raw := make([]byte, 24)
			if _, err := rand.Read(raw); err != nil {
				return err
			}
			secret := hex.EncodeToString(raw)
			e.webhookSecrets[route+"/"+s] = []byte(secret)
			fmt.Fprintf(&b, "%s/%s=%s\n", route, s, secret)
		}
	}
	return os.WriteFile(filepath.Join(e.dir, "webhook-secrets"), []byte(b.String()), 0o600)
}

// WebhookSecret returns the signing secret of a webhook source (one of WebhookSources) on its
// own kind of route: salesforce on the Salesforce route, hubspot on the CRM route, workday on the
// Workday route, bamboohr on the HCM route. WebhookRouteSecret names the route.
func (e *Env) WebhookSecret(source string) []byte {
	e.t.Helper()
	return e.WebhookRouteSecret(homeRoutes[source], source)
}

// WebhookRouteSecret returns the signing secret of source on route ("timeexpense.approved").
func (e *Env) WebhookRouteSecret(route, source string) []byte {
	e.t.Helper()
	s, ok := e.webhookSecrets[route+"/"+source]
	if !ok {
		e.t.Fatalf("harness: no webhook secret for route %q and source %q (sources: %v)", route, source, WebhookSources)
	}
	return s
}

// WebhookRouteOf returns the route name of a webhook path ("/webhooks/crm/hubspot/opportunities").
func (e *Env) WebhookRouteOf(path string) string {
	e.t.Helper()
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) == 4 && parts[0] == "webhooks" {
		if r, ok := WebhookRoutes[parts[1]+"/"+parts[3]]; ok {
			return r
		}
	}
	e.t.Fatalf("harness: %s is not a webhook path", path)
	return ""
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
// zero) with the source's secret on its own kind of route (see WebhookSecret).
func (e *Env) WebhookHeaders(source string, body []byte, t time.Time) map[string]string {
	e.t.Helper()
	return e.signedHeaders(e.WebhookSecret(source), body, t)
}

// WebhookHeadersFor returns the headers of a delivery of body from source to path, signed at t
// (now when zero) with the secret of path's route and source.
func (e *Env) WebhookHeadersFor(path, source string, body []byte, t time.Time) map[string]string {
	e.t.Helper()
	return e.signedHeaders(e.WebhookRouteSecret(e.WebhookRouteOf(path), source), body, t)
}

func (e *Env) signedHeaders(secret, body []byte, t time.Time) map[string]string {
	if t.IsZero() {
		t = time.Now()
	}
	return map[string]string{SignatureHeader: SignWebhook(secret, t, body), "Content-Type": "application/json"}
}

// PostWebhook delivers body to the gateway's webhook path, signed now with the secret of the
// path's route and source.
func (e *Env) PostWebhook(path, source string, body []byte) (int, http.Header, []byte) {
	e.t.Helper()
	return e.Do(http.MethodPost, path, body, e.WebhookHeadersFor(path, source, body, time.Time{}))
}
