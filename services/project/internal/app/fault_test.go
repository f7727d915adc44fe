package app_test

import (
	"errors"

	"github.com/accrue/accrue/internal/platform/fault"
)

func reasonOf(err error) string { return fault.ReasonOf(err) }

// hasField reports whether err is a fault naming field among its violations.
func hasField(err error, field string) bool {
	var fe *fault.Error
	if !errors.As(err, &fe) {
		return false
	}
	for _, v := range fe.Violations {
		if v.Field == field {
			return true
		}
	}
	return false
}
