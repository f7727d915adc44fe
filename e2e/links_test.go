package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/accrue/accrue/e2e/internal/harness"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	opsv1 "github.com/accrue/accrue/gen/go/accrue/ops/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/eventsig"
	"github.com/accrue/accrue/internal/platform/tlsx"
)

// healthOver calls a service's health service over opt and returns the certificate serial the
// service presented.
func healthOver(t *testing.T, addr string, opt grpc.DialOption) (string, error) {
	t.Helper()
	conn, err := grpc.NewClient(addr, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var p peer.Peer
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Peer(&p))
	if err != nil {
		return "", err
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return "", fmt.Errorf("health %s", resp.GetStatus())
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return "", fmt.Errorf("not a TLS connection (%T)", p.AuthInfo)
	}
	return info.State.PeerCertificates[0].SerialNumber.String(), nil
}

// Every service's gRPC port requires mutual TLS: a client without a certificate, with a
// certificate of another CA, or in plaintext is refused before any RPC (even the health check);
// the Env's own certificate gets in. Certificate files replaced on disk are used by the next
// connection, without a restart.
func TestServicesRequireMutualTLS(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	addr := env.GRPCAddr("customer")
	first, err := healthOver(t, addr, env.GRPCTransport())
	if err != nil {
		t.Fatalf("with the Env's certificate: %v", err)
	}

	other := t.TempDir()
	if _, err := tlsx.DevCerts(other, []string{"e2e"}, nil, time.Hour, false); err != nil {
		t.Fatal(err)
	}
	foreign, err := tlsx.NewReloader(tlsx.Files{CertFile: filepath.Join(other, "e2e.crt"), KeyFile: filepath.Join(other, "e2e.key"),
		CAFile: filepath.Join(env.TLSDir(), "ca.crt")}) // trusts the services' CA, presents another CA's certificate
	if err != nil {
		t.Fatal(err)
	}
	noCert := env.TLSClientConfig("e2e")
	noCert.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &tls.Certificate{}, nil }
	for name, opt := range map[string]grpc.DialOption{
		"no client certificate":     grpc.WithTransportCredentials(credentials.NewTLS(noCert)),
		"certificate of another CA": grpc.WithTransportCredentials(credentials.NewTLS(foreign.ClientConfig())),
		"plaintext":                 grpc.WithTransportCredentials(insecure.NewCredentials()),
	} {
		if _, err := healthOver(t, addr, opt); status.Code(err) != codes.Unavailable {
			t.Errorf("%s: %v, want the connection refused (Unavailable)", name, err)
		}
	}

	// Rotation: new files for customer (same CA); the next connection gets the new certificate,
	// and the gateway, whose connection predates it, keeps working.
	if _, err := tlsx.DevCerts(env.TLSDir(), []string{"customer"}, nil, time.Hour, true); err != nil {
		t.Fatal(err)
	}
	second, err := healthOver(t, addr, env.GRPCTransport())
	if err != nil || second == first {
		t.Fatalf("after replacing customer's certificate files: serial %s (%v), before %s; want a new certificate", second, err, first)
	}
	if st, _, body := env.Do(http.MethodGet, "/v1/customers?page_size=1", nil, env.Bearer([]string{"customers:read"})); st != http.StatusOK {
		t.Errorf("the gateway after the rotation: %d %s", st, body)
	}
}

// approvedEvent is a time_entries.approved envelope of one billable 8-hour entry of fx on
// 2026-06-10, as the time & expense service would publish it (unsigned).
func approvedEvent(t *testing.T, resourceID string, fx *postingFixture) (*commonv1.EventEnvelope, string) {
	t.Helper()
	entry := &timeexpensev1.TimeEntry{EntryId: uuid.Must(uuid.NewV7()).String(), Kind: timeexpensev1.EntryKind_ENTRY_KIND_TIME,
		ResourceId: resourceID, ProjectId: fx.projectID, TaskId: fx.billable, WorkDate: date(2026, 6, 10), Hours: "8", Billable: true,
		Description: "forged", ApprovalStatus: timeexpensev1.TimesheetStatus_TIMESHEET_STATUS_APPROVED, PostingStatus: stPending,
		Version: 1, CreateTime: timestamppb.Now(), ApproveTime: timestamppb.Now()}
	payload, err := anypb.New(&timeexpensev1.EntriesApproved{Entries: []*timeexpensev1.TimeEntry{entry}})
	if err != nil {
		t.Fatal(err)
	}
	return &commonv1.EventEnvelope{EventId: uuid.Must(uuid.NewV7()).String(), Type: timeexpensev1.EventTypeTimeEntriesApproved,
		Subject: uuid.Must(uuid.NewV7()).String(), OccurredAt: timestamppb.Now(), CorrelationId: "e2e-forged-" + uuid.NewString(),
		Producer: "timeexpense", Payload: payload}, entry.GetEntryId()
}

func xaddEvent(t *testing.T, env *harness.Env, envl *commonv1.EventEnvelope) {
	t.Helper()
	raw, err := proto.Marshal(envl)
	if err != nil {
		t.Fatal(err)
	}
	rdb, prefix := env.Redis()
	if err := rdb.XAdd(context.Background(), &redis.XAddArgs{Stream: prefix + timeexpensev1.EventStream,
		Values: []any{"event_id", envl.GetEventId(), "type", envl.GetType(), "envelope", raw}}).Err(); err != nil {
		t.Fatal(err)
	}
}

// Anyone who can reach Redis can XADD an approved-time event; without the time & expense
// service's key it is never applied. An unsigned event and one signed with a guessed key (the
// right producer and key id, another secret) are dead-lettered by billing with
// EVENT_SIGNATURE_INVALID, post nothing and show up as open exceptions in the ops API. The same
// entry signed with the real key posts: the forgeries would have.
func TestForgedEventIsRejected(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	le := createLegalEntity(t, env, "US01", billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT)
	fx := newPostingProject(t, env, le, "forged")
	ada := newPostingResource(t, env, le, "Ada Lovelace", "CONSULTANT", consultantCostRate)

	unsigned, entry := approvedEvent(t, ada, fx)
	guessed := proto.Clone(unsigned).(*commonv1.EventEnvelope)
	guessed.EventId = uuid.Must(uuid.NewV7()).String()
	keys, err := eventsig.LoadDir(env.EventKeysDir())
	if err != nil {
		t.Fatal(err)
	}
	realSigner, err := keys.Signer("timeexpense", "")
	if err != nil {
		t.Fatal(err)
	}
	attacker, _ := eventsig.NewKeyring(eventsig.Key{Producer: "timeexpense", ID: realSigner.KeyID(), Secret: bytes.Repeat([]byte("x"), 32)})
	attackerSigner, _ := attacker.Signer("timeexpense", "")
	if err := attackerSigner.Sign(timeexpensev1.EventStream, guessed); err != nil {
		t.Fatal(err)
	}
	xaddEvent(t, env, unsigned)
	xaddEvent(t, env, guessed)

	ops := env.Bearer(opsReadWrite)
	harness.Eventually(t, 15*time.Second, 50*time.Millisecond, func() error {
		st, _, body := env.Do(http.MethodGet, "/v1/ops/billing/exceptions?status=EXCEPTION_STATUS_OPEN", nil, ops)
		if st != http.StatusOK {
			return fmt.Errorf("list exceptions: %d: %s", st, body)
		}
		var list opsv1.ListExceptionsResponse
		decode(t, body, &list)
		n := 0
		for _, e := range list.GetExceptions() {
			if e.GetKind() == "stream.dead_letter.billing:timeexpense.events" && e.GetReason() == eventsig.ReasonInvalid &&
				e.GetEntityType() == timeexpensev1.EventTypeTimeEntriesApproved {
				n++
			}
		}
		if n != 2 {
			return fmt.Errorf("%d open EVENT_SIGNATURE_INVALID exceptions of billing, want 2: %s", n, body)
		}
		return nil
	})
	waitConsumed(t, env)
	for _, table := range []string{"journal_entries", "posting_results"} {
		if n := env.Count("billing", `SELECT count(*) FROM `+table+` WHERE source_id = $1`, entry); n != 0 {
			t.Errorf("the forged entry has %d %s rows, want none", n, table)
		}
	}
	rdb, prefix := env.Redis()
	dlq, err := rdb.XRange(context.Background(), prefix+timeexpensev1.EventStream+".dlq", "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	billingDead := 0
	for _, m := range dlq {
		if m.Values["group"] == "billing" && m.Values["reason"] == eventsig.ReasonInvalid {
			billingDead++
		}
	}
	if billingDead != 2 {
		t.Errorf("%d of billing's dead letters with %s, want 2 (%v)", billingDead, eventsig.ReasonInvalid, dlq)
	}

	// The control: the same entry, signed by its producer, posts.
	genuine := proto.Clone(unsigned).(*commonv1.EventEnvelope)
	genuine.EventId = uuid.Must(uuid.NewV7()).String()
	env.Sign(timeexpensev1.EventStream, genuine)
	xaddEvent(t, env, genuine)
	harness.Eventually(t, 15*time.Second, 50*time.Millisecond, func() error {
		if n := env.Count("billing", `SELECT count(*) FROM journal_entries WHERE source_id = $1`, entry); n != 1 {
			return fmt.Errorf("the genuinely signed entry has %d journal entries, want 1", n)
		}
		return nil
	})
}
