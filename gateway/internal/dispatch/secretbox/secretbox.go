// Package secretbox encrypts subscription signing secrets at rest (AES-256-GCM). A stored value
// reads "enc:v1:<key id>:<base64 nonce|ciphertext>", so keys can rotate: the first key of the
// key file seals, every key in it opens. A value without the prefix is a secret stored before
// encryption was configured, and reads as is (it is sealed at its next rotation).
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
)

const prefix = "enc:v1:"

// Keys seals with the current key and opens with any. A nil *Keys stores secrets as they are.
type Keys struct {
	current string
	aeads   map[string]cipher.AEAD
}

// Parse reads a key file: one key a line, "<id>:<base64 of 32 bytes>", the first the current
// one; blank lines and lines starting with # are skipped.
func Parse(text string) (*Keys, error) {
	k := &Keys{aeads: map[string]cipher.AEAD{}}
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, b64, ok := strings.Cut(line, ":")
		raw, err := base64.StdEncoding.DecodeString(b64)
		if !ok || id == "" || strings.ContainsAny(id, ": ") || err != nil || len(raw) != 32 {
			return nil, fmt.Errorf("secretbox: line %d: want <id>:<base64 of 32 bytes>", n+1)
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		if _, dup := k.aeads[id]; dup {
			return nil, fmt.Errorf("secretbox: key id %q twice", id)
		}
		k.aeads[id] = aead
		if k.current == "" {
			k.current = id
		}
	}
	if k.current == "" {
		return nil, errors.New("secretbox: no key")
	}
	return k, nil
}

// Load reads the key file at path (ACCRUE_WEBHOOK_SECRET_KEY_FILE); an empty path means no
// encryption (nil Keys).
func Load(path string) (*Keys, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	return Parse(string(b))
}

// NewKeyLine returns a fresh key file line with the given id.
func NewKeyLine(id string) string {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	return id + ":" + base64.StdEncoding.EncodeToString(raw)
}

// Seal encrypts a secret with the current key, binding it to aad (the subscription id), so a
// ciphertext copied to another row does not open. An empty secret stays empty.
func (k *Keys) Seal(secret, aad string) (string, error) {
	if k == nil || secret == "" {
		return secret, nil
	}
	aead := k.aeads[k.current]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	ct := aead.Seal(nonce, nonce, []byte(secret), []byte(aad))
	return prefix + k.current + ":" + base64.StdEncoding.EncodeToString(ct), nil
}

// Open decrypts a stored value; one without the prefix is returned as it is.
func (k *Keys) Open(stored, aad string) (string, error) {
	rest, ok := strings.CutPrefix(stored, prefix)
	if !ok {
		return stored, nil
	}
	id, b64, _ := strings.Cut(rest, ":")
	if k == nil {
		return "", fmt.Errorf("secretbox: secret sealed with key %q, but no key file is configured", id)
	}
	aead, ok := k.aeads[id]
	if !ok {
		return "", fmt.Errorf("secretbox: secret sealed with key %q, which the key file does not hold", id)
	}
	ct, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(ct) < aead.NonceSize() {
		return "", errors.New("secretbox: malformed sealed secret")
	}
	pt, err := aead.Open(nil, ct[:aead.NonceSize()], ct[aead.NonceSize():], []byte(aad))
	if err != nil {
		return "", fmt.Errorf("secretbox: secret does not open with key %q: %w", id, err)
	}
	return string(pt), nil
}
