package grpcapi

import (
	"context"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

// JournalExport implements accrue.billing.v1.JournalExportService over the same use cases.
type JournalExport struct {
	billingv1.UnimplementedJournalExportServiceServer
	*Server
}

// NewJournalExport returns the journal export service.
func NewJournalExport(s *Server) *JournalExport { return &JournalExport{Server: s} }

// ExportJournal sends one message per page the use case encodes; gRPC flow control holds the
// use case back while the client is slower, so memory stays at a page or so.
func (j *JournalExport) ExportJournal(req *billingv1.ExportJournalRequest, stream billingv1.JournalExportService_ExportJournalServer) error {
	r, err := wire.ExportRequest(req)
	if err != nil {
		return err
	}
	msg := &billingv1.ExportJournalResponse{}
	return j.app.ExportJournal(stream.Context(), r, func(data []byte, cursor string, lines int) error {
		msg.Data, msg.Cursor, msg.Lines = data, cursor, int64(lines)
		return stream.Send(msg) // Send has encoded data when it returns: the buffer can be reused
	})
}

func (j *JournalExport) AcknowledgeJournalExport(ctx context.Context, req *billingv1.AcknowledgeJournalExportRequest) (*billingv1.AcknowledgeJournalExportResponse, error) {
	return grpcx.Reply(wire.AcknowledgeExportResponse)(j.app.AcknowledgeExport(ctx, req.GetLegalEntityId(), req.GetCursor()))
}

func (j *JournalExport) GetJournalExportReport(ctx context.Context, _ *billingv1.GetJournalExportReportRequest) (*billingv1.GetJournalExportReportResponse, error) {
	return grpcx.Reply(wire.ExportReportResponse)(j.app.ExportReport(ctx, nil))
}
