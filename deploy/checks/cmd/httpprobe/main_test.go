package main

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

func TestProbeAcceptsOnly2xx(t *testing.T) {
	t.Parallel()
	var notReady atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if notReady.Load() {
			http.Error(w, "upstream billing: NOT_SERVING", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	if err := probe(srv.URL + "/readyz"); err != nil {
		t.Errorf("ready gateway: %v", err)
	}
	notReady.Store(true)
	if err := probe(srv.URL + "/readyz"); err == nil {
		t.Error("a 503 passed the probe")
	}
	srv.Close()
	if err := probe(srv.URL + "/readyz"); err == nil {
		t.Error("a closed port passed the probe")
	}
}
