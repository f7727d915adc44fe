package egress

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"
)

// Request is one signed delivery attempt.
type Request struct {
	URL, ContentType string
	Body             []byte
	// Headers are the Standard Webhooks headers (webhook-id, webhook-timestamp,
	// webhook-signature).
	Headers map[string]string
}

// Response is what the endpoint answered.
type Response struct {
	StatusCode int // 0: no answer
	Excerpt    string
	Err        error
	Latency    time.Duration
}

// ExcerptBytes is how much of an answer's body is kept.
const ExcerptBytes = 512

// Sender posts deliveries through the guard, with a timeout per request and no redirects.
type Sender struct {
	client *http.Client
}

// NewSender returns a sender whose requests end after timeout.
func NewSender(g *Guard, timeout time.Duration) *Sender {
	tr := &http.Transport{DialContext: g.DialContext, MaxIdleConnsPerHost: 8, IdleConnTimeout: 90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second, ResponseHeaderTimeout: timeout, ForceAttemptHTTP2: true}
	return &Sender{client: &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Send posts r and reports the answer; it never returns an error of its own (a failure is in
// Response.Err).
func (s *Sender) Send(ctx context.Context, r Request) Response {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return Response{Err: err}
	}
	req.Header.Set("Content-Type", r.ContentType)
	req.Header.Set("User-Agent", "Accrue-Webhooks/1")
	for k, v := range r.Headers {
		req.Header.Set(k, v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return Response{Err: unwrapURL(err), Latency: time.Since(start)}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, ExcerptBytes))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	for !utf8.Valid(b) && len(b) > 0 {
		b = b[:len(b)-1]
	}
	out := Response{StatusCode: resp.StatusCode, Excerpt: string(b), Latency: time.Since(start)}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		out.Err = errors.New("the endpoint answered " + strconv.Itoa(resp.StatusCode))
	}
	return out
}

func unwrapURL(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}
