package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/accrue/accrue/gateway/internal/gateway"
	// The contracts of every service, so their declared calls and scopes are registered.
	_ "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	_ "github.com/accrue/accrue/gen/go/accrue/customer/v1"
	_ "github.com/accrue/accrue/gen/go/accrue/project/v1"
	_ "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	_ "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/eventsig"
	"github.com/accrue/accrue/internal/platform/rpcspec"
	"github.com/accrue/accrue/internal/platform/tlsx"
)

// serviceScopes writes one line per service, "<service> <scope>,…": the scopes its own token
// needs for the calls its contract declares (accrue.common.v1.calls), and no other. A service
// that calls no other prints its name alone: it needs no token.
func serviceScopes(w io.Writer) error {
	for _, s := range gateway.Services {
		scopes, err := rpcspec.CallScopes(s)
		if err != nil {
			return err
		}
		fmt.Fprintln(w, strings.TrimSpace(s+" "+strings.Join(scopes, ",")))
	}
	return nil
}

// certsCmd issues development certificates: a local CA (kept) and one certificate per name.
func certsCmd(fs *flag.FlagSet, args []string, w io.Writer) error {
	dir := fs.String("dir", ".run/tls", "directory of ca.crt/ca.key and <name>.crt/<name>.key")
	names := fs.String("names", strings.Join(append(append([]string{}, gateway.Services...), "gateway"), ","), "comma-separated certificate names")
	hosts := fs.String("hosts", "", "extra comma-separated host names or IP addresses every certificate carries")
	ttl := fs.Duration("ttl", 90*24*time.Hour, "lifetime of the CA and of each certificate")
	force := fs.Bool("force", false, "issue every certificate again (the CA is kept)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	issued, err := tlsx.DevCerts(*dir, split(*names), split(*hosts), *ttl, *force)
	if err != nil {
		return err
	}
	if len(issued) > 0 {
		fmt.Fprintf(w, "issued %s in %s\n", strings.Join(issued, ", "), *dir)
	}
	return nil
}

// eventKeysCmd creates the event signing key "<producer>.<id>.key" of every producer that has
// none yet (or, with --id, a key of that id: the next key of a rotation).
func eventKeysCmd(fs *flag.FlagSet, args []string, w io.Writer) error {
	dir := fs.String("dir", ".run/event-keys", "directory of <producer>.<key id>.key files")
	producers := fs.String("producers", strings.Join(gateway.Services, ","), "comma-separated producers")
	id := fs.String("id", "", "key id to create (default: today's date, only for producers without a key)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return err
	}
	kid := *id
	if kid == "" {
		kid = time.Now().UTC().Format("2006-01-02")
	}
	for _, p := range split(*producers) {
		if *id == "" {
			if has, err := filepath.Glob(filepath.Join(*dir, p+".*"+eventsig.FileSuffix)); err != nil || len(has) > 0 {
				continue
			}
		}
		path := filepath.Join(*dir, p+"."+kid+eventsig.FileSuffix)
		if _, err := os.Stat(path); err == nil {
			return fmt.Errorf("%s exists already", path)
		}
		secret := make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return err
		}
		if err := tlsx.WriteAtomic(path, []byte(hex.EncodeToString(secret)+"\n"), 0o600); err != nil {
			return err
		}
		fmt.Fprintf(w, "created %s\n", path)
	}
	if _, err := eventsig.LoadDir(*dir); err != nil {
		return errors.Join(errors.New("the key directory does not load"), err)
	}
	return nil
}

func split(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}
