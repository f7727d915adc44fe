// Package tlsx builds the mutual-TLS configurations of Accrue's internal links (gateway →
// services, service → service, and optionally Redis) from PEM files that are re-read when they
// change: a renewed certificate (cert-manager, a rotated Kubernetes secret, `accruectl certs`)
// is used by the next connection, without a restart. It also issues development certificates
// (dev.go). A Files value's configurations are safe for concurrent use.
package tlsx

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// Files names the PEM files of one identity: its certificate (chain) and key, and the CA bundle
// its peers' certificates must chain to.
type Files struct {
	CertFile, KeyFile, CAFile string
}

// Set reports whether any file is named.
func (f Files) Set() bool { return f.CertFile != "" || f.KeyFile != "" || f.CAFile != "" }

// Validate reports a partial set: mutual TLS needs all three files.
func (f Files) Validate() error {
	if f.CertFile == "" || f.KeyFile == "" || f.CAFile == "" {
		return errors.New("tlsx: a certificate, its key and a CA file are all needed")
	}
	return nil
}

// Reloader holds the current certificate and CA pool of Files, re-reading them when a file's
// modification time or size changes. A change that does not load (a key not yet matching its
// newly written certificate) keeps the previous material until the files agree again.
type Reloader struct {
	files Files

	mu    sync.Mutex
	stamp [3]fileStamp
	cert  *tls.Certificate
	pool  *x509.CertPool
	err   error // the last failed reload, for logs
}

type fileStamp struct {
	mod  time.Time
	size int64
}

// NewReloader loads f once and fails when it does not load.
func NewReloader(f Files) (*Reloader, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	r := &Reloader{files: f}
	if _, _, err := r.current(); err != nil {
		return nil, err
	}
	return r, nil
}

func stat(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{mod: fi.ModTime(), size: fi.Size()}, nil
}

// current returns the certificate and pool, reloading them when a file changed.
func (r *Reloader) current() (*tls.Certificate, *x509.CertPool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var stamp [3]fileStamp
	for i, p := range []string{r.files.CertFile, r.files.KeyFile, r.files.CAFile} {
		s, err := stat(p)
		if err != nil {
			return r.fallback(fmt.Errorf("tlsx: %w", err))
		}
		stamp[i] = s
	}
	if r.cert != nil && stamp == r.stamp {
		return r.cert, r.pool, nil
	}
	cert, err := tls.LoadX509KeyPair(r.files.CertFile, r.files.KeyFile)
	if err != nil {
		return r.fallback(fmt.Errorf("tlsx: %s: %w", r.files.CertFile, err))
	}
	ca, err := os.ReadFile(r.files.CAFile)
	if err != nil {
		return r.fallback(fmt.Errorf("tlsx: %w", err))
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return r.fallback(fmt.Errorf("tlsx: %s holds no PEM certificate", r.files.CAFile))
	}
	r.cert, r.pool, r.stamp, r.err = &cert, pool, stamp, nil
	return r.cert, r.pool, nil
}

func (r *Reloader) fallback(err error) (*tls.Certificate, *x509.CertPool, error) {
	r.err = err
	if r.cert != nil {
		return r.cert, r.pool, nil
	}
	return nil, nil, err
}

// LastError returns why the latest reload failed (nil when the files in use are current).
func (r *Reloader) LastError() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// ServerConfig requires and verifies a client certificate chaining to the CA on every
// connection, presenting the current certificate (TLS 1.3, ALPN h2 for gRPC).
func (r *Reloader) ServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		NextProtos: []string{"h2"},
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			cert, pool, err := r.current()
			if err != nil {
				return nil, err
			}
			return &tls.Config{
				MinVersion:   tls.VersionTLS13,
				NextProtos:   []string{"h2"},
				Certificates: []tls.Certificate{*cert},
				ClientCAs:    pool,
				ClientAuth:   tls.RequireAndVerifyClientCert,
			}, nil
		},
	}
}

// ClientConfig presents the current certificate and verifies the server's certificate against
// the current CA file and the name dialled (a host name or an IP address in its SANs).
func (r *Reloader) ClientConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			cert, _, err := r.current()
			return cert, err
		},
		// The standard verification reads a fixed RootCAs; VerifyConnection below does the same
		// verification against the CA file's current contents, so a rotated CA needs no restart.
		InsecureSkipVerify: true, //nolint:gosec // verified in VerifyConnection
		VerifyConnection: func(cs tls.ConnectionState) error {
			_, pool, err := r.current()
			if err != nil {
				return err
			}
			return verifyPeer(cs, pool, x509.ExtKeyUsageServerAuth, cs.ServerName)
		},
	}
}

func verifyPeer(cs tls.ConnectionState, pool *x509.CertPool, usage x509.ExtKeyUsage, name string) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("tlsx: the peer sent no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter,
		DNSName: name, KeyUsages: []x509.ExtKeyUsage{usage}})
	if err != nil {
		return fmt.Errorf("tlsx: peer certificate: %w", err)
	}
	return nil
}
