package wire

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/services/billing/internal/erpexport"
)

// ExportRequest is the export a request asks for.
func ExportRequest(req *billingv1.ExportJournalRequest) (erpexport.Request, error) {
	after, err := erpexport.ParseCursor("cursor", req.GetCursor())
	if err != nil {
		return erpexport.Request{}, err
	}
	f := erpexport.JSONLines
	if req.GetFormat() == billingv1.JournalExportFormat_JOURNAL_EXPORT_FORMAT_CSV {
		f = erpexport.CSV
	}
	return erpexport.Request{LegalEntityID: req.GetLegalEntityId(), After: after, Format: f, Max: req.GetMaxLines()}, nil
}

// ExportStatus is the proto of st.
func ExportStatus(st erpexport.Status) *billingv1.JournalExportStatus {
	return &billingv1.JournalExportStatus{LegalEntityId: st.LegalEntityID, AvailableLines: st.Available,
		ExportedLines: st.Exported, ExportedCursor: st.ExportedUpTo.Cursor(), ExportTime: stamp(st.ExportedAt),
		AcknowledgedLines: st.Acknowledged, AcknowledgedCursor: st.AckedUpTo.Cursor(), AcknowledgeTime: stamp(st.AckedAt),
		AcknowledgedBy: st.AckedBy}
}

// AcknowledgeExportResponse answers an acknowledgement with the entity's status.
func AcknowledgeExportResponse(st erpexport.Status) *billingv1.AcknowledgeJournalExportResponse {
	return &billingv1.AcknowledgeJournalExportResponse{Status: ExportStatus(st)}
}

// ExportReportResponse is the export report.
func ExportReportResponse(list []erpexport.Status) *billingv1.GetJournalExportReportResponse {
	return &billingv1.GetJournalExportReportResponse{LegalEntities: Each(list, ExportStatus)}
}

func stamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}
