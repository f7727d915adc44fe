package secretbox

import (
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	k, err := Parse("# keys\n" + NewKeyLine("2026-12") + "\n" + NewKeyLine("2026-01") + "\n")
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := k.Seal("whsec_abc", "sub-1")
	if err != nil || !strings.HasPrefix(sealed, "enc:v1:2026-12:") || strings.Contains(sealed, "abc") {
		t.Fatalf("Seal = %q, %v", sealed, err)
	}
	if got, err := k.Open(sealed, "sub-1"); err != nil || got != "whsec_abc" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := k.Open(sealed, "sub-2"); err == nil {
		t.Fatal("a sealed secret opened for another subscription")
	}
	if got, err := k.Open("whsec_legacy", "sub-1"); err != nil || got != "whsec_legacy" {
		t.Fatalf("Open(plain) = %q, %v", got, err)
	}
	if got, _ := k.Seal("", "sub-1"); got != "" {
		t.Fatalf("Seal(\"\") = %q", got)
	}
	for _, bad := range []string{"", "k1:short", "k1", ":" + strings.Split(NewKeyLine("x"), ":")[1]} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}
