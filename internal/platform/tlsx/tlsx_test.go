package tlsx_test

import (
	"context"
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/accrue/accrue/internal/platform/tlsx"
)

// serve starts a gRPC health server on a loopback port with the server identity of dir.
func serve(t testing.TB, r *tlsx.Reloader) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(r.ServerConfig())))
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

func reloader(t testing.TB, dir, name string) *tlsx.Reloader {
	t.Helper()
	r, err := tlsx.NewReloader(tlsx.Files{CertFile: filepath.Join(dir, name+".crt"),
		KeyFile: filepath.Join(dir, name+".key"), CAFile: filepath.Join(dir, "ca.crt")})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// check calls the health service at addr with opt and returns the server certificate's serial.
func check(t *testing.T, addr string, opt grpc.DialOption) (string, error) {
	t.Helper()
	conn, err := grpc.NewClient(addr, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var p peer.Peer
	_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Peer(&p))
	if err != nil {
		return "", err
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		t.Fatalf("auth info %T, want TLS", p.AuthInfo)
	}
	return info.State.PeerCertificates[0].SerialNumber.String(), nil
}

func issue(t testing.TB, dir string, force bool, names ...string) {
	t.Helper()
	if _, err := tlsx.DevCerts(dir, names, nil, time.Hour, force); err != nil {
		t.Fatal(err)
	}
}

// TestMutualTLS: a server accepts a client whose certificate its CA issued and refuses one
// without a certificate, one with a certificate of another CA, and a plaintext one; the client
// refuses a server whose certificate its CA did not issue.
func TestMutualTLS(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	issue(t, dir, false, "customer", "project")
	issue(t, other, false, "project")
	addr := serve(t, reloader(t, dir, "customer"))

	good := reloader(t, dir, "project")
	if _, err := check(t, addr, grpc.WithTransportCredentials(credentials.NewTLS(good.ClientConfig()))); err != nil {
		t.Fatalf("client with a certificate of the CA: %v", err)
	}

	noCert := good.ClientConfig()
	noCert.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &tls.Certificate{}, nil }
	foreign := reloader(t, other, "project")
	for name, opt := range map[string]grpc.DialOption{
		"no client certificate":     grpc.WithTransportCredentials(credentials.NewTLS(noCert)),
		"certificate of another CA": grpc.WithTransportCredentials(credentials.NewTLS(foreign.ClientConfig())),
		"plaintext":                 grpc.WithTransportCredentials(insecure.NewCredentials()),
	} {
		if _, err := check(t, addr, opt); status.Code(err) != codes.Unavailable {
			t.Errorf("%s: %v, want the connection refused (Unavailable)", name, err)
		}
	}

	// A server of another CA is refused by the client.
	foreignAddr := serve(t, foreign)
	if _, err := check(t, foreignAddr, grpc.WithTransportCredentials(credentials.NewTLS(good.ClientConfig()))); status.Code(err) != codes.Unavailable {
		t.Errorf("server of another CA: %v, want Unavailable", err)
	}
}

// TestReload: replacing the certificate files makes the next connection use the new
// certificate, without a restart; a half-written pair keeps the previous one.
func TestReload(t *testing.T) {
	dir := t.TempDir()
	issue(t, dir, false, "customer", "project")
	addr := serve(t, reloader(t, dir, "customer"))
	client := grpc.WithTransportCredentials(credentials.NewTLS(reloader(t, dir, "project").ClientConfig()))
	first, err := check(t, addr, client)
	if err != nil {
		t.Fatal(err)
	}

	issue(t, dir, true, "customer")
	second, err := check(t, addr, client)
	if err != nil {
		t.Fatal(err)
	}
	if second == first {
		t.Fatalf("the server still presents certificate %s after its files were replaced", first)
	}

	// A certificate written without its key (mid-rotation) does not break new connections.
	other := t.TempDir()
	issue(t, other, false, "customer")
	b, _ := os.ReadFile(filepath.Join(other, "customer.crt"))
	if err := tlsx.WriteAtomic(filepath.Join(dir, "customer.crt"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	third, err := check(t, addr, client)
	if err != nil || third != second {
		t.Fatalf("mid-rotation: serial %s, %v; want the previous certificate %s", third, err, second)
	}
}
