package paging_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/paging"
)

type row struct{ id, name string }

func pos(r row) (string, string) { return r.id, r.name }

func rows(n int) []row {
	out := make([]row, n)
	for i := range out {
		out[i] = row{id: uuid.NewString(), name: fmt.Sprintf("name-%02d", i)}
	}
	return out
}

// A list RPC decodes its request, reads Fetch() rows after the position, and lets Page trim them
// and make the next token; following the tokens visits every row once.
func TestPageWalksAListWithoutSkipsOrRepeats(t *testing.T) {
	t.Parallel()
	all := rows(7)
	var seen []row
	token := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging did not end")
		}
		req, err := paging.ByID(3, token)
		if err != nil {
			t.Fatalf("ByID(page %d): %v", pages, err)
		}
		if req.Fetch() != 4 {
			t.Fatalf("Fetch = %d, want the page size plus one", req.Fetch())
		}
		// The "store": rows after the position, at most Fetch().
		start := 0
		if req.AfterID != "" {
			start = slices.IndexFunc(all, func(r row) bool { return r.id == req.AfterID }) + 1
		}
		page, next := paging.Page(req, all[start:min(start+req.Fetch(), len(all))], pos)
		if len(page) > 3 {
			t.Fatalf("page of %d rows, want at most 3", len(page))
		}
		seen = append(seen, page...)
		if next == "" {
			break
		}
		token = next
	}
	if !slices.Equal(seen, all) {
		t.Fatalf("walked %v, want every row once in order", seen)
	}
}

func TestPageTokenHoldsTheLastRowsPosition(t *testing.T) {
	t.Parallel()
	r := rows(3)
	req := paging.Request{Size: 2}
	page, next := paging.Page(req, r, pos)
	if len(page) != 2 || next == "" {
		t.Fatalf("Page of 3 rows by 2 = %d rows, token %q", len(page), next)
	}
	id, key, err := paging.Decode(next)
	if err != nil || id != r[1].id || key != r[1].name {
		t.Fatalf("next token = %s, %s, %v; want the second row's position", id, key, err)
	}
	if page, next := paging.Page(req, r[:2], pos); len(page) != 2 || next != "" {
		t.Fatalf("Page of exactly Size rows = %d rows, token %q; want the last page", len(page), next)
	}
	if page, next := paging.Page(req, nil, pos); len(page) != 0 || next != "" {
		t.Fatalf("Page of no rows = %v, %q", page, next)
	}
}

func TestPageRequestDecoding(t *testing.T) {
	t.Parallel()
	if req, err := paging.ByID(0, ""); err != nil || req.Size != paging.DefaultSize || req.AfterID != "" {
		t.Fatalf("ByID(0, \"\") = %+v, %v; want the first page of DefaultSize", req, err)
	}
	byKey := paging.Encode("EXT-42", "Acme")
	if req, err := paging.ByKey(10, byKey); err != nil || req.AfterID != "EXT-42" || req.AfterKey != "Acme" || req.Size != 10 {
		t.Fatalf("ByKey = %+v, %v", req, err)
	}
	// ByID insists on a canonical id; neither it nor ByKey accepts a token it did not issue.
	for name, decode := range map[string]func() (paging.Request, error){
		"ByID of a non-UUID id": func() (paging.Request, error) { return paging.ByID(10, byKey) },
		"ByID of garbage":       func() (paging.Request, error) { return paging.ByID(10, "not a token!") },
		"ByKey of garbage":      func() (paging.Request, error) { return paging.ByKey(10, "bm90IGEgdG9rZW4") },
	} {
		if _, err := decode(); fault.ReasonOf(err) != paging.ReasonInvalidToken {
			t.Errorf("%s: %v, want %s", name, err, paging.ReasonInvalidToken)
		}
	}
}
