package e2e

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/e2e/internal/harness"
	"github.com/accrue/accrue/internal/platform/audit"
)

// The services hold their database connections as a role that owns nothing (the harness, like
// make run, migrates as the owner), and the audit records of their changes form an intact hash
// chain.
func TestServicesRunAsTheAppRoleAndChainTheirAudit(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	for _, name := range []string{"Initech", "Globex", "Umbrella"} {
		createCustomer(t, env, customerInput(name, "USD", "001-"+name+"-"+env.ID()), env.Bearer(customersWrite))
	}
	ctx := context.Background()
	db := env.DB("customer")
	rows, err := db.Query(ctx, `SELECT DISTINCT usename::text FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
		AND backend_type = 'client backend' AND usename <> current_user`)
	if err != nil {
		t.Fatal(err)
	}
	users, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(users) != 1 || users[0] != harness.AppRole {
		t.Fatalf("the customer service connects as %v (%v), want only %s", users, err, harness.AppRole)
	}
	rep, err := audit.Verify(ctx, db)
	if err != nil || !rep.OK() || rep.Rows != 3 {
		t.Fatalf("customer audit chain: %+v, %v; want 3 intact records", rep, err)
	}
}
