// Package redisx connects to Redis (the transport of Accrue's event streams).
package redisx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/accrue/accrue/internal/platform/tlsx"
)

// Options secure the connection beyond what the address says.
type Options struct {
	// CAFile is a PEM bundle the server's certificate must chain to (rediss:// URLs); empty:
	// the system's roots.
	CAFile string
	// CertFile and KeyFile are the client certificate a server started with tls-auth-clients
	// asks for; re-read when they change (with CAFile, see tlsx.Reloader).
	CertFile, KeyFile string
}

// Connect returns a client for addr and checks that the server answers. addr is host:port, the
// path of a unix socket, or a URL: redis://[user:password@]host:port[/db] (an ACL user, or only a
// password for the default user), rediss://… for TLS, unix://[user:password@]/path. The read
// timeout stays well above the consumers' XREADGROUP BLOCK time. Errors never quote a password.
func Connect(ctx context.Context, addr string, opts ...Options) (*redis.Client, error) {
	o, err := clientOptions(addr, opts...)
	if err != nil {
		return nil, err
	}
	rdb := redis.NewClient(o)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("redis: ping %s: %w", Redacted(addr), err)
	}
	return rdb, nil
}

func clientOptions(addr string, opts ...Options) (*redis.Options, error) {
	var o *redis.Options
	if strings.Contains(addr, "://") {
		var err error
		if o, err = redis.ParseURL(addr); err != nil {
			return nil, fmt.Errorf("redis: address %s: %v", Redacted(addr), strings.ReplaceAll(err.Error(), addr, Redacted(addr)))
		}
	} else {
		o = &redis.Options{Network: "tcp", Addr: addr}
		if strings.HasPrefix(addr, "/") {
			o.Network = "unix"
		}
	}
	o.ReadTimeout, o.WriteTimeout, o.PoolSize = 15*time.Second, 5*time.Second, 16
	for _, x := range opts {
		if x.CAFile == "" && x.CertFile == "" && x.KeyFile == "" {
			continue
		}
		if o.TLSConfig == nil {
			return nil, fmt.Errorf("redis: TLS files are set but %s is not a rediss:// URL", Redacted(addr))
		}
		if err := secure(o.TLSConfig, x); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// secure adds the CA and client certificate of x to cfg.
func secure(cfg *tls.Config, x Options) error {
	cfg.MinVersion = tls.VersionTLS12
	if x.CertFile != "" || x.KeyFile != "" {
		r, err := tlsx.NewReloader(tlsx.Files{CertFile: x.CertFile, KeyFile: x.KeyFile, CAFile: x.CAFile})
		if err != nil {
			return fmt.Errorf("redis: %w", err)
		}
		client := r.ClientConfig()
		cfg.GetClientCertificate = client.GetClientCertificate
		cfg.InsecureSkipVerify, cfg.VerifyConnection = client.InsecureSkipVerify, client.VerifyConnection //nolint:gosec // verified against the CA file
		return nil
	}
	pem, err := os.ReadFile(x.CAFile)
	if err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return fmt.Errorf("redis: %s holds no PEM certificate", x.CAFile)
	}
	cfg.RootCAs = pool
	return nil
}

// Redacted returns addr with a URL's password replaced by "xxxxx", for logs and errors.
func Redacted(addr string) string {
	if !strings.Contains(addr, "://") {
		return addr
	}
	u, err := url.Parse(addr)
	if err != nil {
		return "(unparsable redis URL)"
	}
	return u.Redacted()
}
