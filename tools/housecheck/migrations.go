package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Migrations are expand / contract (docs/deploy.md): during a rollout the previous release runs
// against the new schema, and a rollback returns to it. So the Up part of a migration never
// drops or renames a table or a column, nor changes a column's type, unless the statement is
// preceded by a contract marker naming the object and the release since which no code reads it:
//
//	-- contract: posting_results.hours unused since 1.4.0
//	ALTER TABLE posting_results DROP COLUMN hours;
//
// (a later release than the one that stopped using it; the reviewer checks the release).

var (
	// Statements that break the previous release's reads or writes.
	destructive = []struct {
		re   *regexp.Regexp
		what string
	}{
		{regexp.MustCompile(`(?is)^DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?([\w.", ]+)`), "drops table"},
		{regexp.MustCompile(`(?is)^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?([\w."]+)\s+RENAME\s+TO\s+([\w"]+)`), "renames table"},
		{regexp.MustCompile(`(?is)^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?([\w."]+)\s.*?\bDROP\s+(?:COLUMN\s+)?(?:IF\s+EXISTS\s+)?([\w"]+)`), "drops column"},
		{regexp.MustCompile(`(?is)^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?([\w."]+)\s.*?\bRENAME\s+(?:COLUMN\s+)?([\w"]+)\s+TO\b`), "renames column"},
		{regexp.MustCompile(`(?is)^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?([\w."]+)\s.*?\bALTER\s+(?:COLUMN\s+)?([\w"]+)\s+(?:SET\s+DATA\s+)?TYPE\b`), "changes the type of column"},
	}
	// ALTER TABLE … DROP CONSTRAINT / DEFAULT / NOT NULL are not drops of a column.
	dropNotColumn = regexp.MustCompile(`(?i)^(CONSTRAINT|DEFAULT|NOT|IDENTITY|EXPRESSION)$`)
	contractMark  = regexp.MustCompile(`(?i)^--\s*contract:\s*([\w.]+)\s+unused\s+since\s+(\S+)`)
)

// checkMigrations reports destructive statements without a contract marker in every
// migrations/*.sql file of the services and the platform.
func checkMigrations(root string) ([]string, error) {
	var files []string
	for _, dir := range []string{"services", "internal"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(p, ".sql") && filepath.Base(filepath.Dir(p)) == "migrations" {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	var problems []string
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		rel, _ := filepath.Rel(root, f)
		problems = append(problems, migrationViolations(rel, string(src))...)
	}
	return problems, nil
}

// migrationViolations checks the Up part of one goose migration.
func migrationViolations(path, src string) []string {
	var problems []string
	up := false
	var stmt strings.Builder
	stmtLine := 0
	var marks []string // contract markers since the last statement
	for i, line := range strings.Split(src, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "-- +goose Up"):
			up = true
			continue
		case strings.HasPrefix(trimmed, "-- +goose Down"):
			up = false
			continue
		}
		if !up {
			continue
		}
		if m := contractMark.FindStringSubmatch(trimmed); m != nil {
			marks = append(marks, strings.ToLower(m[1]))
			continue
		}
		if strings.HasPrefix(trimmed, "--") || trimmed == "" {
			continue
		}
		if code, _, _ := strings.Cut(line, "--"); strings.TrimSpace(code) != "" {
			if stmt.Len() == 0 {
				stmtLine = i + 1
			}
			stmt.WriteString(code)
			stmt.WriteString(" ")
		}
		if strings.HasSuffix(strings.TrimSpace(stmt.String()), ";") {
			if p := destructiveStatement(strings.TrimSpace(stmt.String()), marks); p != "" {
				problems = append(problems, fmt.Sprintf("%s:%d: %s", path, stmtLine, p))
			}
			stmt.Reset()
			marks = nil
		}
	}
	return problems
}

// destructiveStatement describes a statement that drops, renames or retypes a table or column
// without a contract marker naming it ("" when it is fine).
func destructiveStatement(stmt string, marks []string) string {
	for _, d := range destructive {
		m := d.re.FindStringSubmatch(stmt)
		if m == nil {
			continue
		}
		table := strings.ToLower(strings.Trim(m[1], `" `))
		object := table
		if len(m) > 2 && d.what != "renames table" {
			col := strings.ToLower(strings.Trim(m[2], `"`))
			if d.what == "drops column" && dropNotColumn.MatchString(col) {
				continue
			}
			object = table + "." + col
		}
		for _, mk := range marks {
			if mk == object {
				return ""
			}
		}
		return fmt.Sprintf("%s %s: the previous release may still use it during a rollout or after a rollback "+
			"(expand/contract, docs/deploy.md); only once no release reads it, preceded by `-- contract: %s unused since <release>`",
			d.what, object, object)
	}
	return ""
}
