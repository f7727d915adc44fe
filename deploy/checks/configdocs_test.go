package checks_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestEnvDocumented: every variable a deployable program reads (the services, the gateway, the
// dispatcher) is documented in docs/configuration.md, named in backquotes as its tables do.
func TestEnvDocumented(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(root(t), "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	progs := programs(t)
	if _, ok := progs["dispatcher"]; !ok {
		t.Fatal("the dispatcher is not scanned")
	}
	for name, p := range progs {
		var missing []string
		for k := range p.Env {
			if !strings.Contains(doc, "`"+k+"`") {
				missing = append(missing, k)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("%s reads %s, not documented in docs/configuration.md", name, strings.Join(missing, ", "))
		}
	}
}
