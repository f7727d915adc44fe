package main

import (
	"strings"
	"testing"
)

func TestMigrationViolations(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string // substrings, one per expected problem
	}{
		{"expand only", `-- +goose Up
CREATE TABLE t (id uuid PRIMARY KEY);
ALTER TABLE posting_results ADD COLUMN hours numeric; -- new
ALTER TABLE t DROP CONSTRAINT t_pkey, ALTER COLUMN id DROP DEFAULT;
ALTER TABLE t ALTER COLUMN id DROP NOT NULL;
DROP INDEX t_idx;
-- +goose Down
DROP TABLE t;
ALTER TABLE posting_results DROP COLUMN hours;
`, nil},
		{"drops and renames", `-- +goose Up
DROP TABLE IF EXISTS old_things;
ALTER TABLE posting_results DROP COLUMN hours;
ALTER TABLE posting_results
    RENAME COLUMN amount TO amount_minor;
ALTER TABLE "journal" RENAME TO journal_entries;
ALTER TABLE rates ALTER COLUMN rate TYPE bigint;
-- +goose Down
`, []string{"drops table old_things", "drops column posting_results.hours", "renames column posting_results.amount",
			"renames table journal", "changes the type of column rates.rate"}},
		{"contract with a marker", `-- +goose Up
-- contract: posting_results.hours unused since 1.4.0
ALTER TABLE posting_results DROP COLUMN hours;
-- contract: old_things unused since 1.4.0
DROP TABLE old_things;
-- contract: something_else unused since 1.4.0
ALTER TABLE posting_results DROP COLUMN legacy;
`, []string{"drops column posting_results.legacy"}},
	} {
		got := migrationViolations("m.sql", tc.src)
		if len(got) != len(tc.want) {
			t.Errorf("%s: %d problems %q, want %d", tc.name, len(got), got, len(tc.want))
			continue
		}
		for i, w := range tc.want {
			if !strings.Contains(got[i], w) {
				t.Errorf("%s: problem %d = %q, want it to mention %q", tc.name, i, got[i], w)
			}
		}
	}
}
