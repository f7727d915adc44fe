package grpcx_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/net/http2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/internal/platform/pgtest"
)

// serveLimited starts a server with cfg's limits (verifier, pool and logger filled in).
func serveLimited(t *testing.T, cfg grpcx.ServerConfig) *bufconn.Listener {
	t.Helper()
	_, jwks, err := auth.GenerateDevKey()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, jwks, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Verifier, err = auth.NewVerifier(context.Background(), auth.Config{Issuer: testIssuer, Audience: testAudience, JWKSFile: path})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Pool, cfg.Logger = pgtest.New(t, nil).Pool, quietLogger()
	srv, hs, err := grpcx.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	lis := bufconn.Listen(1 << 20)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis
}

// With one stream allowed per connection, a second call waits until the first ends.
func TestServerCapsConcurrentStreams(t *testing.T) {
	t.Parallel()
	lis := serveLimited(t, grpcx.ServerConfig{MaxConcurrentStreams: 1})
	conn, err := grpcx.Dial("passthrough:///bufnet", nil,
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)

	wctx, stopWatch := context.WithCancel(ctxTimeout(t))
	watch, err := client.Watch(wctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := watch.Recv(); err != nil { // the stream is open on the server
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctxTimeout(t), 300*time.Millisecond)
	defer cancel()
	if _, err := client.Check(cctx, &healthpb.HealthCheckRequest{}); status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("a second call while one stream is open: %v, want it to wait (DeadlineExceeded)", err)
	}
	stopWatch()
	if _, err := client.Check(ctxTimeout(t), &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true)); err != nil {
		t.Fatalf("a call once the stream ended: %v", err)
	}
}

// The server announces its stream limit, answers pings spaced at least KeepaliveMinTime apart
// even on a connection without calls, and sends GOAWAY (too_many_pings) to a client that pings
// faster.
func TestServerEnforcesKeepalivePolicy(t *testing.T) {
	t.Parallel()
	lis := serveLimited(t, grpcx.ServerConfig{KeepaliveMinTime: 100 * time.Millisecond})
	conn, err := lis.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := conn.Write([]byte(http2.ClientPreface)); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(conn, conn)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	// Frames are only valid until the next read: the reader passes on what the test needs.
	type frame struct {
		typ        http2.FrameType
		ack        bool
		maxStreams uint32
		code       http2.ErrCode
		debug      string
	}
	frames := make(chan frame)
	go func() {
		defer close(frames)
		for {
			f, err := fr.ReadFrame()
			if err != nil {
				return
			}
			x := frame{typ: f.Header().Type, ack: f.Header().Flags.Has(http2.FlagPingAck)}
			switch f := f.(type) {
			case *http2.SettingsFrame:
				x.maxStreams, _ = f.Value(http2.SettingMaxConcurrentStreams)
			case *http2.GoAwayFrame:
				x.code, x.debug = f.ErrCode, string(f.DebugData())
			}
			frames <- x
		}
	}()
	// next returns the next frame other than a SETTINGS ack or a WINDOW_UPDATE.
	next := func() frame {
		for f := range frames {
			if (f.typ == http2.FrameSettings && f.ack) || f.typ == http2.FrameWindowUpdate {
				continue
			}
			return f
		}
		t.Fatal("the connection closed")
		return frame{}
	}
	f := next()
	if f.typ != http2.FrameSettings || f.maxStreams != 1000 {
		t.Fatalf("first frame %v, SETTINGS_MAX_CONCURRENT_STREAMS %d; want SETTINGS with the default 1000", f.typ, f.maxStreams)
	}
	if err := fr.WriteSettingsAck(); err != nil {
		t.Fatal(err)
	}
	// Pings at a polite pace, with no call open: each is answered, and none draws a GOAWAY
	// (gRPC's default policy strikes pings on an idle connection and sends one after the
	// fourth).
	for i := range 5 {
		time.Sleep(500 * time.Millisecond)
		if err := fr.WritePing(false, [8]byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		if f := next(); f.typ != http2.FramePing || !f.ack {
			t.Fatalf("polite ping %d: answered with %v %+v, want its ack", i, f.typ, f)
		}
	}
	// Four at once: GOAWAY.
	for i := range 4 {
		if err := fr.WritePing(false, [8]byte{9, byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	for {
		switch f := next(); f.typ {
		case http2.FramePing:
		case http2.FrameGoAway:
			if f.code != http2.ErrCodeEnhanceYourCalm || f.debug != "too_many_pings" {
				t.Fatalf("GOAWAY %v %q, want ENHANCE_YOUR_CALM too_many_pings", f.code, f.debug)
			}
			return
		default:
			t.Fatalf("unexpected frame %v", f.typ)
		}
	}
}

// A statement the database cut short (statement_timeout, lock_timeout) is worth retrying: it is
// UNAVAILABLE with its own reason, not a masked INTERNAL.
func TestDatabaseTimeoutsAreUnavailable(t *testing.T) {
	t.Parallel()
	for _, code := range []string{"57014", "55P03"} {
		err := grpcx.ToStatus(context.Background(), fmt.Errorf("store: post: %w", &pgconn.PgError{Code: code}))
		if status.Code(err) != codes.Unavailable || grpcx.ReasonOf(err) != grpcx.ReasonDatabaseTimeout {
			t.Errorf("SQLSTATE %s → %v / %q, want UNAVAILABLE / DATABASE_TIMEOUT", code, status.Code(err), grpcx.ReasonOf(err))
		}
	}
	if err := grpcx.ToStatus(context.Background(), &pgconn.PgError{Code: "42P01"}); status.Code(err) != codes.Internal {
		t.Errorf("another database error → %v, want INTERNAL", status.Code(err))
	}
	// The data's own refusals are the caller's: 400 / 409 with a stable reason (pg.Constraint).
	for code, want := range map[string]codes.Code{"23514": codes.InvalidArgument, "23502": codes.InvalidArgument,
		"23503": codes.InvalidArgument, "23505": codes.AlreadyExists, "22021": codes.InvalidArgument, "22003": codes.InvalidArgument} {
		err := grpcx.ToStatus(context.Background(), fmt.Errorf("store: insert: %w", &pgconn.PgError{Code: code, ColumnName: "rate"}))
		if status.Code(err) != want || grpcx.ReasonOf(err) == "" || grpcx.ReasonOf(err) == grpcx.ReasonInternal {
			t.Errorf("SQLSTATE %s → %v / %q, want %v with a stable reason", code, status.Code(err), grpcx.ReasonOf(err), want)
		}
	}
}
