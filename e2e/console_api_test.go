package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/accrue/accrue/e2e/internal/harness"
)

type consolePage struct {
	Exceptions []struct {
		Service   string `json:"service"`
		Exception struct {
			ID            string    `json:"exception_id"`
			Reason        string    `json:"reason"`
			CreateTime    time.Time `json:"create_time"`
			LegalEntityID string    `json:"legal_entity_id"`
		} `json:"exception"`
	} `json:"exceptions"`
	Next   string `json:"next_page_token"`
	Groups []struct {
		Key   string `json:"key"`
		Count int    `json:"count"`
	} `json:"groups"`
}

// The console's merged exception list: 40 open exceptions seeded over the five services (8 each,
// one minute apart, interleaved) walked 7 at a time come back once each, newest first, across
// services; a reason filter, an age filter and grouping by key count what a user counts by hand;
// a legal-entity filter keeps the exceptions recorded for that legal entity; a token without
// ops:read is refused. The streams and KPI routes
// answer for every service.
func TestConsoleExceptionsMergeAndPageAcrossServices(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	for i, s := range harness.Services {
		if _, err := env.DB(s).Exec(context.Background(), `INSERT INTO exceptions
			(id, kind, reason, message, entity_type, entity_id, dedupe_key, created_at, updated_at, legal_entity_id)
			SELECT gen_random_uuid(), 'test.seeded', CASE WHEN n % 2 = 0 THEN 'PERIOD_CLOSED' ELSE 'RATE_MISSING_FOR_DATE' END, 'seeded',
				'entity', 'e-' || (n % 4), $1 || ':' || n, now() - make_interval(mins => n * 5 + $2), now(),
				CASE WHEN n % 4 = 0 THEN 'le-a' WHEN n % 4 = 1 THEN 'le-b' ELSE '' END
			FROM generate_series(0, 7) AS n`, s, i); err != nil {
			t.Fatal(err)
		}
	}
	ops := env.Bearer(opsRead)
	get := func(path string) consolePage {
		t.Helper()
		st, _, body := env.Do(http.MethodGet, path, nil, ops)
		if st != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, st, body)
		}
		var p consolePage
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	seen := map[string]bool{}
	var last time.Time
	services := map[string]int{}
	tok, pages := "", 0
	for {
		p := get("/v1/ops/console/exceptions?page_size=7&page_token=" + url.QueryEscape(tok))
		pages++
		for _, e := range p.Exceptions {
			if seen[e.Exception.ID] {
				t.Fatalf("exception %s on two pages", e.Exception.ID)
			}
			seen[e.Exception.ID] = true
			if !last.IsZero() && e.Exception.CreateTime.After(last) {
				t.Fatalf("exception %s (%s) after a newer one", e.Exception.ID, e.Exception.CreateTime)
			}
			last = e.Exception.CreateTime
			services[e.Service]++
		}
		if tok = p.Next; tok == "" {
			break
		}
	}
	if len(seen) != 40 || pages != 6 || len(services) != 5 || services["billing"] != 8 {
		t.Errorf("walked %d exceptions in %d pages from %v; want 40 in 6 pages, 8 from each service", len(seen), pages, services)
	}
	if p := get("/v1/ops/console/exceptions?page_size=200&reason=PERIOD_CLOSED&service=billing,project"); len(p.Exceptions) != 8 {
		t.Errorf("PERIOD_CLOSED in billing and project: %d, want 8", len(p.Exceptions))
	}
	// Created 0..35 (+0..4) minutes ago: older than 20 minutes are n ≥ 4 (n*5+i ≥ 20 → 4 per service, plus n = 3 for i ≥ 5: none).
	if p := get("/v1/ops/console/exceptions?page_size=200&older_than=20m"); len(p.Exceptions) != 20 {
		t.Errorf("older than 20 minutes: %d, want 20", len(p.Exceptions))
	}
	if p := get("/v1/ops/console/exceptions?page_size=200&group_by=key&service=resource"); len(p.Groups) != 4 || p.Groups[0].Count != 2 {
		t.Errorf("resource grouped by key: %+v, want 4 entities with 2 exceptions each", p.Groups)
	}
	// n = 0 and 4 of each service belong to le-a: 10 in all, 2 in billing, every one of le-a.
	if p := get("/v1/ops/console/exceptions?page_size=200&legal_entity_id=le-a"); len(p.Exceptions) != 10 {
		t.Errorf("legal entity le-a: %d, want 10", len(p.Exceptions))
	} else {
		for _, e := range p.Exceptions {
			if e.Exception.LegalEntityID != "le-a" {
				t.Errorf("legal entity le-a lists %s of %q", e.Exception.ID, e.Exception.LegalEntityID)
			}
		}
	}
	if p := get("/v1/ops/console/exceptions?page_size=200&legal_entity_id=le-b&service=billing"); len(p.Exceptions) != 2 {
		t.Errorf("legal entity le-b in billing: %d, want 2", len(p.Exceptions))
	}
	if p := get("/v1/ops/console/exceptions?legal_entity_id=le-none"); len(p.Exceptions) != 0 {
		t.Errorf("unknown legal entity: %d exceptions, want none", len(p.Exceptions))
	}
	if st, _, body := env.Do(http.MethodGet, "/v1/ops/console/exceptions", nil, env.Bearer(projectsRead)); st != http.StatusForbidden {
		t.Errorf("without ops:read: %d %s, want 403", st, body)
	}

	st, _, body := env.Do(http.MethodGet, "/v1/ops/console/streams", nil, ops)
	var streams struct {
		Services []struct {
			Service        string            `json:"service"`
			ConsumerGroups []json.RawMessage `json:"consumer_groups"`
		} `json:"services"`
	}
	if err := json.Unmarshal(body, &streams); st != http.StatusOK || err != nil || len(streams.Services) != 5 {
		t.Errorf("streams: %d %s", st, body)
	}
	st, _, body = env.Do(http.MethodGet, "/v1/ops/console/kpis", nil, ops)
	var kpis struct {
		KPIs []struct {
			KPI   string `json:"kpi"`
			Error string `json:"error"`
		} `json:"kpis"`
	}
	if err := json.Unmarshal(body, &kpis); st != http.StatusOK || err != nil || len(kpis.KPIs) != 9 {
		t.Fatalf("kpis: %d %s", st, body)
	}
	for _, k := range kpis.KPIs {
		if k.Error != "" {
			t.Errorf("KPI %s: %s", k.KPI, k.Error)
		}
	}
}
