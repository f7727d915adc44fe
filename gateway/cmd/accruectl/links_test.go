package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/accrue/accrue/internal/platform/eventsig"
	"github.com/accrue/accrue/internal/platform/tlsx"
)

// TestServiceScopes: each service's token carries exactly the scopes of the calls its contract
// declares: the project service (customers, contracts and legal entities during a conversion) four,
// billing (reconciliation: approved entries, published events, inboxes) two, the services that call
// no other none (they get no token at all).
func TestServiceScopes(t *testing.T) {
	var out bytes.Buffer
	if err := serviceScopes(&out); err != nil {
		t.Fatal(err)
	}
	want := "customer\nproject billing:read,billing:write,customers:read,customers:write\nresource\ntimeexpense\nbilling ops:read,time:read\n"
	if out.String() != want {
		t.Fatalf("service-scopes =\n%s\nwant\n%s", out.String(), want)
	}
}

// TestCertsAndEventKeys: certs makes a CA and a loadable pair per name, keeping both on a second
// run; event-keys makes one loadable key per producer and only the missing ones again.
func TestCertsAndEventKeys(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run([]string{"certs", "--dir", dir, "--names", "customer,gateway"}, &out); err != nil {
		t.Fatal(err)
	}
	ca, _ := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if _, err := tlsx.NewReloader(tlsx.Files{CertFile: filepath.Join(dir, "gateway.crt"), KeyFile: filepath.Join(dir, "gateway.key"),
		CAFile: filepath.Join(dir, "ca.crt")}); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run([]string{"certs", "--dir", dir, "--names", "customer,gateway,billing"}, &out); err != nil {
		t.Fatal(err)
	}
	ca2, _ := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if !bytes.Equal(ca, ca2) || !strings.Contains(out.String(), "issued billing") || strings.Contains(out.String(), "customer") {
		t.Fatalf("second run: %q (CA kept: %v)", out.String(), bytes.Equal(ca, ca2))
	}

	keys := t.TempDir()
	if err := run([]string{"event-keys", "--dir", keys, "--producers", "customer,billing"}, &out); err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"event-keys", "--dir", keys, "--producers", "customer,billing", "--id", "next"}, &out); err != nil {
		t.Fatal(err)
	}
	ring, err := eventsig.LoadDir(keys)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := ring.Signer("billing", "next"); err != nil || s.KeyID() != "next" {
		t.Fatalf("rotation key: %v, %v", s, err)
	}
	files, _ := filepath.Glob(filepath.Join(keys, "*.key"))
	if len(files) != 4 {
		t.Fatalf("%d key files, want 4", len(files))
	}
}

// TestServiceScopesDocumented: the table of service tokens in docs/configuration.md says what
// service-scopes prints.
func TestServiceScopesDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(doc), "<!-- service-scopes:")
	table, _, ok2 := strings.Cut(table, "<!-- /service-scopes -->")
	if !ok || !ok2 {
		t.Fatal("docs/configuration.md has no service-scopes table")
	}
	documented := map[string]string{}
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 5 || strings.TrimSpace(cells[1]) == "service" || strings.HasPrefix(strings.TrimSpace(cells[1]), "-") {
			continue
		}
		scopes := strings.NewReplacer("no token", "", "`", "", " ", "").Replace(cells[3])
		documented[strings.TrimSpace(cells[1])] = scopes
	}
	var out bytes.Buffer
	if err := serviceScopes(&out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(documented) != len(lines) {
		t.Errorf("the table documents %d services, service-scopes lists %d", len(documented), len(lines))
	}
	for _, line := range lines {
		name, scopes, _ := strings.Cut(line, " ")
		if got, ok := documented[name]; !ok || got != scopes {
			t.Errorf("docs/configuration.md: %s has scopes %q, service-scopes says %q", name, got, scopes)
		}
	}
}
