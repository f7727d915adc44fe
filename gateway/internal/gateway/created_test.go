package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/metadata"

	customerv1 "github.com/accrue/accrue/gen/go/accrue/customer/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/internal/platform/idempotency"
)

// Creates answer 201; a replay and a write that found its record answer 200, whichever way the
// response says it (the service's accrue-created header, a created field, an outcome).
func TestCreatedStatusIs201OnlyForACreate(t *testing.T) {
	t.Parallel()
	created := &customerv1.CreateCustomerResponse{Created: true}
	entry := &timeexpensev1.RecordTimeEntryResponse{}
	for _, c := range []struct {
		name   string
		header metadata.MD
		resp   any
		want   int
	}{
		{"created field", nil, created, http.StatusCreated},
		{"created field, replayed", metadata.Pairs(idempotency.ReplayedHeader, "true"), created, http.StatusOK},
		{"service says created", metadata.Pairs(grpcx.CreatedHeader, "true"), entry, http.StatusCreated},
		{"service says found", metadata.Pairs(grpcx.CreatedHeader, "false"), entry, http.StatusOK},
		{"service says created, replayed", metadata.Pairs(grpcx.CreatedHeader, "true", idempotency.ReplayedHeader, "true"), entry, http.StatusOK},
		{"nothing said", nil, entry, http.StatusOK},
	} {
		ctx := runtime.NewServerMetadataContext(context.Background(), runtime.ServerMetadata{HeaderMD: c.header})
		w := httptest.NewRecorder()
		var err error
		switch m := c.resp.(type) {
		case *customerv1.CreateCustomerResponse:
			err = createdStatus(ctx, w, m)
		case *timeexpensev1.RecordTimeEntryResponse:
			err = createdStatus(ctx, w, m)
		}
		if err != nil || w.Code != c.want {
			t.Errorf("%s: %d, %v; want %d", c.name, w.Code, err, c.want)
		}
	}
}

func TestMalformedFieldNamesTheField(t *testing.T) {
	t.Parallel()
	for msg, want := range map[string]string{
		`proto: (line 1:9): invalid value for string field name: 5`:                "name",
		`proto: (line 1:2): unknown field "nmae"`:                                  "nmae",
		`proto: (line 1:20): invalid value for enum field status: "X"`:             "status",
		`parsing field "page_size": strconv.ParseInt: parsing "x": invalid syntax`: "page_size",
		`type mismatch, parameter: customer_id, error: bad`:                        "customer_id",
		`proto: (line 1:30): invalid value for string field taxRegion: [`:          "tax_region",
		`proto: syntax error (line 1:1): unexpected token`:                         "",
	} {
		if got := malformedField(msg); got != want {
			t.Errorf("malformedField(%q) = %q, want %q", msg, got, want)
		}
	}
}
