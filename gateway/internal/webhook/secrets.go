package webhook

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Binding is where a secret is valid: one webhook route ("salesforce.opportunities") and one
// source (the {source} path segment). A delivery signed with the secret of another binding is
// refused, so a sender's secret opens only the door it was issued for.
type Binding struct {
	Route  string
	Source string
}

func (b Binding) String() string { return b.Route + "/" + b.Source }

// Secrets holds the signing secrets of each binding (two while one is rotated).
type Secrets map[Binding][][]byte

// Sources returns the configured source names, sorted, each once.
func (s Secrets) Sources() []string {
	var out []string
	for b := range s {
		if !slices.Contains(out, b.Source) {
			out = append(out, b.Source)
		}
	}
	slices.Sort(out)
	return out
}

// Routes returns the routes that have at least one source, sorted.
func (s Secrets) Routes() []string {
	var out []string
	for b := range s {
		if !slices.Contains(out, b.Route) {
			out = append(out, b.Route)
		}
	}
	slices.Sort(out)
	return out
}

var (
	routeName  = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{0,63}$`)
	sourceName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
)

// MinSecretLen is the shortest secret accepted.
const MinSecretLen = 16

// ParseSecrets reads "<route>/<source>=<secret>" entries separated by commas or newlines; blank
// lines and lines starting with "#" are skipped. A binding may appear twice (rotation). The old
// "<source>=<secret>" form is refused: such a secret would open every route. One secret may not
// serve two bindings. Errors never quote a secret.
func ParseSecrets(text string) (Secrets, error) {
	out := Secrets{}
	owner := map[string]Binding{}
	for _, line := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == '\n' }) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, secret, ok := strings.Cut(line, "=")
		key, secret = strings.TrimSpace(key), strings.TrimSpace(secret)
		if !ok {
			return nil, fmt.Errorf("webhook secrets: an entry has no \"=\": want <route>/<source>=<secret>")
		}
		route, source, ok := strings.Cut(key, "/")
		if !ok {
			return nil, fmt.Errorf("webhook secrets: %q names no route: write <route>/%s=<secret>, one line per route the source calls (a secret is valid for one route only)", key, key)
		}
		if !routeName.MatchString(route) || !sourceName.MatchString(source) {
			return nil, fmt.Errorf("webhook secrets: %q is not <route>/<source> (route: lower-case letters, digits, dots; source: letters, digits, '.', '_', '-')", key)
		}
		if len(secret) < MinSecretLen {
			return nil, fmt.Errorf("webhook secrets: the secret of %s is shorter than %d characters", key, MinSecretLen)
		}
		b := Binding{Route: route, Source: source}
		if prev, dup := owner[secret]; dup && prev != b {
			return nil, fmt.Errorf("webhook secrets: %s and %s have the same secret: give every route and source its own", prev, b)
		}
		owner[secret] = b
		out[b] = append(out[b], []byte(secret))
	}
	return out, nil
}
