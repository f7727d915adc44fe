package grpcx_test

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/grpcx"
)

// echoEntities answers GetLegalEntity (a legal_entity_scoped RPC) with the boundary its handler
// sees, in the code field.
type echoEntities struct {
	billingv1.UnimplementedLegalEntityServiceServer
}

func (echoEntities) GetLegalEntity(ctx context.Context, _ *billingv1.GetLegalEntityRequest) (*billingv1.GetLegalEntityResponse, error) {
	return &billingv1.GetLegalEntityResponse{LegalEntity: &billingv1.LegalEntity{Code: auth.EntitiesOf(ctx).String()}}, nil
}

type tokenOf string

func (s tokenOf) Token(context.Context) (string, error) { return string(s), nil }

const leA, leB = "01a2210c-0000-7000-8000-00000000000a", "01a2210c-0000-7000-8000-00000000000b"

func (f *fixture) entityToken(t *testing.T, entities []string, scopes ...string) string {
	t.Helper()
	tok, err := auth.SignToken(f.key, auth.TokenRequest{Issuer: testIssuer, Audience: testAudience,
		Subject: "svc-project", Scopes: scopes, TTL: time.Hour, LegalEntities: entities})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// A token acting for no legal entity is refused on entity-scoped RPCs; a service calling on its
// caller's behalf, with its own "*" token, acts for the caller's entities only.
func TestLegalEntityBoundaryAndOnBehalfCalls(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(s *grpc.Server, _ *exceptions.Queue) {
		billingv1.RegisterLegalEntityServiceServer(s, echoEntities{})
	})
	get := func(ctx context.Context, conn *grpc.ClientConn) (string, error) {
		resp, err := billingv1.NewLegalEntityServiceClient(conn).GetLegalEntity(ctx, &billingv1.GetLegalEntityRequest{LegalEntityId: leA})
		return resp.GetLegalEntity().GetCode(), err
	}

	// Direct calls: the token's claim.
	for _, tc := range []struct {
		entities []string
		want     string
	}{{[]string{"*"}, "*"}, {[]string{leA, leB}, leA + "," + leB}} {
		got, err := get(withToken(ctxTimeout(t), f.entityToken(t, tc.entities, "billing:read")), f.conn)
		if err != nil || got != tc.want {
			t.Errorf("claim %v: %q %v, want %q", tc.entities, got, err, tc.want)
		}
	}
	for _, none := range [][]string{nil, {}} {
		_, err := get(withToken(ctxTimeout(t), f.entityToken(t, none, "billing:read")), f.conn)
		wantStatus(t, err, codes.PermissionDenied, auth.ReasonLegalEntityForbidden)
	}

	// On behalf: the calling service's "*" token, narrowed to its caller's entities.
	svc, err := grpcx.Dial("passthrough:///bufnet", tokenOf(f.entityToken(t, []string{"*"}, "billing:read")),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return f.lis.DialContext(ctx) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Close() })
	serving := func(e auth.Entities) context.Context {
		return auth.WithPrincipal(ctxTimeout(t), auth.Principal{Subject: "caller", LegalEntities: e})
	}
	if got, err := get(serving(auth.Entities{IDs: []string{leB}}), svc); err != nil || got != leB {
		t.Errorf("on behalf of a caller of B: %q %v, want %q", got, err, leB)
	}
	if got, err := get(serving(auth.Entities{All: true}), svc); err != nil || got != "*" {
		t.Errorf("on behalf of a caller of *: %q %v", got, err)
	}
	_, err = get(serving(auth.Entities{}), svc)
	wantStatus(t, err, codes.PermissionDenied, auth.ReasonLegalEntityForbidden)
	if got, err := get(ctxTimeout(t), svc); err != nil || got != "*" {
		t.Errorf("no caller (a consumer): %q %v, want the service's own *", got, err)
	}
	// The header only ever narrows: it cannot widen a token limited to A.
	ctx := metadata.AppendToOutgoingContext(withToken(ctxTimeout(t), f.entityToken(t, []string{leA}, "billing:read")),
		grpcx.OnBehalfEntitiesKey, "*")
	if got, err := get(ctx, f.conn); err != nil || got != leA {
		t.Errorf("a widening header: %q %v, want %q", got, err, leA)
	}
	ctx = metadata.AppendToOutgoingContext(withToken(ctxTimeout(t), f.entityToken(t, []string{leA}, "billing:read")),
		grpcx.OnBehalfEntitiesKey, leB)
	_, err = get(ctx, f.conn)
	wantStatus(t, err, codes.PermissionDenied, auth.ReasonLegalEntityForbidden)
}
