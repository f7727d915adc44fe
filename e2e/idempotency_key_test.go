package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/accrue/accrue/e2e/internal/harness"
	customerv1 "github.com/accrue/accrue/gen/go/accrue/customer/v1"
)

// Idempotency-Key as the draft says, through the real gateway and service: the quoted key and
// the same key bare are one key (the second create is a replay, one customer); two headers or a
// list answer 400 IDEMPOTENCY_KEY_INVALID naming the header and write nothing; and a gRPC caller
// of the service itself gets the same answers for the same metadata.
func TestIdempotencyKeyIsOneQuotedString(t *testing.T) {
	t.Parallel()
	env := harness.Start(t)
	in := customerInput("Hooli", "USD", "001-hooli-"+env.ID())
	key := "hooli-" + env.ID()

	st, hdr, first := env.Do(http.MethodPost, "/v1/customers", in, env.Bearer(customersWrite, "Idempotency-Key", `"`+key+`"`))
	if st != http.StatusCreated || hdr.Get("Idempotent-Replayed") != "" {
		t.Fatalf(`create with "%s": %d %s, want 201 (not replayed)`, key, st, first)
	}
	st, hdr, second := env.Do(http.MethodPost, "/v1/customers", in, env.Bearer(customersWrite, "Idempotency-Key", key))
	// A replay answers 200 (docs/api.md: 201 only for the call that created), with the first body.
	if st != http.StatusOK || hdr.Get("Idempotent-Replayed") != "true" || !bytes.Equal(first, second) {
		t.Fatalf("the same key bare: %d, replayed %q, %s; want the first answer replayed with 200", st, hdr.Get("Idempotent-Replayed"), second)
	}

	token := env.Token(customersWrite...)
	for name, keys := range map[string][]string{
		"two headers": {`"a-` + env.ID() + `"`, `"b-` + env.ID() + `"`},
		"a list":      {`"a-` + env.ID() + `", "b-` + env.ID() + `"`},
		"empty":       {`""`},
	} {
		other := customerInput("Hooli "+name, "USD", "")
		req, err := http.NewRequest(http.MethodPost, env.URL("/v1/customers"), bytes.NewReader(jsonOf(t, other)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		for _, k := range keys {
			req.Header.Add("Idempotency-Key", k)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		p := expectProblem(t, name, http.StatusBadRequest, "IDEMPOTENCY_KEY_INVALID", resp.StatusCode, resp.Header, body)
		if len(p.Violations) != 1 || p.Violations[0].Field != "Idempotency-Key" {
			t.Errorf("%s: violations %v, want one on Idempotency-Key", name, p.Violations)
		}
	}
	if n := env.Count("customer", `SELECT count(*) FROM customers`); n != 1 {
		t.Fatalf("%d customers, want 1: the refused requests wrote nothing", n)
	}

	// The service's own gRPC API reads the metadata the same way.
	conn, err := grpc.NewClient(env.GRPCAddr("customer"), env.GRPCTransport())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := customerv1.NewCustomerServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	authed := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	var hdrMD metadata.MD
	// The request the gateway made of the REST body: the same request, so a replay.
	req := &customerv1.CreateCustomerRequest{Customer: &customerv1.CustomerInput{}}
	if err := protojson.Unmarshal(jsonOf(t, in), req.Customer); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateCustomer(metadata.AppendToOutgoingContext(authed, "idempotency-key", key), req, grpc.Header(&hdrMD)); err != nil {
		t.Fatalf("gRPC create with the bare key: %v", err)
	}
	if got := hdrMD.Get("idempotent-replayed"); len(got) != 1 || got[0] != "true" {
		t.Errorf("gRPC create with the key the REST calls used: idempotent-replayed %v, want true", got)
	}
	_, err = client.CreateCustomer(metadata.AppendToOutgoingContext(authed, "idempotency-key", `"x"`, "idempotency-key", `"y"`), req)
	if status.Code(err) != codes.InvalidArgument || reasonOf(err) != "IDEMPOTENCY_KEY_INVALID" {
		t.Errorf("gRPC create with two keys: %v (%s), want InvalidArgument / IDEMPOTENCY_KEY_INVALID", err, reasonOf(err))
	}
	if n := env.Count("customer", `SELECT count(*) FROM customers`); n != 1 {
		t.Fatalf("%d customers after the gRPC calls, want 1", n)
	}
}

func jsonOf(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
