package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/accrue/accrue/internal/platform/config"
)

func TestReaderValues(t *testing.T) {
	t.Parallel()
	r := config.FromMap(map[string]string{
		"ADDR": "  :8080  ", "CONNS": "16", "GRACE": "250ms", "DEBUG": "true", "LEVEL": "warn", "BLANK": "   ",
	})
	if got := r.String("ADDR", ":9000"); got != ":8080" {
		t.Errorf("String = %q, want trimmed :8080", got)
	}
	if got := r.String("MISSING", ":9000"); got != ":9000" {
		t.Errorf("String default = %q", got)
	}
	if got := r.String("BLANK", "def"); got != "def" {
		t.Errorf("blank value = %q, want the default", got)
	}
	if got := r.Int("CONNS", 4); got != 16 {
		t.Errorf("Int = %d", got)
	}
	if got := r.Duration("GRACE", time.Second); got != 250*time.Millisecond {
		t.Errorf("Duration = %v", got)
	}
	if got := r.Bool("DEBUG", false); !got {
		t.Error("Bool = false")
	}
	if got := r.OneOf("LEVEL", "info", "debug", "info", "warn"); got != "warn" {
		t.Errorf("OneOf = %q", got)
	}
	if got := r.OneOf("NO_LEVEL", "info", "debug", "info"); got != "info" {
		t.Errorf("OneOf default = %q", got)
	}
	if got := r.Required("ADDR"); got != ":8080" {
		t.Errorf("Required = %q", got)
	}
	if err := r.Err(); err != nil {
		t.Fatalf("Err = %v, want nil", err)
	}
}

func TestReaderReportsEveryProblem(t *testing.T) {
	t.Parallel()
	r := config.FromMap(map[string]string{
		"CONNS": "sixteen", "GRACE": "5", "NEG": "-1s", "DEBUG": "yes", "LEVEL": "verbose", "DB": "  ",
	})
	if got := r.Int("CONNS", 4); got != 4 {
		t.Errorf("bad Int returned %d, want the default", got)
	}
	if got := r.Duration("GRACE", time.Second); got != time.Second {
		t.Errorf("bad Duration returned %v, want the default", got)
	}
	r.Duration("NEG", time.Second)
	r.Bool("DEBUG", false)
	if got := r.OneOf("LEVEL", "info", "debug", "info"); got != "info" {
		t.Errorf("bad OneOf returned %q, want the default", got)
	}
	r.Required("DB")
	r.Required("REDIS_ADDR")
	r.Fail(errAuth{})
	err := r.Err()
	if err == nil {
		t.Fatal("Err = nil with eight problems")
	}
	for _, want := range []string{"CONNS", "GRACE", "NEG", "DEBUG", "LEVEL", "DB is required", "REDIS_ADDR is required", "auth: issuer is required"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

type errAuth struct{}

func (errAuth) Error() string { return "auth: issuer is required" }

func TestFromEnv(t *testing.T) {
	t.Setenv("ACCRUE_TEST_CONFIG_VALUE", "from-env")
	r := config.FromEnv()
	if got := r.Required("ACCRUE_TEST_CONFIG_VALUE"); got != "from-env" || r.Err() != nil {
		t.Fatalf("FromEnv = %q, %v", got, r.Err())
	}
}
