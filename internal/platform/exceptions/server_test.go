package exceptions_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/fault"
)

func TestServerListPagesThroughEverything(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	q, _ := newQueue(t)
	srv := exceptions.NewServer(q, "billing")
	var all []string
	for i := range 7 {
		all = append(all, record(t, ctx, q, exceptions.New{Kind: "posting", Reason: "PERIOD_CLOSED", EntityID: fmt.Sprint("te-", i)}))
	}
	record(t, ctx, q, exceptions.New{Kind: "invoice", Reason: "TAX_PROFILE_MISSING", EntityID: "inv-1"})

	var got []string
	var pages []int
	tok := ""
	for {
		resp, err := srv.ListExceptions(ctx, &opsv1.ListExceptionsRequest{Service: "billing", Kind: "posting", PageSize: 3, PageToken: tok})
		if err != nil {
			t.Fatalf("page %d: %v", len(pages)+1, err)
		}
		pages = append(pages, len(resp.GetExceptions()))
		for _, e := range resp.GetExceptions() {
			got = append(got, e.GetExceptionId())
		}
		tok = resp.GetNextPageToken()
		if tok == "" {
			break
		}
		if len(pages) > 5 {
			t.Fatal("paging does not end")
		}
	}
	if fmt.Sprint(pages) != "[3 3 1]" {
		t.Errorf("page sizes = %v, want [3 3 1]", pages)
	}
	// Newest first, each exactly once.
	for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
		all[i], all[j] = all[j], all[i]
	}
	if fmt.Sprint(got) != fmt.Sprint(all) {
		t.Errorf("paged ids = %v, want %v", got, all)
	}

	// Exactly one page's worth: no next token.
	resp, err := srv.ListExceptions(ctx, &opsv1.ListExceptionsRequest{Service: "billing", Kind: "posting", PageSize: 7})
	if err != nil || len(resp.GetExceptions()) != 7 || resp.GetNextPageToken() != "" {
		t.Fatalf("page of exactly 7 = %d items, token %q, %v", len(resp.GetExceptions()), resp.GetNextPageToken(), err)
	}
	// Status filter through the contract enum.
	resp, err = srv.ListExceptions(ctx, &opsv1.ListExceptionsRequest{Service: "billing", Status: opsv1.ExceptionStatus_EXCEPTION_STATUS_RESOLVED})
	if err != nil || len(resp.GetExceptions()) != 0 {
		t.Fatalf("resolved = %v, %v; want none", resp.GetExceptions(), err)
	}

	_, err = srv.ListExceptions(ctx, &opsv1.ListExceptionsRequest{Service: "billing", PageToken: "%%%garbage"})
	wantFault(t, err, fault.Invalid, "INVALID_PAGE_TOKEN")
	_, err = srv.ListExceptions(ctx, &opsv1.ListExceptionsRequest{Service: "customer"})
	wantFault(t, err, fault.Invalid, "WRONG_SERVICE")
}

func TestServerRetryAndResolveNameTheCaller(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	q, _ := newQueue(t)
	q.Handle("sync", func(context.Context, exceptions.Exception) error { return nil })
	srv := exceptions.NewServer(q, "billing")
	caller := auth.WithPrincipal(ctx, auth.Principal{Subject: "ops-dashboard", ClientID: "ops-dashboard"})

	id := record(t, ctx, q, exceptions.New{Kind: "sync", Reason: "UPSTREAM_DOWN", EntityID: "a"})
	resp, err := srv.RetryException(caller, &opsv1.RetryExceptionRequest{Service: "billing", ExceptionId: id})
	if err != nil {
		t.Fatal(err)
	}
	if x := resp.GetException(); x.GetStatus() != opsv1.ExceptionStatus_EXCEPTION_STATUS_RESOLVED || x.GetResolvedBy() != "ops-dashboard" {
		t.Fatalf("retried = %v", x)
	}

	id = record(t, ctx, q, exceptions.New{Kind: "sync", Reason: "UPSTREAM_DOWN", EntityID: "b"})
	res, err := srv.ResolveException(ctx, &opsv1.ResolveExceptionRequest{Service: "billing", ExceptionId: id, Note: "dropped"})
	if err != nil {
		t.Fatal(err)
	}
	if x := res.GetException(); x.GetResolvedBy() != "system" || x.GetResolutionNote() != "dropped" {
		t.Fatalf("resolved without a principal = %v", x)
	}
	got, err := srv.GetException(ctx, &opsv1.GetExceptionRequest{Service: "billing", ExceptionId: id})
	if err != nil || got.GetException().GetEntityId() != "b" || got.GetException().GetKind() != "sync" || got.GetException().GetAttempts() != 1 {
		t.Fatalf("GetException = %v, %v", got, err)
	}
	_, err = srv.RetryException(ctx, &opsv1.RetryExceptionRequest{Service: "project", ExceptionId: id})
	wantFault(t, err, fault.Invalid, "WRONG_SERVICE")
}

func TestToProto(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	p := exceptions.ToProto(exceptions.Exception{ID: "id-1", Kind: "k", Reason: "R", Status: exceptions.StatusResolved,
		Attempts: 3, CreatedAt: created, UpdatedAt: created, ResolvedBy: "bob", Payload: []byte("secret payload")})
	if p.GetStatus() != opsv1.ExceptionStatus_EXCEPTION_STATUS_RESOLVED || p.GetAttempts() != 3 || !p.GetCreateTime().AsTime().Equal(created) || p.GetResolvedBy() != "bob" {
		t.Fatalf("ToProto = %v", p)
	}
	if p := exceptions.ToProto(exceptions.Exception{Status: exceptions.StatusOpen}); p.GetStatus() != opsv1.ExceptionStatus_EXCEPTION_STATUS_OPEN {
		t.Fatalf("open status = %v", p.GetStatus())
	}
}

// ListProcessedEvents answers from the inbox which of the given events the service's groups
// applied: one row per (event, group), nothing for events no group applied; another service's
// name is refused.
func TestServerListsProcessedEventsFromTheInbox(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	q, db := newQueue(t)
	srv := exceptions.NewServer(q, "billing")
	const a, b, c = "01a2210c-0000-7000-8000-00000000000a", "01a2210c-0000-7000-8000-00000000000b", "01a2210c-0000-7000-8000-00000000000c"
	for _, row := range [][2]string{{"billing", a}, {"billing-allocation", a}, {"billing", b}, {"other", c}} {
		if _, err := db.Pool.Exec(ctx, `INSERT INTO stream_inbox (consumer_group, event_id, stream_id) VALUES ($1, $2, '1-0')`, row[0], row[1]); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := srv.ListProcessedEvents(ctx, &opsv1.ListProcessedEventsRequest{Service: "billing",
		EventIds: []string{a, b, "01a2210c-0000-7000-8000-00000000000d"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range resp.GetEvents() {
		got = append(got, e.GetEventId()[len(e.GetEventId())-1:]+"/"+e.GetConsumerGroup())
	}
	if fmt.Sprint(got) != "[a/billing a/billing-allocation b/billing]" {
		t.Errorf("processed = %v, want a by both groups and b by billing", got)
	}
	if _, err := srv.ListProcessedEvents(ctx, &opsv1.ListProcessedEventsRequest{Service: "project", EventIds: []string{a}}); fault.ReasonOf(err) != "WRONG_SERVICE" {
		t.Errorf("another service's name: %v, want WRONG_SERVICE", err)
	}
}

// A list filtered by legal entity returns only the exceptions recorded for it (not those of another
// legal entity nor those recorded without one), pages within the filter, and says the legal entity.
func TestServerListFiltersByLegalEntity(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	q, _ := newQueue(t)
	srv := exceptions.NewServer(q, "billing")
	us1 := record(t, ctx, q, exceptions.New{Kind: "invoice.tax_blocked", Reason: "TAX_PROFILE_MISSING", EntityID: "inv-1", LegalEntityID: "le-us"})
	record(t, ctx, q, exceptions.New{Kind: "invoice.tax_blocked", Reason: "TAX_PROFILE_MISSING", EntityID: "inv-2", LegalEntityID: "le-uk"})
	record(t, ctx, q, exceptions.New{Kind: "posting", Reason: "PERIOD_CLOSED", EntityID: "te-1"})
	us2 := record(t, ctx, q, exceptions.New{Kind: "reconciliation.time", Reason: "APPROVED_NOT_POSTED", EntityID: "te-2", LegalEntityID: "le-us"})
	// Another attempt of an open exception keeps its legal entity.
	if id := record(t, ctx, q, exceptions.New{Kind: "invoice.tax_blocked", Reason: "TAX_PROFILE_MISSING", EntityID: "inv-1"}); id != us1 {
		t.Fatalf("second attempt opened %s, want %s again", id, us1)
	}

	var got []string
	tok := ""
	for {
		resp, err := srv.ListExceptions(ctx, &opsv1.ListExceptionsRequest{Service: "billing", LegalEntityId: "le-us", PageSize: 1, PageToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range resp.GetExceptions() {
			if e.GetLegalEntityId() != "le-us" {
				t.Errorf("%s: legal_entity_id %q, want le-us", e.GetExceptionId(), e.GetLegalEntityId())
			}
			got = append(got, e.GetExceptionId())
		}
		if tok = resp.GetNextPageToken(); tok == "" {
			break
		}
	}
	if fmt.Sprint(got) != fmt.Sprint([]string{us2, us1}) {
		t.Errorf("le-us exceptions = %v, want %v (newest first, nothing of le-uk or without a legal entity)", got, []string{us2, us1})
	}
	all, err := srv.ListExceptions(ctx, &opsv1.ListExceptionsRequest{Service: "billing"})
	if err != nil || len(all.GetExceptions()) != 4 {
		t.Errorf("unfiltered list: %d exceptions, err %v; want 4", len(all.GetExceptions()), err)
	}
}
