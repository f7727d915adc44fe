package service_test

import (
	"strings"
	"testing"

	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/config"
	"github.com/accrue/accrue/internal/platform/service"
)

var defaults = service.Defaults{GRPCAddr: ":9101", MetricsAddr: ":9201", Database: "billing"}

func TestLoadConfigDefaults(t *testing.T) {
	t.Parallel()
	r := config.FromMap(withLinks(map[string]string{"ACCRUE_JWKS_FILE": "/etc/accrue/jwks.json"}))
	c := service.LoadConfig(r, "billing", defaults)
	if err := r.Err(); err != nil {
		t.Fatalf("Err = %v", err)
	}
	if c.GRPCAddr != ":9101" || c.MetricsAddr != ":9201" || c.DBMaxConns != 16 || c.LogLevel != "info" ||
		!strings.HasSuffix(strings.Split(c.DatabaseURL, "?")[0], "/billing") || c.Auth.Audience != "accrue" || c.Auth.JWKSFile != "/etc/accrue/jwks.json" {
		t.Fatalf("config = %+v", c)
	}
	if c.TokenSource() != nil {
		t.Error("a token source without any credentials configured")
	}
}

func TestLoadConfigReportsEveryProblem(t *testing.T) {
	t.Parallel()
	r := config.FromMap(map[string]string{"ACCRUE_DB_MAX_CONNS": "many", "ACCRUE_LOG_LEVEL": "chatty", "ACCRUE_SHUTDOWN_GRACE": "soon"})
	service.LoadConfig(r, "billing", defaults)
	err := r.Err()
	if err == nil {
		t.Fatal("invalid configuration accepted")
	}
	for _, want := range []string{"ACCRUE_DB_MAX_CONNS", "ACCRUE_LOG_LEVEL", "ACCRUE_SHUTDOWN_GRACE", "JWKS",
		"ACCRUE_TLS_CERT_FILE", "ACCRUE_EVENT_KEYS_DIR"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s: %v", want, err)
		}
	}
}

func TestTokenSourceChoice(t *testing.T) {
	t.Parallel()
	c := service.Config{ServiceTokenFile: "/var/run/token"}
	if _, ok := c.TokenSource().(*auth.FileTokenSource); !ok {
		t.Errorf("token file → %T", c.TokenSource())
	}
	c = service.Config{OAuthTokenURL: "https://idp/token", OAuthClientID: "billing"}
	if cc, ok := c.TokenSource().(*auth.ClientCredentials); !ok || cc.ClientID != "billing" {
		t.Errorf("oauth → %T", c.TokenSource())
	}
}

// withLinks adds the internal links' credentials every service needs outside development mode.
func withLinks(m map[string]string) map[string]string {
	m["ACCRUE_TLS_CERT_FILE"], m["ACCRUE_TLS_KEY_FILE"], m["ACCRUE_TLS_CA_FILE"] = "/tls/tls.crt", "/tls/tls.key", "/tls/ca.crt"
	m["ACCRUE_EVENT_KEYS_DIR"] = "/event-keys"
	return m
}

// TestLinksRequiredOutsideDevMode: mutual TLS and event keys are required unless
// ACCRUE_INSECURE_DEV is set; a partial TLS set is refused even then.
func TestLinksRequiredOutsideDevMode(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		env  map[string]string
		want []string // "" = no error
	}{
		"production without credentials": {map[string]string{}, []string{"ACCRUE_TLS_CERT_FILE", "ACCRUE_EVENT_KEYS_DIR"}},
		"production with credentials":    {withLinks(map[string]string{}), nil},
		"development mode":               {map[string]string{"ACCRUE_INSECURE_DEV": "true"}, nil},
		"development mode, partial TLS":  {map[string]string{"ACCRUE_INSECURE_DEV": "true", "ACCRUE_TLS_CERT_FILE": "/c"}, []string{"ACCRUE_TLS_KEY_FILE"}},
	} {
		tc.env["ACCRUE_JWKS_FILE"] = "/j"
		r := config.FromMap(tc.env)
		c := service.LoadConfig(r, "billing", defaults)
		err := r.Err()
		if tc.want == nil && err != nil {
			t.Errorf("%s: %v", name, err)
		}
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %v does not mention %s", name, err, w)
			}
		}
		if name == "production with credentials" && (c.TLS.CAFile != "/tls/ca.crt" || c.EventKeysDir != "/event-keys") {
			t.Errorf("links = %+v", c.Links)
		}
	}
}
