package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/accrue/accrue/gateway/internal/gateway"
	"github.com/accrue/accrue/internal/platform/auth"
)

// command is one accruectl command. run defines its flags on fs and parses args with it, so
// `help NAME` and `NAME --help` print the same flags the command really takes.
type command struct {
	name     string
	synopsis string // the arguments after the name
	summary  string // one line for the list
	details  string // a paragraph for `help NAME`
	run      func(fs *flag.FlagSet, args []string, out io.Writer) error
}

var commands = []command{
	{name: "keygen", synopsis: "[--dir .run/keys] [--force]",
		summary: "create a local Ed25519 signing key and its JWKS",
		details: "Writes signing.jwk (private) and jwks.json (public) for local runs. Services and the gateway verify\ntokens against the JWKS (ACCRUE_JWKS_FILE); production uses its identity provider's JWKS URL.",
		run: func(fs *flag.FlagSet, args []string, _ io.Writer) error {
			dir := fs.String("dir", ".run/keys", "directory for signing.jwk and jwks.json")
			force := fs.Bool("force", false, "replace an existing key")
			if err := fs.Parse(args); err != nil {
				return err
			}
			return keygen(*dir, *force)
		}},
	{name: "token", synopsis: `--scopes "customers:read ..." [--sub dev-cli] [--ttl 1h] [--legal-entities ID,...|*|none]`,
		summary: "print a bearer token signed with the local key",
		details: `Scopes are space- or comma-separated, or "all". Example:
  TOKEN=$(bin/accruectl token --scopes all)
  curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/v1/customers`,
		run: func(fs *flag.FlagSet, args []string, out io.Writer) error {
			key := fs.String("key", ".run/keys/signing.jwk", "private signing key (from keygen)")
			scopes := fs.String("scopes", "", `space- or comma-separated scopes, or "all"`)
			sub := fs.String("sub", "dev-cli", "subject / client id")
			ttl := fs.Duration("ttl", time.Hour, "lifetime")
			iss := fs.String("issuer", "https://auth.accrue.local", "issuer (ACCRUE_JWT_ISSUER)")
			aud := fs.String("audience", "accrue", "audience (ACCRUE_JWT_AUDIENCE)")
			entities := fs.String("legal-entities", auth.AllLegalEntities,
				`legal-entity ids the token acts for (claim `+auth.LegalEntitiesClaim+`), space- or comma-separated; "*" for all, "none" to omit the claim`)
			if err := fs.Parse(args); err != nil {
				return err
			}
			var les []string
			if *entities != "none" {
				les = strings.FieldsFunc(*entities, func(r rune) bool { return r == ' ' || r == ',' })
			}
			list := strings.FieldsFunc(*scopes, func(r rune) bool { return r == ' ' || r == ',' })
			if len(list) == 1 && list[0] == "all" {
				list = AllScopes
			}
			priv, err := os.ReadFile(*key)
			if err != nil {
				return fmt.Errorf("%w (run `accruectl keygen` or `make run` first)", err)
			}
			tok, err := auth.SignToken(priv, auth.TokenRequest{Issuer: *iss, Audience: *aud, Subject: *sub, Scopes: list, TTL: *ttl, LegalEntities: les})
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(out, tok)
			return err
		}},
	{name: "webhook", synopsis: "--url URL [--source NAME] [--file body.json]",
		summary: "sign a JSON body with the route's secret and POST it",
		details: "Signs the body (stdin, or --file) with the secret of the URL's route and the source (default: the\nURL's {source}) from the secrets file, POSTs it and prints the answer. Example:\n  bin/accruectl webhook --url http://127.0.0.1:8080/webhooks/salesforce/salesforce/opportunities \\\n    --file docs/examples/salesforce-closed-won.json",
		run: func(fs *flag.FlagSet, args []string, _ io.Writer) error {
			url := fs.String("url", "", "webhook URL, e.g. http://127.0.0.1:8080/webhooks/salesforce/salesforce/opportunities")
			source := fs.String("source", "", "source whose secret signs the body (default: the URL's {source})")
			secrets := fs.String("secrets", ".run/webhook-secrets", "file of <route>/<source>=<secret> lines")
			file := fs.String("file", "", "JSON body file (stdin when empty)")
			skew := fs.Duration("skew", 0, "shift the signature timestamp (e.g. -10m to test the tolerance)")
			if err := fs.Parse(args); err != nil {
				return err
			}
			return sendWebhook(*url, *source, *secrets, *file, *skew)
		}},
	{name: "webhook-routes", summary: "list the webhook routes and the scopes of each route's token",
		details: `Prints one line per route: "<route> <scope>,...".`,
		run: func(fs *flag.FlagSet, args []string, out io.Writer) error {
			if err := fs.Parse(args); err != nil {
				return err
			}
			for _, r := range gateway.WebhookRoutes() {
				fmt.Fprintf(out, "%s %s\n", r.Name, strings.Join(r.Scopes(), ","))
			}
			return nil
		}},
	{name: "service-scopes", summary: "list each service's token scopes: exactly what the calls its contract declares need",
		details: `Prints one line per service, "<service> <scope>,...", from the contracts (accrue.common.v1.calls);
a service that calls no other prints its name alone: it needs no token.`,
		run: func(fs *flag.FlagSet, args []string, out io.Writer) error {
			if err := fs.Parse(args); err != nil {
				return err
			}
			return serviceScopes(out)
		}},
	{name: "certs", synopsis: "[--dir .run/tls] [--names a,b] [--hosts h,...] [--force]",
		summary: "issue a local development CA and one mutual-TLS certificate per program",
		details: "The CA (ca.crt, ca.key) is kept across runs; a certificate is issued only when missing (or with --force).",
		run:     certsCmd},
	{name: "event-keys", synopsis: "[--dir .run/event-keys] [--producers a,b] [--id KEY_ID]",
		summary: "create the event signing key of every producer that has none (or, with --id, a rotation's next key)",
		run:     eventKeysCmd},
	{name: "demo", synopsis: "[--url http://127.0.0.1:8080]",
		summary: "walk through the three built workflows on a running Accrue",
		details: "Needs `make run` (the local key and webhook secrets in .run/). It can run again at any time.",
		run: func(fs *flag.FlagSet, args []string, _ io.Writer) error {
			url := fs.String("url", "http://127.0.0.1:8080", "gateway URL")
			key := fs.String("key", ".run/keys/signing.jwk", "private signing key (from keygen)")
			secrets := fs.String("secrets", ".run/webhook-secrets", "file of <route>/<source>=<secret> lines")
			example := fs.String("example", "docs/examples/salesforce-closed-won.json", "Salesforce closed-won event to send")
			if err := fs.Parse(args); err != nil {
				return err
			}
			return runDemo(*url, *key, *secrets, *example)
		}},
	{name: "audit", synopsis: "verify --service NAME | --dsn DSN [--anchor POSITION:HASH]",
		summary: "recompute a service's audit hash chain and name every broken row (exit 1)",
		details: "Exits 1 when the chain is broken (an edited, deleted or reordered row), 2 on any other error.",
		run: func(fs *flag.FlagSet, args []string, out io.Writer) error {
			if len(args) > 0 && args[0] == "verify" {
				return auditVerify(fs, args[1:], out)
			}
			// `audit --help` (or no subcommand): the verify flags, through the same FlagSet.
			if len(args) > 0 && isHelpFlag(args[0]) {
				return auditVerify(fs, args[:1], out)
			}
			return errors.New("usage: accruectl audit verify --service NAME | --dsn DSN [--anchor POSITION:HASH]")
		}},
}

// run dispatches a command line; help goes to out.
func run(args []string, out io.Writer) error {
	if len(args) == 0 {
		usage(os.Stderr)
		return errors.New("no command given")
	}
	name, rest := args[0], args[1:]
	if isHelpFlag(name) || name == "help" {
		if name == "help" && len(rest) > 0 {
			c, ok := lookup(rest[0])
			if !ok {
				return unknown(rest[0])
			}
			return runCommand(c, []string{"--help"}, out)
		}
		usage(out)
		return nil
	}
	c, ok := lookup(name)
	if !ok {
		return unknown(name)
	}
	return runCommand(c, rest, out)
}

// runCommand runs c; a --help among its flags prints its usage to out and succeeds.
func runCommand(c command, args []string, out io.Writer) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() { commandUsage(out, c, fs) }
	err := c.run(fs, args, out)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func isHelpFlag(s string) bool { return s == "-h" || s == "-help" || s == "--help" }

func unknown(name string) error {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return fmt.Errorf("unknown command %q (%s; `accruectl help` lists them)", name, strings.Join(names, ", "))
}

// usage prints the command list.
func usage(w io.Writer) {
	fmt.Fprintln(w, "accruectl is Accrue's development helper.")
	fmt.Fprintln(w, "\nUsage: accruectl COMMAND [flags]\n\nCommands:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	fmt.Fprintf(tw, "  help\t%s\n", "this list; `help COMMAND` (or `COMMAND --help`) shows a command's flags")
	_ = tw.Flush()
}

func commandUsage(w io.Writer, c command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: accruectl %s %s\n\n%s.\n", c.name, c.synopsis, upperFirst(c.summary))
	if c.details != "" {
		fmt.Fprintf(w, "\n%s\n", c.details)
	}
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintln(w, "\nFlags:")
		fs.PrintDefaults()
	}
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
