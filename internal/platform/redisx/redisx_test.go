package redisx_test

import (
	"context"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/accrue/accrue/internal/platform/redistest"
	"github.com/accrue/accrue/internal/platform/redisx"
	"github.com/accrue/accrue/internal/platform/tlsx"
)

const password = "s3cret-Redis-pass"

// aclServer is a private redis-server whose default user is off: only the ACL user "accrue"
// with its password gets in.
func aclServer(t *testing.T, extra ...string) *redistest.Server {
	return redistest.PrivateWith(t, false, append([]string{"--user", "default", "off",
		"--user", "accrue", "on", ">" + password, "~*", "&*", "+@all"}, extra...)...)
}

// TestACLUser: a redis:// URL with the ACL user and password connects and may write streams;
// a wrong password or no user is refused, and the error does not quote the password.
func TestACLUser(t *testing.T) {
	srv := aclServer(t)
	ctx := context.Background()
	rdb, err := redisx.Connect(ctx, "unix://accrue:"+password+"@"+srv.Addr)
	if err != nil {
		t.Fatalf("connect as the ACL user: %v", err)
	}
	defer rdb.Close()
	if err := rdb.XAdd(ctx, &redisArgs).Err(); err != nil {
		t.Fatalf("XADD as the ACL user: %v", err)
	}
	for _, addr := range []string{srv.Addr, "unix://accrue:wrong-" + password + "@" + srv.Addr} {
		_, err := redisx.Connect(ctx, addr)
		if err == nil {
			t.Fatalf("%s connected", redisx.Redacted(addr))
		}
		if strings.Contains(err.Error(), password) {
			t.Errorf("the error quotes the password: %v", err)
		}
	}
}

// TestTLS: a rediss:// URL with the CA file (and the client certificate the server requires)
// connects over TLS to a private redis-server with a TLS port; without the CA, or without a
// client certificate, the connection is refused.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	if _, err := tlsx.DevCerts(dir, []string{"redis", "billing"}, nil, time.Hour, false); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	aclServer(t, "--tls-port", strconv.Itoa(port), "--tls-cert-file", filepath.Join(dir, "redis.crt"),
		"--tls-key-file", filepath.Join(dir, "redis.key"), "--tls-ca-cert-file", filepath.Join(dir, "ca.crt"))
	ctx := context.Background()
	url := "rediss://accrue:" + password + "@127.0.0.1:" + strconv.Itoa(port)
	opts := redisx.Options{CAFile: filepath.Join(dir, "ca.crt"), CertFile: filepath.Join(dir, "billing.crt"), KeyFile: filepath.Join(dir, "billing.key")}
	var rdb interface{ Close() error }
	var err error
	deadline := time.Now().Add(5 * time.Second)
	for { // the TLS port opens with the server; the unix socket answered first
		c, e := redisx.Connect(ctx, url, opts)
		if e == nil {
			rdb = c
			if err := c.XAdd(ctx, &redisArgs).Err(); err != nil {
				t.Fatalf("XADD over TLS: %v", err)
			}
			break
		}
		if err = e; time.Now().After(deadline) {
			t.Fatalf("connect over TLS: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	defer rdb.Close()
	noClientCert := redisx.Options{CAFile: opts.CAFile}
	if _, err := redisx.Connect(ctx, url, noClientCert); err == nil {
		t.Error("connected without a client certificate")
	}
	if _, err := redisx.Connect(ctx, url); err == nil {
		t.Error("connected without the CA (system roots)")
	}
	if _, err := redisx.Connect(ctx, "redis://127.0.0.1:1", opts); err == nil || !strings.Contains(err.Error(), "rediss://") {
		t.Errorf("TLS files with a redis:// URL: %v, want a configuration error", err)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

var redisArgs = redis.XAddArgs{Stream: "links-test", Values: []any{"k", "v"}}
