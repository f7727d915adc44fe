package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"slices"
	"time"

	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/pg"
)

// errChainBroken makes accruectl exit 1: the check ran and found the chain broken.
var errChainBroken = errors.New("the audit chain is broken")

var services = []string{"customer", "project", "resource", "timeexpense", "billing"}

// auditCmd runs `accruectl audit verify`: recompute a service database's audit hash chain and
// name every row where it breaks.
func auditCmd(args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return errors.New("usage: accruectl audit verify --service NAME | --dsn DSN [--anchor POSITION:HASH]")
	}
	return auditVerify(flag.NewFlagSet("audit verify", flag.ContinueOnError), args[1:], out)
}

// auditVerify defines the verify flags on fs, parses args and checks the chain.
func auditVerify(fs *flag.FlagSet, args []string, out io.Writer) error {
	service := fs.String("service", "", "service whose database to check (customer, project, resource, timeexpense, billing)")
	server := fs.String("server", "postgres://postgres@127.0.0.1:5432/?sslmode=disable",
		"with --service: the Postgres server, as the databases' owner (or a role that may read audit_log and audit_chain_head)")
	dsn := fs.String("dsn", "", "the database to check, instead of --service")
	var anchors []audit.Anchor
	fs.Func("anchor", "a head printed by an earlier run (POSITION:HASH), to check nothing was removed since (repeatable)", func(s string) error {
		a, err := audit.ParseAnchor(s)
		anchors = append(anchors, a)
		return err
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	target, err := auditDSN(*service, *server, *dsn)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	pool, err := pg.Connect(ctx, target, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	rep, err := audit.Verify(ctx, pool, anchors...)
	if err != nil {
		return err
	}
	name := pool.Config().ConnConfig.Database
	if rep.OK() {
		fmt.Fprintf(out, "audit chain of %s: intact, %d records\n", name, rep.Rows)
	} else {
		more := ""
		if rep.Truncated {
			more = " (and more)"
		}
		noun := "problems"
		if len(rep.Problems) == 1 {
			noun = "problem"
		}
		fmt.Fprintf(out, "audit chain of %s: BROKEN, %d %s%s in %d records\n", name, len(rep.Problems), noun, more, rep.Rows)
		for _, p := range rep.Problems {
			fmt.Fprintf(out, "  %s\n", p)
		}
	}
	fmt.Fprintf(out, "head: %s (keep it; --anchor %s later shows whether rows were removed from the end)\n", rep.Head(), rep.Head())
	if !rep.OK() {
		return errChainBroken
	}
	return nil
}

func auditDSN(service, server, dsn string) (string, error) {
	switch {
	case dsn != "" && service != "":
		return "", errors.New("audit verify: --service or --dsn, not both")
	case dsn != "":
		return dsn, nil
	case !slices.Contains(services, service):
		return "", fmt.Errorf("audit verify: --service must be one of %v (or give --dsn)", services)
	}
	u, err := url.Parse(server)
	if err != nil {
		return "", fmt.Errorf("audit verify: --server: %w", err)
	}
	u.Path = "/accrue_" + service
	return u.String(), nil
}
