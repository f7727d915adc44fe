package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accrue/accrue/gateway/internal/dispatch/subscription"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestListenVerifiesAndPrintsOneLinePerEvent(t *testing.T) {
	secret := subscription.NewSecret()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serveListener(ctx, lis, &listener{secret: secret, tolerance: time.Minute, out: &out, seen: map[string]bool{}})
	}()
	body := subscription.CloudEvent(subscription.Event{ID: "evt-1", Type: "invoice.posted", Subject: "inv-1", Producer: "billing",
		OccurredAt: time.Now(), Data: []byte(`{"invoice":{"number":"US01-2026-000001","status":"INVOICE_STATUS_POSTED"}}`)})
	post := func(b []byte) int {
		now := time.Now()
		sig, err := subscription.Sign([]string{secret}, "evt-1", now, body)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, "http://"+lis.Addr().String()+"/", bytes.NewReader(b))
		req.Header.Set("webhook-id", "evt-1")
		req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		req.Header.Set("webhook-signature", sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(body); code != http.StatusNoContent {
		t.Fatalf("a signed event: %d", code)
	}
	if code := post(bytes.Replace(body, []byte("000001"), []byte("000002"), 1)); code != http.StatusUnauthorized {
		t.Fatalf("a tampered event: %d", code)
	}
	if code := post(body); code != http.StatusNoContent {
		t.Fatalf("the same event again: %d", code)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "invoice.posted") || !strings.Contains(lines[0], "subject=inv-1 id=evt-1") ||
		!strings.Contains(lines[0], "invoice.number=US01-2026-000001") || !strings.HasSuffix(lines[1], "(again)") {
		t.Errorf("output:\n%s", out.String())
	}
}
