package translate_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/accrue/accrue/gateway/internal/translate"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	webhooksv1 "github.com/accrue/accrue/gen/go/accrue/webhooks/v1"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/internal/platform/idempotency"
)

const usEntity = "01a2210c-0000-7000-8000-0000000000e1"

// billRecorder is billing as the supplier bill translator sees it: it keeps each request and its
// idempotency key, answers CREATED, and refuses lines of amount 13.00.
type billRecorder struct {
	billingv1.SupplierCostServiceClient
	billingv1.LegalEntityServiceClient
	got  []*billingv1.RecordSupplierBillLineRequest
	keys []string
}

func (r *billRecorder) RecordSupplierBillLine(ctx context.Context, req *billingv1.RecordSupplierBillLineRequest, _ ...grpc.CallOption) (*billingv1.RecordSupplierBillLineResponse, error) {
	md, _ := metadata.FromOutgoingContext(ctx)
	r.keys = append(r.keys, md.Get(idempotency.MetadataKey)...)
	r.got = append(r.got, req)
	if req.GetLine().GetAmount().GetAmount() == "13.00" {
		return nil, grpcx.ToStatus(ctx, fault.New(fault.FailedPrecondition, "SUPPLIER_COST_PROJECT_UNKNOWN", "no such project"))
	}
	return &billingv1.RecordSupplierBillLineResponse{LineId: "line-" + req.GetLine().GetBillNumber(), Version: 1,
		Outcome: billingv1.SupplierBillLineOutcome_SUPPLIER_BILL_LINE_OUTCOME_CREATED}, nil
}

func (r *billRecorder) ListLegalEntities(context.Context, *billingv1.ListLegalEntitiesRequest, ...grpc.CallOption) (*billingv1.ListLegalEntitiesResponse, error) {
	return &billingv1.ListLegalEntitiesResponse{LegalEntities: []*billingv1.LegalEntity{
		{LegalEntityId: "01a2210c-0000-7000-8000-0000000000e2", Code: "DE01"}, {LegalEntityId: usEntity, Code: "US01"}}}, nil
}

// deliver translates body and makes its calls as the receiver would (with the delivery's key).
func deliver(t *testing.T, rec *billRecorder, body []byte) (string, *webhooksv1.SupplierBillResult) {
	t.Helper()
	cmd, err := translate.SupplierBill(translate.SupplierClients{Cost: rec, Entity: rec})("netsuite", body)
	if err != nil {
		t.Fatal(err)
	}
	ctx := metadata.AppendToOutgoingContext(context.Background(), idempotency.MetadataKey, idempotency.FormatKey("webhook:netsuite:"+cmd.EventID))
	resp, err := cmd.Call(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return cmd.EventID, resp.(*webhooksv1.SupplierBillResult)
}

func lineString(l *billingv1.SupplierBillLine) string {
	return fmtLine(l.GetVendorId(), l.GetVendorName(), l.GetBillNumber(), l.GetLineNumber(), l.GetAmount().GetAmount()+" "+l.GetAmount().GetCurrencyCode(),
		isoDay(l.GetBillDate()), isoDay(l.GetServiceStart()), isoDay(l.GetServiceEnd()), l.GetDescription(), l.GetProjectId(), l.GetTaskId(),
		l.GetAllocationRule(), l.GetBillable())
}

// A NetSuite vendorBill record (REST record API shape, field names in mixed case) becomes one
// RecordSupplierBillLine per item and expense line on the legal entity named by the subsidiary
// code, with custom line fields mapped, one idempotency key per line, and one result per line.
func TestSupplierBillNetSuiteVendorBill(t *testing.T) {
	rec := &billRecorder{}
	id, res := deliver(t, rec, fixture(t, "netsuite-vendor-bill.json"))
	if len(id) < 10 {
		t.Errorf("event id %q, want a digest of the body", id)
	}
	want := []string{
		fmtLine("1702", "Northwind Subcontracting LLC", "SUB-2026-0611", 1, "1200.00 USD", "2026-06-30", "2026-06-01", "2026-06-30",
			"Backend development, 40 h", "01a2210c-0000-7000-8000-0000000000b1", "01a2210c-0000-7000-8000-0000000000c1", "", true),
		fmtLine("1702", "Northwind Subcontracting LLC", "SUB-2026-0611", 2, "300.50 USD", "2026-06-30", "2026-06-01", "2026-06-30",
			"Travel to the client site", "", "", "split-ab", false),
	}
	if len(rec.got) != 2 {
		t.Fatalf("%d calls, want 2", len(rec.got))
	}
	for i, req := range rec.got {
		if req.GetLegalEntityId() != usEntity || lineString(req.GetLine()) != want[i] {
			t.Errorf("call %d: %s %s\nwant      %s", i, req.GetLegalEntityId(), lineString(req.GetLine()), want[i])
		}
	}
	if len(rec.keys) != 2 || rec.keys[0] == rec.keys[1] {
		t.Errorf("idempotency keys %v, want one per line", rec.keys)
	}
	if res.GetLegalEntityId() != usEntity || len(res.GetLines()) != 2 || res.GetLines()[1].GetLineNumber() != 2 ||
		res.GetLines()[1].GetOutcome() != billingv1.SupplierBillLineOutcome_SUPPLIER_BILL_LINE_OUTCOME_CREATED {
		t.Errorf("result %v, want both lines CREATED on %s", res, usEntity)
	}
}

// A canonical JSON bill (snake_case or camelCase, any letter case) maps the same way; a line the
// service refuses is answered with its reason beside the others; the sender's event id is kept.
func TestSupplierBillCanonical(t *testing.T) {
	rec := &billRecorder{}
	id, res := deliver(t, rec, fixture(t, "canonical-supplier-bill.json"))
	if id != "bill-V-77-INV-2026-31" {
		t.Errorf("event id %q", id)
	}
	want := []string{
		fmtLine("V-77", "Subco Ltd", "INV-2026-31", 1, "1250.00 USD", "2026-06-30", "2026-06-01", "2026-06-30", "load testing",
			"01a2210c-0000-7000-8000-0000000000b1", "", "", false),
		fmtLine("V-77", "Subco Ltd", "INV-2026-31", 2, "99.90 USD", "2026-06-30", "2026-06-15", "2026-06-30", "", "", "", "by-hours", true),
	}
	for i, req := range rec.got {
		if lineString(req.GetLine()) != want[i] {
			t.Errorf("call %d: %s\nwant      %s", i, lineString(req.GetLine()), want[i])
		}
	}

	rec = &billRecorder{}
	_, res = deliver(t, rec, []byte(`{"LEGAL_ENTITY_ID": "`+usEntity+`", "VendorId": "V-1", "BillNumber": "B-1", "BillDate": "2026-05-31",
		"Currency": "eur", "Lines": [{"line": 1, "amount": "13.00"}, {"line": 2, "amount": 7}]}`))
	if len(res.GetLines()) != 2 || res.GetLines()[0].GetReason() != "SUPPLIER_COST_PROJECT_UNKNOWN" || res.GetLines()[0].GetLineId() != "" ||
		res.GetLines()[1].GetOutcome() != billingv1.SupplierBillLineOutcome_SUPPLIER_BILL_LINE_OUTCOME_CREATED {
		t.Errorf("result %v, want line 1 refused with its reason and line 2 CREATED", res)
	}
	if l := rec.got[1].GetLine(); l.GetAmount().GetAmount() != "7.00" || l.GetAmount().GetCurrencyCode() != "EUR" ||
		isoDay(l.GetServiceStart()) != "2026-05-01" || isoDay(l.GetServiceEnd()) != "2026-05-31" {
		t.Errorf("line 2: %v, want 7.00 EUR over the bill date's month", l)
	}

	for name, bad := range map[string]string{
		"not json":       `{`,
		"no lines":       `{"legal_entity_code": "US01", "vendor_id": "V", "bill_number": "B", "bill_date": "2026-06-30", "currency": "USD", "lines": []}`,
		"no vendor":      `{"legal_entity_code": "US01", "bill_number": "B", "bill_date": "2026-06-30", "currency": "USD", "lines": [{"line": 1, "amount": 1}]}`,
		"no entity":      `{"vendor_id": "V", "bill_number": "B", "bill_date": "2026-06-30", "currency": "USD", "lines": [{"line": 1, "amount": 1}]}`,
		"no currency":    `{"legal_entity_code": "US01", "vendor_id": "V", "bill_number": "B", "bill_date": "2026-06-30", "lines": [{"line": 1, "amount": 1}]}`,
		"line twice":     `{"legal_entity_code": "US01", "vendor_id": "V", "bill_number": "B", "bill_date": "2026-06-30", "currency": "USD", "lines": [{"line": 1, "amount": 1}, {"line": 1, "amount": 2}]}`,
		"line zero":      `{"legal_entity_code": "US01", "vendor_id": "V", "bill_number": "B", "bill_date": "2026-06-30", "currency": "USD", "lines": [{"line": 0, "amount": 1}]}`,
		"bad amount":     `{"legal_entity_code": "US01", "vendor_id": "V", "bill_number": "B", "bill_date": "2026-06-30", "currency": "USD", "lines": [{"line": 1, "amount": "lots"}]}`,
		"bad billable":   `{"recordType": "vendorBill", "subsidiary": "US01", "entity": "V", "tranId": "B", "tranDate": "2026-06-30", "currency": "USD", "expense": [{"line": 1, "amount": 1, "custcol_billable": "maybe"}]}`,
		"sublist scalar": `{"recordType": "vendorBill", "subsidiary": "US01", "entity": "V", "tranId": "B", "tranDate": "2026-06-30", "currency": "USD", "item": 5}`,
	} {
		_, err := translate.SupplierBill(translate.SupplierClients{Cost: rec, Entity: rec})("netsuite", []byte(bad))
		if fault.ReasonOf(err) != translate.ReasonMalformed {
			t.Errorf("%s: %v, want %s", name, err, translate.ReasonMalformed)
		}
	}

	cmd, err := translate.SupplierBill(translate.SupplierClients{Cost: rec, Entity: rec})("netsuite", []byte(
		`{"legal_entity_code": "FR01", "vendor_id": "V", "bill_number": "B", "bill_date": "2026-06-30", "currency": "USD", "lines": [{"line": 1, "amount": 1}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cmd.Call(context.Background()); grpcx.ReasonOf(err) != translate.ReasonLegalEntityNotFound || status.Code(err) != codes.NotFound {
		t.Errorf("unknown legal entity code: %v, want %s", err, translate.ReasonLegalEntityNotFound)
	}
}

func fmtLine(vendor, name, bill string, line int32, amount, billDate, start, end, desc, project, task, rule string, billable bool) string {
	return fmt.Sprintf("%s|%s|%s|%d|%s|%s|%s..%s|%s|%s|%s|%s|%t", vendor, name, bill, line, amount, billDate, start, end, desc, project, task, rule, billable)
}

func isoDay(d *commonv1.Date) string {
	if d == nil {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.GetYear(), d.GetMonth(), d.GetDay())
}

// supplierBillRun returns a run of the supplier bill translator on body. An unknown legal entity
// code is the service's answer, not the translator's: it counts as a call made.
func supplierBillRun(body []byte) func() outcome {
	return func() outcome {
		rec := &billRecorder{}
		o := translateOnce(translate.SupplierBill(translate.SupplierClients{Cost: rec, Entity: rec}), body, func() proto.Message {
			sent := &webhooksv1.SupplierBillResult{}
			for _, req := range rec.got {
				sent.LegalEntityId = req.GetLegalEntityId()
				sent.Lines = append(sent.Lines, &webhooksv1.SupplierBillLineResult{LineNumber: req.GetLine().GetLineNumber(), Message: lineString(req.GetLine())})
			}
			return sent
		})
		if grpcx.ReasonOf(errors.Unwrap(o.err)) == translate.ReasonLegalEntityNotFound {
			o.err = nil
		}
		return o
	}
}

func FuzzSupplierBill(f *testing.F) {
	seedFiles(f, "netsuite-", "canonical-supplier")
	f.Fuzz(func(t *testing.T, body []byte) {
		checkTranslator(t, supplierBillRun(body))
	})
}
