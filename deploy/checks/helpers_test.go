package checks_test

import (
	"sync"
	"testing"

	"github.com/accrue/accrue/deploy/checks"
)

var scanned = sync.OnceValues(func() (map[string]checks.Program, error) {
	r, err := checks.FindRoot(".")
	if err != nil {
		return nil, err
	}
	return checks.Programs(r)
})

func root(t *testing.T) string {
	t.Helper()
	r, err := checks.FindRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// programs returns what every deployable program reads, scanned from the code once per run.
func programs(t *testing.T) map[string]checks.Program {
	t.Helper()
	p, err := scanned()
	if err != nil {
		t.Fatal(err)
	}
	return p
}
