package correlation_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/accrue/accrue/internal/platform/correlation"
)

func TestEnsureKeepsAnExistingID(t *testing.T) {
	t.Parallel()
	ctx, id := correlation.Ensure(context.Background())
	if _, err := uuid.Parse(id); err != nil || correlation.ID(ctx) != id {
		t.Fatalf("minted id %q (%v), ctx carries %q", id, err, correlation.ID(ctx))
	}
	ctx2, id2 := correlation.Ensure(ctx)
	if id2 != id || correlation.ID(ctx2) != id {
		t.Fatalf("Ensure replaced the correlation id %q with %q", id, id2)
	}
	ctx3 := correlation.WithCausation(ctx2, "evt-1")
	if correlation.CausationID(ctx3) != "evt-1" || correlation.ID(ctx3) != id || correlation.CausationID(ctx) != "" {
		t.Fatal("causation id not carried independently")
	}
}

func TestValid(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]bool{
		"01890a5d-ac96-774b-bcce-b302099a8057": true,
		"webhook:stripe:evt_1":                 true,
		"":                                     false,
		"has space":                            false,
		"line\nbreak":                          false,
		"tab\tx":                               false,
		"naïve":                                false,
		strings.Repeat("a", 128):               true,
		strings.Repeat("a", 129):               false,
	} {
		if got := correlation.Valid(id); got != want {
			t.Errorf("Valid(%q) = %v, want %v", id, got, want)
		}
	}
}
