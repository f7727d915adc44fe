package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/accrue/accrue/e2e/internal/harness"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	customerv1 "github.com/accrue/accrue/gen/go/accrue/customer/v1"
	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
)

// directoryCustomer asks the gateway for the project service's replica of a customer. It
// returns the HTTP status (404: not known yet; 503: the project service is unreachable) and, on
// 200, the entry; other statuses fail the test.
func directoryCustomer(t testing.TB, env *harness.Env, id string) (*projectv1.DirectoryCustomer, int) {
	t.Helper()
	st, _, body := env.Do(http.MethodGet, "/v1/project-directory/customers/"+id, nil, env.Bearer(projectsRead))
	switch st {
	case http.StatusOK:
		var resp projectv1.GetDirectoryCustomerResponse
		decode(t, body, &resp)
		return resp.GetCustomer(), st
	case http.StatusNotFound, http.StatusServiceUnavailable:
		return nil, st
	}
	t.Fatalf("GET directory customer %s: %d: %s", id, st, body)
	return nil, st
}

// outboxEnvelope returns the envelope of the customer service's one event about subject.
func outboxEnvelope(t testing.TB, env *harness.Env, subject string) *commonv1.EventEnvelope {
	t.Helper()
	var raw []byte
	if err := env.DB("customer").QueryRow(context.Background(),
		`SELECT envelope FROM outbox WHERE subject = $1`, subject).Scan(&raw); err != nil {
		t.Fatalf("outbox row of %s: %v", subject, err)
	}
	var envl commonv1.EventEnvelope
	if err := proto.Unmarshal(raw, &envl); err != nil {
		t.Fatalf("outbox envelope of %s does not decode: %v", subject, err)
	}
	return &envl
}

// A customer created through the gateway reaches the project service's directory within a
// second, and the correlation id the caller sent is visible at every hop: the gateway log, the
// customer service log, the event envelope, the project service log and the replica itself.
func TestCustomerReachesProjectDirectoryWithCorrelationID(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	cid := "e2e-" + uuid.NewString()
	// Warm the read path first (first calls pay one-off costs in the services, about a second
	// when they are built with -race), so the deadline below measures event propagation.
	if _, st := directoryCustomer(t, env, uuid.Must(uuid.NewV7()).String()); st != http.StatusNotFound {
		t.Fatalf("GET directory customer of an unknown id: %d, want 404", st)
	}

	st, hdr, body := env.Do(http.MethodPost, "/v1/customers", customerInput("Stark Industries", "USD", "001-stark-"+env.ID()),
		env.Bearer(customersWrite, "X-Correlation-ID", cid))
	created := time.Now()
	if st != http.StatusCreated {
		t.Fatalf("create: %d: %s", st, body)
	}
	if got := hdr.Get("X-Correlation-ID"); got != cid {
		t.Errorf("create: X-Correlation-ID %q, want the one sent (%s)", got, cid)
	}
	var resp customerv1.CreateCustomerResponse
	decode(t, body, &resp)
	id := resp.GetCustomer().GetCustomerId()

	// Poll until the deadline; a poll that started before it and finds the entry counts.
	var dc *projectv1.DirectoryCustomer
	deadline := created.Add(time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("customer %s not in the project directory 1s after the create response", id)
		}
		c, st := directoryCustomer(t, env, id)
		if st == http.StatusOK {
			dc = c
			break
		}
		if st != http.StatusNotFound {
			t.Fatalf("GET directory customer: %d", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("customer reached the project directory %s after the create response", time.Since(created).Round(time.Millisecond))
	if dc.GetCorrelationId() != cid {
		t.Errorf("directory correlation_id %q, want %q", dc.GetCorrelationId(), cid)
	}
	if dc.GetVersion() != 1 || dc.GetName() != "Stark Industries" || dc.GetCurrencyCode() != "USD" || dc.GetStatus() != "CUSTOMER_STATUS_ACTIVE" {
		t.Errorf("directory entry %v, want version 1 of Stark Industries, USD, active", dc)
	}

	envl := outboxEnvelope(t, env, id)
	if envl.GetCorrelationId() != cid {
		t.Errorf("outbox envelope correlation_id %q, want %q", envl.GetCorrelationId(), cid)
	}
	if envl.GetType() != "customer.upserted" || envl.GetProducer() != "customer" || envl.GetSubject() != id {
		t.Errorf("outbox envelope %v, want a customer.upserted about %s from customer", envl, id)
	}
	if dc.GetLastEventId() != envl.GetEventId() {
		t.Errorf("directory last_event_id %s, want the outbox event %s", dc.GetLastEventId(), envl.GetEventId())
	}

	// The gateway logs its request line after answering: give it a moment.
	harness.Eventually(t, 2*time.Second, 20*time.Millisecond, func() error {
		for proc, msg := range map[string]string{
			"gateway":  "http",                                           // the request line
			"customer": "rpc",                                            // the CreateCustomer call
			"project":  "customer directory: applying customer.upserted", // the event applied
		} {
			if lines := logLines(env.Logs(proc), "correlation_id", cid); !hasLine(lines, msg) {
				return fmt.Errorf("the %s log has no %q line with correlation_id %s (%d lines with it)", proc, msg, cid, len(lines))
			}
		}
		return nil
	})
}

// The project service dies (kill -9); a customer created meanwhile waits in the stream; once the
// service is back the directory gets it exactly once, also when the event is published again.
func TestProjectServiceCatchesUpAfterCrash(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	rdb, prefix := env.Redis()
	ctx := context.Background()

	env.Kill("project", syscall.SIGKILL)
	resp := createCustomer(t, env, customerInput("Wayne Enterprises", "USD", "001-wayne-"+env.ID()), env.Bearer(customersWrite))
	id := resp.GetCustomer().GetCustomerId()
	eventID := outboxEnvelope(t, env, id).GetEventId()

	// Published while the consumer is down: the entry is in the stream, not yet delivered.
	harness.Eventually(t, 5*time.Second, 20*time.Millisecond, func() error {
		if n := env.Count("customer", `SELECT count(*) FROM outbox WHERE published_at IS NULL`); n != 0 {
			return fmt.Errorf("%d outbox rows unpublished", n)
		}
		return nil
	})
	if n, err := rdb.XLen(ctx, prefix+"customer.events").Result(); err != nil || n != 1 {
		t.Fatalf("customer.events holds %d entries (%v), want 1", n, err)
	}
	st, hdr, body := env.Do(http.MethodGet, "/v1/project-directory/customers/"+id, nil, env.Bearer(projectsRead))
	expectProblem(t, "directory while project is down", http.StatusServiceUnavailable, "", st, hdr, body)

	env.Restart("project")
	// The gateway reconnects to the project service on its own schedule (gRPC connection
	// backoff): until then it answers 503 even though the service is back.
	var unavailable time.Duration
	restarted := time.Now()
	took := harness.Eventually(t, 10*time.Second, 20*time.Millisecond, func() error {
		switch _, st := directoryCustomer(t, env, id); st {
		case http.StatusOK:
			return nil
		case http.StatusServiceUnavailable:
			unavailable = time.Since(restarted)
			return errors.New("the gateway still finds the project service unavailable")
		default:
			return errors.New("not in the directory yet")
		}
	})
	t.Logf("directory caught up %s after the restart (the gateway answered 503 for %s of it)",
		took.Round(time.Millisecond), unavailable.Round(time.Millisecond))
	assertAppliedOnce := func(when string) {
		t.Helper()
		if n := env.Count("project", `SELECT count(*) FROM directory_customers`); n != 1 {
			t.Errorf("%s: %d directory rows, want 1", when, n)
		}
		if n := env.Count("project", `SELECT count(*) FROM stream_inbox WHERE event_id = $1`, eventID); n != 1 {
			t.Errorf("%s: %d inbox rows for event %s, want 1", when, n, eventID)
		}
		if n := env.Count("project", `SELECT count(*) FROM stream_inbox`); n != 1 {
			t.Errorf("%s: %d inbox rows, want 1", when, n)
		}
	}
	assertAppliedOnce("after the restart")
	noPending := func() error {
		p, err := rdb.XPending(ctx, prefix+"customer.events", "project").Result()
		if err != nil {
			return err
		}
		if p.Count != 0 {
			return fmt.Errorf("%d entries pending for the project group", p.Count)
		}
		return nil
	}
	harness.Eventually(t, 5*time.Second, 20*time.Millisecond, noPending)

	// Publication is at least once (the relay may crash between XADD and marking the row): make
	// the customer service publish the same event again, as its replay does. The project service
	// receives it, recognises the event id and changes nothing.
	if _, err := env.DB("customer").Exec(ctx, `UPDATE outbox SET published_at = NULL WHERE subject = $1`, id); err != nil {
		t.Fatal(err)
	}
	harness.Eventually(t, 10*time.Second, 20*time.Millisecond, func() error {
		if n, err := rdb.XLen(ctx, prefix+"customer.events").Result(); err != nil || n != 2 {
			return fmt.Errorf("customer.events holds %d entries (%v), want 2", n, err)
		}
		return noPending()
	})
	assertAppliedOnce("after the duplicate publication")
	dc, _ := directoryCustomer(t, env, id)
	if dc == nil {
		t.Fatal("the directory entry is gone")
	}
	if dc.GetVersion() != 1 || dc.GetLastEventId() != eventID {
		t.Errorf("directory entry %v, want version 1 from event %s", dc, eventID)
	}
}

// An event the project service cannot apply is retried, then dead-lettered: it shows up in the
// dead-letter stream and as an OPEN exception in the ops API, where an operator can retry it
// (it still fails, and the attempt is counted) and resolve it with a note.
func TestUnapplicableEventIsDeadLetteredAndHandledViaOpsAPI(t *testing.T) {
	t.Parallel()
	env := harness.Start(t,
		harness.WithEnv("project", "ACCRUE_CONSUMER_MAX_DELIVERIES", "2"),
		harness.WithEnv("project", "ACCRUE_CONSUMER_CLAIM_MIN_IDLE", "200ms"))
	rdb, prefix := env.Redis()
	ctx := context.Background()

	// A well-formed envelope of type customer.upserted whose payload is not a CustomerUpserted.
	payload, err := anypb.New(wrapperspb.String("not a customer"))
	if err != nil {
		t.Fatal(err)
	}
	eventID := uuid.Must(uuid.NewV7()).String()
	subject := uuid.Must(uuid.NewV7()).String()
	cid := "e2e-dlq-" + uuid.NewString()
	// Signed with the customer service's key: a legitimate producer's mistake, not a forgery.
	envl := &commonv1.EventEnvelope{
		EventId: eventID, Type: "customer.upserted", Subject: subject, OccurredAt: timestamppb.Now(),
		CorrelationId: cid, Producer: "customer", Payload: payload,
	}
	env.Sign("customer.events", envl)
	raw, err := proto.Marshal(envl)
	if err != nil {
		t.Fatal(err)
	}
	if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: prefix + "customer.events",
		Values: []any{"event_id", eventID, "type", "customer.upserted", "envelope", raw}}).Err(); err != nil {
		t.Fatal(err)
	}

	var dead redis.XMessage
	took := harness.Eventually(t, 15*time.Second, 50*time.Millisecond, func() error {
		msgs, err := rdb.XRange(ctx, prefix+"customer.events.dlq", "-", "+").Result()
		if err != nil {
			return err
		}
		// Every group that consumes customer.upserted (project, and billing for tax profiles)
		// dead-letters it on its own; this test follows the project service's.
		var ours []redis.XMessage
		for _, m := range msgs {
			if m.Values["group"] == "project" {
				ours = append(ours, m)
			}
		}
		if len(ours) != 1 {
			return fmt.Errorf("%d of the project group's entries in the dead-letter stream (%d in all)", len(ours), len(msgs))
		}
		dead = ours[0]
		return nil
	})
	t.Logf("dead-lettered %s after the XADD", took.Round(time.Millisecond))
	// The payload can never match the contract: dead-lettered at its first delivery, not after
	// ACCRUE_CONSUMER_MAX_DELIVERIES.
	if dead.Values["event_id"] != eventID || dead.Values["group"] != "project" || dead.Values["deliveries"] != "1" ||
		dead.Values["reason"] != "EVENT_PAYLOAD_MISMATCH" {
		t.Errorf("dead letter %v, want event %s of group project, reason EVENT_PAYLOAD_MISMATCH after 1 delivery", dead.Values, eventID)
	}

	ops := env.Bearer(opsReadWrite)
	var exc *opsv1.Exception
	harness.Eventually(t, 5*time.Second, 50*time.Millisecond, func() error {
		st, _, body := env.Do(http.MethodGet, "/v1/ops/project/exceptions?status=EXCEPTION_STATUS_OPEN", nil, ops)
		if st != http.StatusOK {
			return fmt.Errorf("list exceptions: %d: %s", st, body)
		}
		var list opsv1.ListExceptionsResponse
		decode(t, body, &list)
		for _, e := range list.GetExceptions() {
			if e.GetKind() == "stream.dead_letter.project:customer.events" {
				exc = e
				return nil
			}
		}
		return fmt.Errorf("no open stream.dead_letter.project:customer.events exception in %s", body)
	})
	if exc.GetStatus() != opsv1.ExceptionStatus_EXCEPTION_STATUS_OPEN || exc.GetEntityId() != subject || exc.GetReason() != "EVENT_PAYLOAD_MISMATCH" ||
		exc.GetEntityType() != "customer.upserted" || exc.GetCorrelationId() != cid {
		t.Errorf("exception %v, want OPEN EVENT_PAYLOAD_MISMATCH about %s (customer.upserted) with correlation id %s", exc, subject, cid)
	}
	if n, err := rdb.XPending(ctx, prefix+"customer.events", "project").Result(); err != nil || n.Count != 0 {
		t.Errorf("the dead-lettered entry is still pending (%v, %v)", n, err)
	}

	// Retrying re-applies the event through the customer directory's handler: it still fails, so
	// the exception stays open with one more attempt, and nothing is recorded as applied.
	path := "/v1/ops/project/exceptions/" + exc.GetExceptionId()
	st, _, body := env.Do(http.MethodPost, path+":retry", map[string]any{}, ops)
	if st != http.StatusOK {
		t.Fatalf("retry: %d: %s", st, body)
	}
	var retried opsv1.RetryExceptionResponse
	decode(t, body, &retried)
	if r := retried.GetException(); r.GetStatus() != opsv1.ExceptionStatus_EXCEPTION_STATUS_OPEN || r.GetAttempts() != exc.GetAttempts()+1 {
		t.Errorf("retry of an event that still cannot be applied: status %s, attempts %d, resolution %q; want still OPEN with %d attempts",
			r.GetStatus(), r.GetAttempts(), r.GetResolutionNote(), exc.GetAttempts()+1)
	}
	if n := env.Count("project", `SELECT count(*) FROM stream_inbox WHERE event_id = $1`, eventID); n != 0 {
		t.Errorf("after the failed retry the project inbox records event %s as applied (%d rows): a later redelivery would be skipped", eventID, n)
	}

	st, hdr, body := env.Do(http.MethodPost, path+":resolve", map[string]any{"note": "dropped: test"}, ops)
	if st != http.StatusOK {
		t.Errorf("resolve: %d, want 200: %s", st, body)
	} else {
		var resolved opsv1.ResolveExceptionResponse
		decode(t, body, &resolved)
		if r := resolved.GetException(); r.GetStatus() != opsv1.ExceptionStatus_EXCEPTION_STATUS_RESOLVED ||
			r.GetResolutionNote() != "dropped: test" || r.GetResolvedBy() != "e2e" {
			t.Errorf("resolve: %v, want RESOLVED by e2e with the note", r)
		}
		st, hdr, body = env.Do(http.MethodPost, path+":resolve", map[string]any{"note": "again"}, ops)
		expectProblem(t, "resolve twice", http.StatusBadRequest, "EXCEPTION_NOT_OPEN", st, hdr, body)
	}

	// Nothing of the event was applied, by the consumer or by the retry.
	if n := env.Count("project", `SELECT count(*) FROM directory_customers`); n != 0 {
		t.Errorf("%d directory rows, want 0", n)
	}
	if !strings.Contains(env.Logs("project"), `"msg":"stream: event dead-lettered"`) {
		t.Error("the project log does not report the dead letter")
	}
}
