package tlsx_test

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// BenchmarkUnaryCall compares a unary call on an established loopback connection over mutual TLS
// with the same call in plaintext (what a service-to-service call pays for the encryption), and
// a new connection's handshake (what a reconnect pays).
func BenchmarkUnaryCall(b *testing.B) {
	dir := b.TempDir()
	issue(b, dir, false, "customer", "project")
	server, client := reloader(b, dir, "customer"), reloader(b, dir, "project")
	for _, c := range []struct {
		name         string
		serve        grpc.ServerOption
		dial         grpc.DialOption
		newConnEvery bool
	}{
		{"plaintext", grpc.Creds(insecure.NewCredentials()), grpc.WithTransportCredentials(insecure.NewCredentials()), false},
		{"mtls", grpc.Creds(credentials.NewTLS(server.ServerConfig())), grpc.WithTransportCredentials(credentials.NewTLS(client.ClientConfig())), false},
		{"mtls-new-connection", grpc.Creds(credentials.NewTLS(server.ServerConfig())), grpc.WithTransportCredentials(credentials.NewTLS(client.ClientConfig())), true},
	} {
		b.Run(c.name, func(b *testing.B) {
			lis, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			srv := grpc.NewServer(c.serve)
			healthpb.RegisterHealthServer(srv, health.NewServer())
			go func() { _ = srv.Serve(lis) }()
			defer srv.Stop()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			dial := func() (*grpc.ClientConn, healthpb.HealthClient) {
				conn, err := grpc.NewClient(lis.Addr().String(), c.dial)
				if err != nil {
					b.Fatal(err)
				}
				return conn, healthpb.NewHealthClient(conn)
			}
			conn, hc := dial()
			if _, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if c.newConnEvery {
					_ = conn.Close()
					conn, hc = dial()
				}
				if _, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
					b.Fatal(err)
				}
			}
			_ = conn.Close()
		})
	}
}
