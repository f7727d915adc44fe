package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"

	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/correlation"
)

// The console's API: fan-out reads over the five services' OpsInsightService and
// ExceptionService, merged for one page of the console (routes under /v1/ops/console/). Each
// needs ops:read; the services check the caller's token again on every call.

// opsContext is the context of the console's upstream calls: the caller's token and correlation id.
func opsContext(r *http.Request) context.Context {
	return metadata.AppendToOutgoingContext(r.Context(), "authorization", r.Header.Get("Authorization"),
		correlation.MetadataKey, r.Header.Get(correlation.Header))
}

// needScope answers 403 unless the caller has scope; it reports whether the request may go on.
func needScope(w http.ResponseWriter, r *http.Request, scope string) bool {
	if p, _ := auth.FromContext(r.Context()); !p.HasScope(scope) {
		writeProblem(w, r, Problem{Status: http.StatusForbidden, Reason: auth.ReasonScopeMissing, Detail: `this call needs the "` + scope + `" scope`})
		return false
	}
	return true
}

func writeAny(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}

// fanOut calls fn for each service concurrently and returns the answers and errors by service.
func fanOut[T any](services []string, fn func(s string) (T, error)) (map[string]T, map[string]error) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	out, errs := map[string]T{}, map[string]error{}
	for _, s := range services {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := fn(s)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs[s] = err
				return
			}
			out[s] = v
		}()
	}
	wg.Wait()
	return out, errs
}

func errText(errs map[string]error) map[string]string {
	if len(errs) == 0 {
		return nil
	}
	m := map[string]string{}
	for s, err := range errs {
		m[s] = status.Convert(err).Message()
	}
	return m
}

// consoleStreams: GET /v1/ops/console/streams — every service's stream health.
func (g *Gateway) consoleStreams(w http.ResponseWriter, r *http.Request) {
	if !needScope(w, r, "ops:read") {
		return
	}
	ctx := opsContext(r)
	got, errs := fanOut(Services, func(s string) (json.RawMessage, error) {
		resp, err := opsv1.NewOpsInsightServiceClient(g.conns[s]).GetStreamHealth(ctx, &opsv1.GetStreamHealthRequest{Service: s})
		if err != nil {
			return nil, err
		}
		return rawJSON(resp)
	})
	list := make([]json.RawMessage, 0, len(Services))
	for _, s := range Services {
		if v, ok := got[s]; ok {
			list = append(list, v)
		}
	}
	writeAny(w, map[string]any{"services": list, "errors": errText(errs)})
}

func rawJSON(m proto.Message) (json.RawMessage, error) {
	b, err := jsonOut.Marshal(m)
	return json.RawMessage(b), err
}
