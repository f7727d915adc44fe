package events_test

import (
	"errors"
	"os/exec"

	"github.com/shopspring/decimal"
)

type decimalT = decimal.Decimal

func mustDecimal(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func asExit(err error, target **exec.ExitError) bool { return errors.As(err, target) }
