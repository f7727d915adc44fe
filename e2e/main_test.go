package e2e

import (
	"testing"

	"github.com/accrue/accrue/e2e/internal/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }
