package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/accrue/accrue/internal/platform/auth"
)

func init() {
	commands = append(commands, command{name: "trace",
		synopsis: "KEY [--url U] [--token T] [-o table|json]",
		summary:  "show what every service did for a business key or correlation id (the console's trace)",
		details: `Calls GET /v1/ops/console/trace?key=KEY on the gateway (scope ops:read): requests, events
published and consumed, exceptions, projects, time entries, postings and invoices, oldest first.
KEY is a correlation id, a CRM opportunity id, or a project, invoice or time entry id. Example:
  bin/accruectl trace 006Hs00001AbCdE`,
		run: traceCmd})
}

// traceItem is one line of the gateway's trace answer.
type traceItem struct {
	Service       string    `json:"service"`
	Time          time.Time `json:"time"`
	Kind          string    `json:"kind"`
	Title         string    `json:"title"`
	Status        string    `json:"status"`
	EntityType    string    `json:"entity_type"`
	EntityID      string    `json:"entity_id"`
	CorrelationID string    `json:"correlation_id"`
	EventID       string    `json:"event_id"`
	Detail        string    `json:"detail"`
}

type traceAnswer struct {
	Key            string            `json:"key"`
	Items          []traceItem       `json:"items"`
	CorrelationIDs []string          `json:"correlation_ids"`
	Truncated      bool              `json:"truncated"`
	Errors         map[string]string `json:"errors"`
}

func traceCmd(fs *flag.FlagSet, args []string, out io.Writer) error {
	base := fs.String("url", "http://127.0.0.1:8080", "gateway URL")
	token := fs.String("token", os.Getenv("ACCRUE_TOKEN"), "bearer token (default $ACCRUE_TOKEN, else one signed with --key)")
	key := fs.String("key", ".run/keys/signing.jwk", "private signing key (from keygen) for a token when --token is empty")
	format := fs.String("o", "table", "output: table or json")
	// The key may come before or after the flags.
	var traced string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		traced, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if traced == "" && fs.NArg() > 0 {
		traced = fs.Arg(0)
	}
	if traced == "" {
		return fmt.Errorf("trace needs a key: a correlation id, an opportunity, project, invoice or time entry id")
	}
	if *format != "table" && *format != "json" {
		return fmt.Errorf("-o is table or json, not %q", *format)
	}
	tok := *token
	if tok == "" {
		priv, err := os.ReadFile(*key)
		if err != nil {
			return fmt.Errorf("%w (pass --token, or run `make run` first)", err)
		}
		if tok, err = auth.SignToken(priv, auth.TokenRequest{Issuer: "https://auth.accrue.local", Audience: "accrue",
			Subject: "accruectl", Scopes: []string{"ops:read"}, TTL: 10 * time.Minute,
			LegalEntities: []string{auth.AllLegalEntities}}); err != nil {
			return err
		}
	}
	r, err := http.NewRequest(http.MethodGet, strings.TrimSuffix(*base, "/")+"/v1/ops/console/trace?key="+url.QueryEscape(traced), nil)
	if err != nil {
		return err
	}
	r.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(raw))
	}
	if *format == "json" {
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, raw, "", "  "); err != nil {
			return err
		}
		_, err = fmt.Fprintln(out, strings.TrimSpace(pretty.String()))
		return err
	}
	var a traceAnswer
	if err := json.Unmarshal(raw, &a); err != nil {
		return err
	}
	return printTrace(out, a)
}

func printTrace(out io.Writer, a traceAnswer) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tSERVICE\tKIND\tTITLE\tSTATUS\tENTITY\tCORRELATION ID")
	for _, it := range a.Items {
		entity := it.EntityID
		if entity == "" {
			entity = it.EventID
		}
		if it.EntityType != "" {
			entity = it.EntityType + " " + entity
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", it.Time.UTC().Format("2006-01-02 15:04:05"), it.Service, it.Kind,
			it.Title, it.Status, entity, it.CorrelationID)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "%d items under %d correlation ids", len(a.Items), len(a.CorrelationIDs))
	if a.Truncated {
		fmt.Fprint(out, " (truncated: some source had more)")
	}
	fmt.Fprintln(out)
	for s, msg := range a.Errors {
		fmt.Fprintf(out, "%s did not answer: %s\n", s, msg)
	}
	return nil
}
