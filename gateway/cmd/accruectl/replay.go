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
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	"github.com/accrue/accrue/internal/platform/auth"
)

func init() {
	commands = append(commands, command{name: "replay",
		synopsis: "--service NAME [--since 24h|RFC3339] [--until T] [--type T] [--subject S] [--correlation-id C] [--event-id ID,...] [--dry-run] [-o table|json]",
		summary:  "re-publish (or, with --dry-run, list) events from a service's outbox",
		details: `Calls POST /v1/ops/{service}/events:replay on the gateway, page by page (--max-pages), with one
Idempotency-Key per page. A dry run needs ops:read, a replay ops:write. Example:
  bin/accruectl replay --service timeexpense --since 2h --type time_entries.approved --dry-run`,
		run: replayCmd})
}

func replayCmd(fs *flag.FlagSet, args []string, out io.Writer) error {
	base := fs.String("url", "http://127.0.0.1:8080", "gateway URL")
	token := fs.String("token", os.Getenv("ACCRUE_TOKEN"), "bearer token (default $ACCRUE_TOKEN, else one signed with --key)")
	key := fs.String("key", ".run/keys/signing.jwk", "private signing key (from keygen) for a token when --token is empty")
	service := fs.String("service", "", "service whose outbox to replay: customer, project, resource, timeexpense or billing")
	since := fs.String("since", "", "only events written since this time (RFC 3339) or this long ago (e.g. 24h)")
	until := fs.String("until", "", "only events written before this time (RFC 3339) or this long ago")
	typ := fs.String("type", "", "only events of this type")
	subject := fs.String("subject", "", "only events about this subject")
	corr := fs.String("correlation-id", "", "only events written under this correlation id")
	ids := fs.String("event-id", "", "only these event ids (comma-separated)")
	dry := fs.Bool("dry-run", false, "list what would be re-driven; publish nothing")
	pageSize := fs.Int("page-size", 100, "events per call (at most 500)")
	maxPages := fs.Int("max-pages", 10, "stop after this many calls (the last page token is printed)")
	format := fs.String("o", "table", "output: table or json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *service == "" {
		return fmt.Errorf("replay needs --service")
	}
	if *format != "table" && *format != "json" {
		return fmt.Errorf("-o is table or json, not %q", *format)
	}
	req := &opsv1.ReplayEventsRequest{Service: *service, EventType: *typ, Subject: *subject, CorrelationId: *corr,
		EventIds: split(*ids), DryRun: *dry, PageSize: int32(*pageSize)}
	var err error
	if req.Since, err = parseWhen(*since); err != nil {
		return fmt.Errorf("--since: %w", err)
	}
	if req.Until, err = parseWhen(*until); err != nil {
		return fmt.Errorf("--until: %w", err)
	}
	tok := *token
	if tok == "" {
		priv, err := os.ReadFile(*key)
		if err != nil {
			return fmt.Errorf("%w (pass --token, or run `make run` first)", err)
		}
		if tok, err = auth.SignToken(priv, auth.TokenRequest{Issuer: "https://auth.accrue.local", Audience: "accrue",
			Subject: "accruectl", Scopes: []string{"ops:read", "ops:write"}, TTL: 10 * time.Minute,
			LegalEntities: []string{auth.AllLegalEntities}}); err != nil {
			return err
		}
	}
	total := &opsv1.ReplayEventsResponse{DryRun: *dry}
	for range *maxPages {
		resp, err := replayPage(*base, tok, req)
		if err != nil {
			return err
		}
		total.Events = append(total.Events, resp.GetEvents()...)
		total.MatchedCount += resp.GetMatchedCount()
		total.ReplayedCount += resp.GetReplayedCount()
		total.NextPageToken = resp.GetNextPageToken()
		if req.PageToken = resp.GetNextPageToken(); req.PageToken == "" {
			break
		}
	}
	return printReplay(out, *format, total)
}

func replayPage(base, tok string, req *opsv1.ReplayEventsRequest) (*opsv1.ReplayEventsResponse, error) {
	body, err := protojson.Marshal(req)
	if err != nil {
		return nil, err
	}
	r, err := http.NewRequest(http.MethodPost, strings.TrimSuffix(base, "/")+"/v1/ops/"+req.GetService()+"/events:replay", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	idem := make([]byte, 16)
	_, _ = rand.Read(idem)
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+tok)
	r.Header.Set("Idempotency-Key", `"`+hex.EncodeToString(idem)+`"`)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(raw))
	}
	var out opsv1.ReplayEventsResponse
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func printReplay(out io.Writer, format string, r *opsv1.ReplayEventsResponse) error {
	if format == "json" {
		b, err := protojson.MarshalOptions{EmitUnpopulated: true}.Marshal(r)
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
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EVENT ID\tTYPE\tSUBJECT\tCORRELATION ID\tCREATED")
	for _, e := range r.GetEvents() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.GetEventId(), e.GetEventType(), e.GetSubject(), e.GetCorrelationId(),
			e.GetCreateTime().AsTime().UTC().Format(time.RFC3339))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if r.GetDryRun() {
		fmt.Fprintf(out, "dry run: %d events would be replayed\n", r.GetMatchedCount())
	} else {
		fmt.Fprintf(out, "replayed %d events\n", r.GetReplayedCount())
	}
	if r.GetNextPageToken() != "" {
		fmt.Fprintf(out, "more events match; stopped at --max-pages (page token %s)\n", r.GetNextPageToken())
	}
	return nil
}

// parseWhen reads an RFC 3339 time or a duration ago; "" is no bound.
func parseWhen(s string) (*timestamppb.Timestamp, error) {
	if s == "" {
		return nil, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return timestamppb.New(time.Now().Add(-d)), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, fmt.Errorf("%q is neither an RFC 3339 time nor a duration", s)
	}
	return timestamppb.New(t), nil
}
