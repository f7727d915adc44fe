package grpcx

import (
	"context"
	"crypto/tls"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/telemetry"
)

// PropagatedHeaders are the incoming metadata keys copied onto outgoing calls made while serving
// a request, besides the correlation id. With tracing on (telemetry.Enabled), the client's stats
// handler then replaces traceparent with its own span's. The authorization header is not among them: a service
// calls another with its own credentials (see TokenSource), never by relaying its caller's token
// implicitly.
var PropagatedHeaders = []string{"traceparent", "tracestate"}

// OnBehalfEntitiesKey is the metadata key that carries, on a call a service makes while serving a
// request, the legal entities its caller may act for (auth.Entities.String). The called service
// narrows the calling service's own token to them: the service acts for its caller's entities
// only. Anyone may send it; it can only take rights away.
const OnBehalfEntitiesKey = "accrue-on-behalf-legal-entities"

// TokenSource returns the bearer token a service presents to another service.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// WindowSize is the HTTP/2 flow-control window of every Accrue gRPC stream and connection, on
// clients and servers alike: larger than any message a service accepts by default, so a call
// never waits for a window update.
const WindowSize = 4 << 20

// Dial opens a client connection to target with correlation propagation and, when ts is not nil,
// the service's own bearer token on every call. Connections are lazy; use health checks to wait.
func Dial(target string, ts TokenSource, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	opts = append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		// Reconnect quickly after a peer restarts (gRPC's default backoff grows to 120 s).
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.Config{BaseDelay: 100 * time.Millisecond,
			Multiplier: 1.6, Jitter: 0.2, MaxDelay: 2 * time.Second}, MinConnectTimeout: 2 * time.Second}),
		grpc.WithChainUnaryInterceptor(propagateUnary(ts)),
		// A fixed flow-control window turns off gRPC's bandwidth-delay estimation, whose pings
		// follow the data of nearly every call between services that talk in short bursts: each
		// is one more write and one more wake-up on both sides (about a tenth of a conversion's
		// context switches). See WindowSize.
		grpc.WithInitialWindowSize(WindowSize), grpc.WithInitialConnWindowSize(WindowSize),
	}, append(telemetry.DialOptions(), opts...)...)
	return grpc.NewClient(target, opts...)
}

// Transport returns the dial option of a client's transport security: mutual TLS with cfg
// (tlsx.Reloader.ClientConfig), or plaintext when cfg is nil (tests, ACCRUE_INSECURE_DEV). Pass it
// to Dial, whose default is plaintext.
func Transport(cfg *tls.Config) grpc.DialOption {
	if cfg == nil {
		return grpc.WithTransportCredentials(insecure.NewCredentials())
	}
	return grpc.WithTransportCredentials(credentials.NewTLS(cfg))
}

func propagateUnary(ts TokenSource) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		ctx = OutgoingContext(ctx)
		if p, ok := auth.FromContext(ctx); ok {
			ctx = metadata.AppendToOutgoingContext(ctx, OnBehalfEntitiesKey, p.LegalEntities.String())
		}
		if ts != nil {
			tok, err := ts.Token(ctx)
			if err != nil {
				return err
			}
			ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}

// OutgoingContext adds the correlation id and the propagated headers of ctx to its outgoing
// metadata.
func OutgoingContext(ctx context.Context) context.Context {
	if id := correlation.ID(ctx); id != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, correlation.MetadataKey, id)
	}
	if in, ok := metadata.FromIncomingContext(ctx); ok {
		for _, h := range PropagatedHeaders {
			for _, v := range in.Get(h) {
				ctx = metadata.AppendToOutgoingContext(ctx, h, v)
			}
		}
	}
	return ctx
}
