package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/pgtest"
)

func verifyOut(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := auditCmd(append([]string{"verify"}, args...), &out)
	t.Logf("accruectl audit verify %s\n%s", strings.Join(args, " "), out.String())
	return out.String(), err
}

// tamper runs sql as the owner with the append-only trigger switched off.
func tamper(t *testing.T, db *pgtest.DB, sql string) {
	t.Helper()
	ctx := context.Background()
	for _, q := range []string{`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update`, sql,
		`ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update`} {
		if _, err := db.Pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func TestAuditVerifyNamesTheTamperedRow(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db := pgtest.New(t, nil)
	for i := 1; i <= 5; i++ {
		if err := audit.Write(ctx, db.Pool, audit.Record{Action: "period.closed", EntityType: "period",
			EntityID: fmt.Sprintf("le-1/2026-%02d", i), Reason: "month end"}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := verifyOut(t, "--dsn", db.URL)
	if err != nil || !strings.Contains(out, "intact, 5 records") || !strings.Contains(out, "head: 5:") {
		t.Fatalf("intact chain: %v\n%s", err, out)
	}
	head := strings.Fields(strings.TrimPrefix(strings.Split(out, "\n")[1], "head: "))[0]

	tamper(t, db, `UPDATE audit_log SET reason = 'reopened quietly' WHERE id = 3`)
	out, err = verifyOut(t, "--dsn", db.URL)
	if !errors.Is(err, errChainBroken) || !strings.Contains(out, "BROKEN, 1 problem in 5 records") ||
		!strings.Contains(out, "position 3 (audit_log id 3): EDITED") {
		t.Fatalf("edited row: %v\n%s", err, out)
	}

	// Put it back, then delete the last row and rewind the head: only the anchor shows it.
	tamper(t, db, `UPDATE audit_log SET reason = 'month end' WHERE id = 3`)
	tamper(t, db, `DELETE FROM audit_log WHERE id = 5`)
	if _, err := db.Pool.Exec(ctx, `UPDATE audit_chain_head SET seq = 4, hash = (SELECT hash FROM audit_log WHERE chain_seq = 4)`); err != nil {
		t.Fatal(err)
	}
	if out, err := verifyOut(t, "--dsn", db.URL); err != nil {
		t.Fatalf("without the anchor: %v\n%s", err, out)
	}
	out, err = verifyOut(t, "--dsn", db.URL, "--anchor", head)
	if !errors.Is(err, errChainBroken) || !strings.Contains(out, "position 5: ANCHOR_MISMATCH") {
		t.Fatalf("with the anchor: %v\n%s", err, out)
	}
}

func TestAuditVerifyArguments(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{}, {"--service", "payroll"}, {"--service", "billing", "--dsn", "postgres://x"},
		{"--dsn", "postgres://x", "--anchor", "nope"}} {
		if _, err := verifyOut(t, args...); err == nil || errors.Is(err, errChainBroken) {
			t.Errorf("%v: err = %v, want a usage error", args, err)
		}
	}
	if dsn, err := auditDSN("billing", "postgres://owner@db:5432/?sslmode=disable", ""); err != nil ||
		dsn != "postgres://owner@db:5432/accrue_billing?sslmode=disable" {
		t.Errorf("--service billing → %q, %v", dsn, err)
	}
}
