// Package config reads typed configuration from environment variables. Only main packages (and
// the test helpers pgtest and redistest, for their server addresses) use it:
// they read everything once at start into a struct, and refuse to start on any error.
package config

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Reader reads variables and collects every problem, so one start reports all of them.
type Reader struct {
	lookup func(string) (string, bool)
	errs   []error
}

// FromEnv returns a Reader over the process environment.
func FromEnv() *Reader { return &Reader{lookup: os.LookupEnv} }

// FromMap returns a Reader over m (tests).
func FromMap(m map[string]string) *Reader {
	return &Reader{lookup: func(k string) (string, bool) { v, ok := m[k]; return v, ok }}
}

func (r *Reader) get(key string) (string, bool) {
	v, ok := r.lookup(key)
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

// String returns the variable or def.
func (r *Reader) String(key, def string) string {
	if v, ok := r.get(key); ok {
		return v
	}
	return def
}

// Required returns the variable and records an error when it is missing.
func (r *Reader) Required(key string) string {
	v, ok := r.get(key)
	if !ok {
		r.errs = append(r.errs, fmt.Errorf("%s is required", key))
	}
	return v
}

// Int returns the variable as an int, or def.
func (r *Reader) Int(key string, def int) int {
	return parse(r, key, def, strconv.Atoi, "an integer")
}

// Duration returns the variable as a Go duration ("250ms", "5s"), or def.
func (r *Reader) Duration(key string, def time.Duration) time.Duration {
	return parse(r, key, def, func(v string) (time.Duration, error) {
		d, err := time.ParseDuration(v)
		if err == nil && d < 0 {
			err = errors.New("negative")
		}
		return d, err
	}, "a duration like 500ms or 5s")
}

// Bool returns the variable as a bool ("true", "1", "false", "0"), or def.
func (r *Reader) Bool(key string, def bool) bool {
	return parse(r, key, def, strconv.ParseBool, "a boolean")
}

// parse returns the variable read by fn, or def when it is unset or fn refuses it (recording
// that it is not what: "an integer").
func parse[T any](r *Reader, key string, def T, fn func(string) (T, error), what string) T {
	v, ok := r.get(key)
	if !ok {
		return def
	}
	x, err := fn(v)
	if err != nil {
		r.errs = append(r.errs, fmt.Errorf("%s: %q is not %s", key, v, what))
		return def
	}
	return x
}

// OneOf returns the variable, which must be one of allowed, or def.
func (r *Reader) OneOf(key, def string, allowed ...string) string {
	v := r.String(key, def)
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	r.errs = append(r.errs, fmt.Errorf("%s: %q is not one of %s", key, v, strings.Join(allowed, ", ")))
	return def
}

// Fail records a problem found while validating values already read.
func (r *Reader) Fail(err error) { r.errs = append(r.errs, err) }

// Err returns every problem found, or nil.
func (r *Reader) Err() error {
	if len(r.errs) == 0 {
		return nil
	}
	return fmt.Errorf("configuration: %w", errors.Join(r.errs...))
}
