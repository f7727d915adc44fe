package service

import (
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/accrue/accrue/internal/platform/config"
	"github.com/accrue/accrue/internal/platform/eventsig"
	"github.com/accrue/accrue/internal/platform/redisx"
	"github.com/accrue/accrue/internal/platform/tlsx"
)

// Links are the credentials of the internal links, read with the rest of Config (and by the
// gateway): mutual TLS on gRPC, Redis's TLS files and the event signing keys. Outside the
// explicit development mode the TLS files are required, and so are a service's event keys.
type Links struct {
	// InsecureDev (ACCRUE_INSECURE_DEV) allows plaintext gRPC and unsigned events when the
	// files below are not set: development only, logged as a warning at start.
	InsecureDev bool
	// TLS (ACCRUE_TLS_CERT_FILE, ACCRUE_TLS_KEY_FILE, ACCRUE_TLS_CA_FILE) is the process's
	// certificate, its key and the CA every peer's certificate must chain to; re-read when the
	// files change.
	TLS tlsx.Files
	// Redis (ACCRUE_REDIS_CA_FILE, ACCRUE_REDIS_CERT_FILE, ACCRUE_REDIS_KEY_FILE) secures a
	// rediss:// ACCRUE_REDIS_ADDR.
	Redis redisx.Options
	// EventKeysDir (ACCRUE_EVENT_KEYS_DIR) holds "<producer>.<key id>.key" files: the keys this
	// service signs its events with and verifies its consumed events with (see eventsig).
	EventKeysDir string
	// EventSigningKeyID (ACCRUE_EVENT_SIGNING_KEY_ID) picks the key this service signs with;
	// empty: its greatest key id.
	EventSigningKeyID string
}

// LoadLinks reads a service's Links from r (and reports what is missing, see Check).
func LoadLinks(r *config.Reader) Links {
	l := Links{
		InsecureDev: r.Bool("ACCRUE_INSECURE_DEV", false),
		TLS: tlsx.Files{CertFile: r.String("ACCRUE_TLS_CERT_FILE", ""), KeyFile: r.String("ACCRUE_TLS_KEY_FILE", ""),
			CAFile: r.String("ACCRUE_TLS_CA_FILE", "")},
		Redis: redisx.Options{CAFile: r.String("ACCRUE_REDIS_CA_FILE", ""), CertFile: r.String("ACCRUE_REDIS_CERT_FILE", ""),
			KeyFile: r.String("ACCRUE_REDIS_KEY_FILE", "")},
		EventKeysDir:      r.String("ACCRUE_EVENT_KEYS_DIR", ""),
		EventSigningKeyID: r.String("ACCRUE_EVENT_SIGNING_KEY_ID", ""),
	}
	l.Check(r, true)
	return l
}

// Check reports to r what is missing outside development mode: the TLS files (all three, even
// in development mode once one is set) and, when events is true (a service, not the gateway),
// the event keys.
func (l Links) Check(r *config.Reader, events bool) {
	if l.TLS.Set() || !l.InsecureDev {
		if err := l.TLS.Validate(); err != nil {
			r.Fail(errors.New("ACCRUE_TLS_CERT_FILE, ACCRUE_TLS_KEY_FILE and ACCRUE_TLS_CA_FILE are required (mutual TLS between the gateway and the services); ACCRUE_INSECURE_DEV=true runs without, for development only"))
		}
	}
	if events && l.EventKeysDir == "" && !l.InsecureDev {
		r.Fail(errors.New("ACCRUE_EVENT_KEYS_DIR is required (events are signed and verified); ACCRUE_INSECURE_DEV=true runs without, for development only"))
	}
}

// TLSConfigs returns the server and client TLS configurations of the process (both nil in
// development mode without files).
func (l Links) TLSConfigs() (server, client *tls.Config, err error) {
	if !l.TLS.Set() {
		return nil, nil, nil
	}
	r, err := tlsx.NewReloader(l.TLS)
	if err != nil {
		return nil, nil, err
	}
	return r.ServerConfig(), r.ClientConfig(), nil
}

// EventKeys returns the keyring of EventKeysDir and the signer of producer (both nil without a
// directory).
func (l Links) EventKeys(producer string) (*eventsig.Keyring, *eventsig.Signer, error) {
	if l.EventKeysDir == "" {
		return nil, nil, nil
	}
	keys, err := eventsig.LoadDir(l.EventKeysDir)
	if err != nil {
		return nil, nil, err
	}
	signer, err := keys.Signer(producer, l.EventSigningKeyID)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (ACCRUE_EVENT_KEYS_DIR must hold %s.<key id>%s)", err, producer, eventsig.FileSuffix)
	}
	return keys, signer, nil
}
