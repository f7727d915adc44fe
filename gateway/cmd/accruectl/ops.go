package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/accrue/accrue/gateway/internal/gateway"
	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	"github.com/accrue/accrue/internal/platform/auth"
)

// The operators' commands over the gateway's ops API: the exception queues of every service and
// reconciliation.

func init() {
	commands = append(commands,
		command{name: "exceptions",
			synopsis: "[list] [--service S,...] [--status open|resolved] [--reason R] [--legal-entity ID] [--older-than 24h] [-o table|json] | retry --service S ID | resolve --service S --note TEXT ID",
			summary:  "list the exception queues of every service (filtered), retry one, or resolve one with a note",
			details: `list reads GET /v1/ops/{service}/exceptions of each service (all five unless --service), newest
first, up to --limit per service; --legal-entity keeps the exceptions recorded for the legal entity
(the services' legal_entity_id filter), --older-than those created longer ago than the duration. retry
(POST ...:retry) re-drives the failed work; resolve (POST ...:resolve) closes it by hand with a note.
Reading needs ops:read, retry and resolve ops:write. Examples:
  bin/accruectl exceptions --status open --older-than 1h
  bin/accruectl exceptions --service billing --reason APPROVED_NOT_POSTED -o json
  bin/accruectl exceptions resolve --service billing --note "fixed at the source" 0190f0c2-...`,
			run: exceptionsCmd})
}

// opsFlags are the connection flags every ops command takes.
type opsFlags struct {
	base, token, key, format *string
	// scopes of the token signed with --key (default: ops:read and ops:write).
	scopes []string
}

func newOpsFlags(fs *flag.FlagSet) opsFlags {
	return opsFlags{
		base:   fs.String("url", "http://127.0.0.1:8080", "gateway URL"),
		token:  fs.String("token", os.Getenv("ACCRUE_TOKEN"), "bearer token (default $ACCRUE_TOKEN, else one signed with --key)"),
		key:    fs.String("key", ".run/keys/signing.jwk", "private signing key (from keygen) for a token when --token is empty"),
		format: fs.String("o", "table", "output: table or json"),
	}
}

func (o opsFlags) check() error {
	if *o.format != "table" && *o.format != "json" {
		return fmt.Errorf("-o is table or json, not %q", *o.format)
	}
	return nil
}

func (o opsFlags) bearer() (string, error) {
	if *o.token != "" {
		return *o.token, nil
	}
	priv, err := os.ReadFile(*o.key)
	if err != nil {
		return "", fmt.Errorf("%w (pass --token, or run `make run` first)", err)
	}
	return auth.SignToken(priv, auth.TokenRequest{Issuer: "https://auth.accrue.local", Audience: "accrue",
		Subject: "accruectl", Scopes: o.tokenScopes(), TTL: 10 * time.Minute,
		LegalEntities: []string{auth.AllLegalEntities}})
}

func (o opsFlags) tokenScopes() []string {
	if len(o.scopes) > 0 {
		return o.scopes
	}
	return []string{"ops:read", "ops:write"}
}

// call sends req (nil for a GET) to path and decodes the answer into resp.
func (o opsFlags) call(method, path string, req, resp proto.Message) error {
	tok, err := o.bearer()
	if err != nil {
		return err
	}
	var body io.Reader
	if req != nil {
		raw, err := protojson.Marshal(req)
		if err != nil {
			return err
		}
		body = bytes.NewReader(raw)
	}
	r, err := http.NewRequest(method, strings.TrimSuffix(*o.base, "/")+path, body)
	if err != nil {
		return err
	}
	r.Header.Set("Authorization", "Bearer "+tok)
	if req != nil {
		idem := make([]byte, 16)
		_, _ = rand.Read(idem)
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Idempotency-Key", `"`+hex.EncodeToString(idem)+`"`)
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, res.StatusCode, bytes.TrimSpace(raw))
	}
	return protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(raw, resp)
}

func printJSON(out io.Writer, m proto.Message) error {
	b, err := protojson.MarshalOptions{EmitUnpopulated: true}.Marshal(m)
	if err != nil {
		return err
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, b, "", "  "); err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, pretty.String())
	return err
}

// subcommand splits "SUB --flags" from "--flags" (def when no subcommand is named).
func subcommand(args []string, def string, known ...string) (string, []string) {
	if len(args) > 0 && slices.Contains(known, args[0]) {
		return args[0], args[1:]
	}
	return def, args
}

// ServiceException is an exception with the service whose queue holds it (the json output).
type serviceException struct {
	Service   string          `json:"service"`
	Exception json.RawMessage `json:"exception"`
}

func exceptionsCmd(fs *flag.FlagSet, args []string, out io.Writer) error {
	sub, args := subcommand(args, "list", "list", "retry", "resolve")
	o := newOpsFlags(fs)
	services := fs.String("service", "", "services (comma-separated; default all for list)")
	status := fs.String("status", "", "list: open or resolved (default both)")
	reason := fs.String("reason", "", "list: only this reason")
	kind := fs.String("kind", "", "list: only this kind (e.g. reconciliation.time)")
	entity := fs.String("legal-entity", "", "list: only exceptions recorded for this legal entity")
	older := fs.Duration("older-than", 0, "list: only exceptions created longer ago than this")
	limit := fs.Int("limit", 500, "list: at most this many per service")
	note := fs.String("note", "", "resolve: why it is closed by hand (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := o.check(); err != nil {
		return err
	}
	svcs := split(*services)
	if sub != "list" {
		if len(svcs) != 1 || fs.NArg() != 1 {
			return fmt.Errorf("exceptions %s needs --service NAME and one exception id", sub)
		}
		id := fs.Arg(0)
		path := "/v1/ops/" + url.PathEscape(svcs[0]) + "/exceptions/" + url.PathEscape(id) + ":" + sub
		var e *opsv1.Exception
		if sub == "retry" {
			var resp opsv1.RetryExceptionResponse
			if err := o.call(http.MethodPost, path, &opsv1.RetryExceptionRequest{Service: svcs[0], ExceptionId: id}, &resp); err != nil {
				return err
			}
			e = resp.GetException()
		} else {
			if *note == "" {
				return fmt.Errorf("exceptions resolve needs --note")
			}
			var resp opsv1.ResolveExceptionResponse
			if err := o.call(http.MethodPost, path, &opsv1.ResolveExceptionRequest{Service: svcs[0], ExceptionId: id, Note: *note}, &resp); err != nil {
				return err
			}
			e = resp.GetException()
		}
		if *o.format == "json" {
			return printJSON(out, e)
		}
		return printExceptions(out, []string{svcs[0]}, []*opsv1.Exception{e})
	}
	if len(svcs) == 0 {
		svcs = gateway.Services
	}
	q := url.Values{}
	switch *status {
	case "":
	case "open":
		q.Set("status", opsv1.ExceptionStatus_EXCEPTION_STATUS_OPEN.String())
	case "resolved":
		q.Set("status", opsv1.ExceptionStatus_EXCEPTION_STATUS_RESOLVED.String())
	default:
		return fmt.Errorf("--status is open or resolved, not %q", *status)
	}
	if *reason != "" {
		q.Set("reason", *reason)
	}
	if *kind != "" {
		q.Set("kind", *kind)
	}
	if *entity != "" {
		q.Set("legal_entity_id", *entity)
	}
	cutoff := time.Now().Add(-*older)
	var owners []string
	var list []*opsv1.Exception
	for _, s := range svcs {
		n := 0
		q.Del("page_token")
		for n < *limit {
			q.Set("page_size", fmt.Sprint(min(500, *limit-n)))
			var resp opsv1.ListExceptionsResponse
			if err := o.call(http.MethodGet, "/v1/ops/"+url.PathEscape(s)+"/exceptions?"+q.Encode(), nil, &resp); err != nil {
				return err
			}
			for _, e := range resp.GetExceptions() {
				n++
				if *older > 0 && !e.GetCreateTime().AsTime().Before(cutoff) {
					continue
				}
				owners, list = append(owners, s), append(list, e)
			}
			if resp.GetNextPageToken() == "" {
				break
			}
			q.Set("page_token", resp.GetNextPageToken())
		}
	}
	if *o.format == "json" {
		all := make([]serviceException, len(list))
		for i, e := range list {
			b, err := protojson.Marshal(e)
			if err != nil {
				return err
			}
			all[i] = serviceException{Service: owners[i], Exception: b}
		}
		b, err := json.MarshalIndent(all, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(out, string(b))
		return err
	}
	return printExceptions(out, owners, list)
}

func printExceptions(out io.Writer, owners []string, list []*opsv1.Exception) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tEXCEPTION ID\tSTATUS\tKIND\tREASON\tENTITY\tATTEMPTS\tAGE\tCORRELATION ID")
	for i, e := range list {
		svc := owners[0]
		if i < len(owners) {
			svc = owners[i]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s %s\t%d\t%s\t%s\n", svc, e.GetExceptionId(),
			strings.TrimPrefix(e.GetStatus().String(), "EXCEPTION_STATUS_"), e.GetKind(), e.GetReason(), e.GetEntityType(), e.GetEntityId(),
			e.GetAttempts(), time.Since(e.GetCreateTime().AsTime()).Round(time.Second), e.GetCorrelationId())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(out, "%d exceptions\n", len(list))
	return err
}
