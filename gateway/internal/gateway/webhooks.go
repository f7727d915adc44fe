package gateway

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/grpc"

	"github.com/accrue/accrue/gateway/internal/translate"
	"github.com/accrue/accrue/gateway/internal/webhook"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/internal/platform/rpcspec"
)

// WebhookRoute is one webhook door: its path, and the RPCs its deliveries become. Its secrets
// (webhook.Binding) and its upstream token belong to it alone.
type WebhookRoute struct {
	// Name identifies the route in secrets, token files, metrics and the quarantine.
	Name string
	// Pattern is the HTTP route ({source} names the sender).
	Pattern string
	// Methods are the gRPC methods a delivery may call.
	Methods []string
	// ContentScopes are scopes the deliveries' content needs beyond the methods' (a worker
	// record carrying a cost rate needs costrates:write).
	ContentScopes []string

	translator func(conns map[string]*grpc.ClientConn, opts Options) webhook.Translator
}

// Scopes are the scopes the route's token must carry, read from the contracts of its methods:
// exactly these, no more.
func (r WebhookRoute) Scopes() []string {
	var out []string
	for _, m := range r.Methods {
		if s := rpcspec.Lookup(m).Scope; s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, s := range r.ContentScopes {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

var webhookRoutes = []WebhookRoute{
	{Name: "salesforce.opportunities", Pattern: "POST /webhooks/salesforce/{source}/opportunities",
		Methods: []string{projectv1.ProjectService_ConvertOpportunity_FullMethodName},
		translator: func(c map[string]*grpc.ClientConn, o Options) webhook.Translator {
			return translate.SalesforceClosedWon(projectv1.NewProjectServiceClient(c["project"]), o.Salesforce)
		}},
	{Name: "crm.opportunities", Pattern: "POST /webhooks/crm/{source}/opportunities",
		Methods: []string{projectv1.ProjectService_ConvertOpportunity_FullMethodName},
		translator: func(c map[string]*grpc.ClientConn, _ Options) webhook.Translator {
			return translate.CanonicalOpportunity(projectv1.NewProjectServiceClient(c["project"]))
		}},
	{Name: "workday.workers", Pattern: "POST /webhooks/workday/{source}/workers",
		Methods: []string{resourcev1.ResourceService_SyncWorker_FullMethodName}, ContentScopes: []string{"costrates:write"},
		translator: func(c map[string]*grpc.ClientConn, _ Options) webhook.Translator {
			return translate.WorkdayWorkerChange(resourcev1.NewResourceServiceClient(c["resource"]))
		}},
	{Name: "hcm.workers", Pattern: "POST /webhooks/hcm/{source}/workers",
		Methods: []string{resourcev1.ResourceService_SyncWorker_FullMethodName}, ContentScopes: []string{"costrates:write"},
		translator: func(c map[string]*grpc.ClientConn, _ Options) webhook.Translator {
			return translate.CanonicalWorker(resourcev1.NewResourceServiceClient(c["resource"]))
		}},
	{Name: "timeexpense.approved", Pattern: "POST /webhooks/timeexpense/{source}/approved-entries",
		Methods: []string{timeexpensev1.TimeExpenseService_ImportApprovedEntries_FullMethodName},
		translator: func(c map[string]*grpc.ClientConn, _ Options) webhook.Translator {
			return translate.ApprovedEntries(timeexpensev1.NewTimeExpenseServiceClient(c["timeexpense"]))
		}},
	{Name: "suppliercost.bills", Pattern: "POST /webhooks/suppliercost/{source}/bills",
		Methods: []string{billingv1.SupplierCostService_RecordSupplierBillLine_FullMethodName,
			billingv1.LegalEntityService_ListLegalEntities_FullMethodName},
		translator: func(c map[string]*grpc.ClientConn, _ Options) webhook.Translator {
			return translate.SupplierBill(translate.SupplierClients{Cost: billingv1.NewSupplierCostServiceClient(c["billing"]),
				Entity: billingv1.NewLegalEntityServiceClient(c["billing"])})
		}},
}

// WebhookRoutes lists the webhook routes.
func WebhookRoutes() []WebhookRoute { return slices.Clone(webhookRoutes) }

func webhookRoute(name string) (WebhookRoute, bool) {
	i := slices.IndexFunc(webhookRoutes, func(r WebhookRoute) bool { return r.Name == name })
	if i < 0 {
		return WebhookRoute{}, false
	}
	return webhookRoutes[i], true
}

// webhookTokens checks the webhook configuration and returns each open route's credential:
// every route named by a secret must exist, and every route with a secret needs a token of its
// own (checked by routeToken) unless the shared development token is set.
func webhookTokens(opts Options) (map[string]grpcx.TokenSource, error) {
	out := map[string]grpcx.TokenSource{}
	var missing []string
	for _, name := range opts.Webhooks.Secrets.Routes() {
		r, ok := webhookRoute(name)
		if !ok {
			return nil, fmt.Errorf("gateway: webhook secrets name the unknown route %q (routes: %s)", name, strings.Join(routeNames(), ", "))
		}
		switch ts := opts.WebhookTokens[name]; {
		case ts != nil:
			out[name] = &routeToken{route: r, src: ts, verifier: opts.Verifier}
		case opts.SharedWebhookToken != nil:
			out[name] = opts.SharedWebhookToken
		default:
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("gateway: webhook routes %s have secrets but no token of their own", strings.Join(missing, ", "))
	}
	return out, nil
}

func routeNames() []string {
	out := make([]string, len(webhookRoutes))
	for i, r := range webhookRoutes {
		out[i] = r.Name
	}
	return out
}

// routeToken presents a route's own token, after checking that it is valid and carries exactly
// the route's scopes: a token that could do more than the route needs is refused, not used.
type routeToken struct {
	route    WebhookRoute
	src      grpcx.TokenSource
	verifier *auth.Verifier
}

// Token implements grpcx.TokenSource. Verified tokens are cached by the verifier, so the check
// costs a lookup per call.
func (t *routeToken) Token(ctx context.Context) (string, error) {
	tok, err := t.src.Token(ctx)
	if err != nil {
		return "", fmt.Errorf("webhook route %s: %w", t.route.Name, err)
	}
	p, err := t.verifier.Verify(ctx, tok)
	if err != nil {
		return "", fmt.Errorf("webhook route %s: its token is not valid: %w", t.route.Name, err)
	}
	want := t.route.Scopes()
	var extra []string
	for _, s := range p.Scopes {
		if !slices.Contains(want, s) {
			extra = append(extra, s)
		}
	}
	if len(extra) > 0 {
		return "", fmt.Errorf("webhook route %s: its token carries scopes the route does not need (%s); it may carry only %s",
			t.route.Name, strings.Join(extra, " "), strings.Join(want, " "))
	}
	for _, s := range want {
		if !p.HasScope(s) {
			return "", fmt.Errorf("webhook route %s: its token lacks the scope %s", t.route.Name, s)
		}
	}
	return tok, nil
}

// CheckWebhookTokens fetches and checks the token of every open webhook route (at start-up, so
// a missing or over-privileged token stops the gateway instead of failing deliveries).
func (g *Gateway) CheckWebhookTokens(ctx context.Context) error {
	for _, name := range g.opts.Webhooks.Secrets.Routes() {
		if ts, ok := g.webhookTokens[name].(*routeToken); ok {
			if _, err := ts.Token(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// WebhookRouteOf returns the webhook route serving path (e.g.
// "/webhooks/salesforce/acme/opportunities") and the source it names.
func WebhookRouteOf(path string) (WebhookRoute, string, bool) {
	got := strings.Split(strings.Trim(path, "/"), "/")
	for _, r := range webhookRoutes {
		_, pattern, _ := strings.Cut(r.Pattern, " ")
		want := strings.Split(strings.Trim(pattern, "/"), "/")
		if len(want) != len(got) {
			continue
		}
		source, ok := "", true
		for i, seg := range want {
			switch {
			case seg == "{source}":
				source = got[i]
			case seg != got[i]:
				ok = false
			}
		}
		if ok && source != "" {
			return r, source, true
		}
	}
	return WebhookRoute{}, "", false
}
