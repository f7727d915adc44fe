package gateway

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/correlation"
)

// journalExportRoute serves ExportJournal as a plain streamed download. grpc-gateway would
// wrap each streamed message in a JSON envelope ({"result": {"data": "<base64>"}}), which no ERP
// reads; this handler copies the service's already formatted bytes (JSON lines or CSV) to the
// response as they arrive, one chunk (a page of lines) at a time, so neither side holds more
// than a page.
const journalExportRoute = "GET /v1/legal-entities/{legal_entity_id}/journal-export"

// exportChunkWrite is how long writing one chunk may take; it replaces the server's write
// timeout, which would otherwise cut a long download.
const exportChunkWrite = 60 * time.Second

func (g *Gateway) journalExport(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req := &billingv1.ExportJournalRequest{LegalEntityId: r.PathValue("legal_entity_id"), Cursor: q.Get("cursor")}
	switch f := q.Get("format"); {
	case f == "csv" || (f == "" && strings.Contains(r.Header.Get("Accept"), "text/csv")):
		req.Format = billingv1.JournalExportFormat_JOURNAL_EXPORT_FORMAT_CSV
	case f == "" || f == "jsonl" || f == "ndjson":
		req.Format = billingv1.JournalExportFormat_JOURNAL_EXPORT_FORMAT_JSONL
	default:
		writeProblem(w, r, Problem{Status: http.StatusBadRequest, Reason: "MALFORMED_REQUEST", Detail: "format is jsonl or csv"})
		return
	}
	if v := q.Get("max_lines"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			writeProblem(w, r, Problem{Status: http.StatusBadRequest, Reason: "MALFORMED_REQUEST", Detail: "max_lines is a number"})
			return
		}
		req.MaxLines = n
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", r.Header.Get("Authorization"),
		correlation.MetadataKey, r.Header.Get(correlation.Header))
	stream, err := billingv1.NewJournalExportServiceClient(g.conns["billing"]).ExportJournal(ctx, req)
	var first *billingv1.ExportJournalResponse
	if err == nil {
		first, err = stream.Recv()
	}
	if err != nil && !errors.Is(err, io.EOF) {
		// Nothing written yet: the refusal is a problem document like any other call's.
		writeProblem(w, r, g.upstreamProblem(r.Context(), status.Convert(err)))
		return
	}
	if req.Format == billingv1.JournalExportFormat_JOURNAL_EXPORT_FORMAT_CSV {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/x-ndjson")
	}
	w.WriteHeader(http.StatusOK)
	if first != nil {
		g.copyExport(w, first, stream)
	}
}

// copyExport writes the chunks to w as they arrive. A failure after the first byte cannot
// change the status any more: the connection is aborted, so the client sees a broken download,
// never a short file that looks whole (it resumes from the last line's cursor).
func (g *Gateway) copyExport(w http.ResponseWriter, m *billingv1.ExportJournalResponse, stream grpc.ServerStreamingClient[billingv1.ExportJournalResponse]) {
	rc := http.NewResponseController(w)
	for {
		_ = rc.SetWriteDeadline(time.Now().Add(exportChunkWrite))
		if _, err := w.Write(m.GetData()); err != nil {
			return
		}
		_ = rc.Flush()
		var err error
		if m, err = stream.Recv(); errors.Is(err, io.EOF) {
			return
		} else if err != nil {
			g.opts.Logger.WarnContext(stream.Context(), "gateway: journal export broken off", "err", err)
			panic(http.ErrAbortHandler)
		}
	}
}
