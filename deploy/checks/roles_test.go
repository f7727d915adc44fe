package checks_test

import (
	"fmt"
	"net/url"
	"strings"
)

// roleProblems checks the database roles a container of a service gets (docs/configuration.md,
// Database roles): a migration job connects as the database's owner (ACCRUE_MIGRATE_DATABASE_URL)
// and grants the service's role (ACCRUE_DATABASE_URL), so it needs both, on the same database
// as different users; the long-running service gets only its own role, never the owner's DSN,
// and that role is not the server's superuser. Values taken from Secrets that live outside the
// repository ("(from Secret …)") are checked for presence only.
func roleProblems(env map[string]string, migrationJob bool) []string {
	app, hasApp := env["ACCRUE_DATABASE_URL"]
	if !hasApp {
		return nil // not a program with a database (the gateway)
	}
	owner := strings.TrimSpace(env["ACCRUE_MIGRATE_DATABASE_URL"])
	var out []string
	if !migrationJob {
		if owner != "" {
			out = append(out, "ACCRUE_MIGRATE_DATABASE_URL is set on a long-running service: only its migration job may hold the owner's DSN")
		}
		if u, ok := concrete(app); ok && (u.User.Username() == "postgres" || u.User.Username() == "") {
			out = append(out, fmt.Sprintf("ACCRUE_DATABASE_URL connects as %q: the service runs as its own role that owns nothing (accrue_<svc>_app)", u.User.Username()))
		}
		return out
	}
	if owner == "" {
		return append(out, "ACCRUE_MIGRATE_DATABASE_URL is not set on the migration job: the owner role applies the migrations and grants the service's role")
	}
	a, okA := concrete(app)
	o, okO := concrete(owner)
	if !okA || !okO {
		return out
	}
	if a.Host != o.Host || a.Path != o.Path {
		out = append(out, fmt.Sprintf("ACCRUE_MIGRATE_DATABASE_URL names %s%s, ACCRUE_DATABASE_URL %s%s: the same database, please", o.Host, o.Path, a.Host, a.Path))
	}
	if a.User.Username() == o.User.Username() {
		out = append(out, fmt.Sprintf("ACCRUE_MIGRATE_DATABASE_URL and ACCRUE_DATABASE_URL both connect as %q: the owner and the service's role must differ", a.User.Username()))
	}
	return out
}

// concrete parses a DSN that is a literal value (not a reference to a Secret from outside).
func concrete(dsn string) (*url.URL, bool) {
	if strings.HasPrefix(dsn, "(") {
		return nil, false
	}
	u, err := url.Parse(dsn)
	return u, err == nil && u.User != nil
}
