package gateway

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/grpcx"
)

// fakeExport streams three chunks of the format asked for; legal entity "other" is refused,
// "broken" fails after the first chunk. It refuses a call without the caller's token.
type fakeExport struct {
	billingv1.UnimplementedJournalExportServiceServer
}

var exportChunks = []string{"{\"line\":1}\n", "{\"line\":2}\n{\"line\":3}\n", "{\"line\":4}\n"}

func (fakeExport) ExportJournal(req *billingv1.ExportJournalRequest, s grpc.ServerStreamingServer[billingv1.ExportJournalResponse]) error {
	md, _ := metadata.FromIncomingContext(s.Context())
	if len(md.Get("authorization")) == 0 || md.Get("authorization")[0] == "" {
		return errors.New("no token forwarded")
	}
	switch req.GetLegalEntityId() {
	case "other":
		return grpcx.ToStatus(s.Context(), auth.Forbidden("other"))
	case "broken":
		_ = s.Send(&billingv1.ExportJournalResponse{Data: []byte(exportChunks[0]), Lines: 1})
		return grpcx.ToStatus(s.Context(), fault.New(fault.Unavailable, "DATABASE_UNAVAILABLE", "gone"))
	}
	prefix := ""
	if req.GetFormat() == billingv1.JournalExportFormat_JOURNAL_EXPORT_FORMAT_CSV {
		prefix = "csv:"
	}
	for _, c := range exportChunks {
		if err := s.Send(&billingv1.ExportJournalResponse{Data: []byte(prefix + c), Lines: 1}); err != nil {
			return err
		}
	}
	return nil
}

func newExportEnv(t *testing.T) *testEnv {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	billingv1.RegisterJournalExportServiceServer(srv, fakeExport{})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return newTestEnv(t, func(o *Options) { o.Upstreams["billing"] = lis.Addr().String() })
}

func TestJournalExportStreamsTheServicesBytes(t *testing.T) {
	e := newExportEnv(t)
	auth := map[string]string{"Authorization": "Bearer " + e.token("erp", "journal:export")}
	rec := e.do(http.MethodGet, "/v1/legal-entities/us/journal-export", nil, auth)
	want := exportChunks[0] + exportChunks[1] + exportChunks[2]
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/x-ndjson" || rec.Body.String() != want {
		t.Fatalf("got %d %q: %q", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	auth["Accept"] = "text/csv"
	rec = e.do(http.MethodGet, "/v1/legal-entities/us/journal-export", nil, auth)
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/csv; charset=utf-8" || rec.Body.String()[:4] != "csv:" {
		t.Fatalf("csv: got %d %q: %q", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
}

func TestJournalExportRefusalIsAProblem(t *testing.T) {
	e := newExportEnv(t)
	rec := e.do(http.MethodGet, "/v1/legal-entities/other/journal-export", nil,
		map[string]string{"Authorization": "Bearer " + e.token("erp", "journal:export")})
	if p := problemOf(t, rec); rec.Code != http.StatusForbidden || p.Reason != auth.ReasonLegalEntityForbidden {
		t.Fatalf("got %d %+v", rec.Code, p)
	}
	rec = e.do(http.MethodGet, "/v1/legal-entities/us/journal-export?format=xml", nil,
		map[string]string{"Authorization": "Bearer " + e.token("erp", "journal:export")})
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("format xml: got %d", rec.Code)
	}
	if rec = e.do(http.MethodGet, "/v1/legal-entities/us/journal-export", nil, nil); rec.Code != http.StatusUnauthorized {
		t.Fatalf("no token: got %d", rec.Code)
	}
}

// A failure after the first byte drops the connection: the download is visibly cut, not short.
func TestJournalExportCutMidStreamBreaksTheDownload(t *testing.T) {
	e := newExportEnv(t)
	srv := httptest.NewServer(e.g.Handler())
	t.Cleanup(srv.Close)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/legal-entities/broken/journal-export", nil)
	req.Header.Set("Authorization", "Bearer "+e.token("erp", "journal:export"))
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || err == nil {
		t.Fatalf("got %d, body %q read without error; want a broken download", resp.StatusCode, body)
	}
}
