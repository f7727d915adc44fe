package tlsx

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// CA is a certificate authority that issues development certificates.
type CA struct {
	Cert    *x509.Certificate
	Key     *ecdsa.PrivateKey
	CertPEM []byte
}

// NewCA creates a self-signed CA (ECDSA P-256) valid for ttl.
func NewCA(name string, ttl time.Duration) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: name, Organization: []string{"Accrue development"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(ttl),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key, CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// Issue returns a certificate and key (PEM) for name, valid for ttl as a server and as a client,
// for the host names and IP addresses hosts (name itself is always a DNS name).
func (ca *CA) Issue(name string, hosts []string, ttl time.Duration) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(ttl),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:    []string{name},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != name {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return nil, nil, err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		panic(err)
	}
	return n
}

// LocalHosts are the names every development certificate carries besides its own.
var LocalHosts = []string{"localhost", "127.0.0.1", "::1"}

// DevCerts makes dir hold a development CA (ca.crt, ca.key, created once) and, for each name,
// <name>.crt and <name>.key issued by it for name, hosts and LocalHosts (issued again when
// missing, or when force is set). It returns the names it issued.
func DevCerts(dir string, names, hosts []string, ttl time.Duration, force bool) ([]string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	ca, err := loadOrCreateCA(dir, ttl)
	if err != nil {
		return nil, err
	}
	var issued []string
	for _, n := range names {
		crt, key := filepath.Join(dir, n+".crt"), filepath.Join(dir, n+".key")
		if !force && exists(crt) && exists(key) {
			if _, err := tls.LoadX509KeyPair(crt, key); err == nil {
				continue
			}
		}
		c, k, err := ca.Issue(n, append(append([]string{}, hosts...), LocalHosts...), ttl)
		if err != nil {
			return issued, err
		}
		// The key first, then the certificate: a reloading reader that sees a new certificate
		// with the old key keeps its previous pair until both are written.
		if err := WriteAtomic(key, k, 0o600); err != nil {
			return issued, err
		}
		if err := WriteAtomic(crt, c, 0o644); err != nil {
			return issued, err
		}
		issued = append(issued, n)
	}
	return issued, nil
}

func loadOrCreateCA(dir string, ttl time.Duration) (*CA, error) {
	crt, key := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")
	if exists(crt) && exists(key) {
		pair, err := tls.LoadX509KeyPair(crt, key)
		if err != nil {
			return nil, fmt.Errorf("tlsx: %s: %w", crt, err)
		}
		cert, err := x509.ParseCertificate(pair.Certificate[0])
		if err != nil {
			return nil, err
		}
		k, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
		if !ok {
			return nil, errors.New("tlsx: the CA key is not an ECDSA key")
		}
		b, err := os.ReadFile(crt)
		if err != nil {
			return nil, err
		}
		return &CA{Cert: cert, Key: k, CertPEM: b}, nil
	}
	ca, err := NewCA("Accrue development CA", ttl)
	if err != nil {
		return nil, err
	}
	kb, err := x509.MarshalECPrivateKey(ca.Key)
	if err != nil {
		return nil, err
	}
	if err := WriteAtomic(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		return nil, err
	}
	return ca, WriteAtomic(crt, ca.CertPEM, 0o644)
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// WriteAtomic replaces path with data through a temporary file and a rename, so a reader never
// sees half a file.
func WriteAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
