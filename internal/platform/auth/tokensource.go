package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// FileTokenSource presents the token stored in a file, re-reading it when the file changes
// (development: `make run` writes one per service; Kubernetes: a projected token).
type FileTokenSource struct {
	Path string

	mu    sync.Mutex
	mod   time.Time
	token string
}

// Token implements grpcx.TokenSource.
func (f *FileTokenSource) Token(context.Context) (string, error) {
	st, err := os.Stat(f.Path)
	if err != nil {
		return "", fmt.Errorf("auth: service token: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.token == "" || st.ModTime() != f.mod {
		b, err := os.ReadFile(f.Path)
		if err != nil {
			return "", fmt.Errorf("auth: service token: %w", err)
		}
		f.token, f.mod = strings.TrimSpace(string(b)), st.ModTime()
	}
	return f.token, nil
}

// ClientCredentials obtains tokens with the OAuth2 client-credentials grant and caches them until
// shortly before they expire.
type ClientCredentials struct {
	TokenURL     string
	ClientID     string
	ClientSecret string
	Scopes       []string
	Audience     string
	HTTPClient   *http.Client

	mu      sync.Mutex
	token   string
	expires time.Time
}

// Token implements grpcx.TokenSource.
func (c *ClientCredentials) Token(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && time.Until(c.expires) > 30*time.Second {
		return c.token, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(c.Scopes) > 0 {
		form.Set("scope", strings.Join(c.Scopes, " "))
	}
	if c.Audience != "" {
		form.Set("audience", c.Audience)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret))
	hc := c.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("auth: token endpoint: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("auth: token endpoint: %s", resp.Status)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		return "", errors.New("auth: token endpoint returned no access_token")
	}
	c.token = tr.AccessToken
	c.expires = time.Now().Add(time.Duration(tr.ExpiresIn) * time.Second)
	return c.token, nil
}
