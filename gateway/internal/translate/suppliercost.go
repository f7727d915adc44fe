package translate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/accrue/accrue/gateway/internal/webhook"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	webhooksv1 "github.com/accrue/accrue/gen/go/accrue/webhooks/v1"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/grpcx"
	"github.com/accrue/accrue/internal/platform/idempotency"
)

// maxBillLines bounds the lines of one delivered bill (each is one call within the delivery's
// deadline).
const maxBillLines = 500

// ReasonLegalEntityNotFound is the reason of a bill naming a legal entity code no entity has.
const ReasonLegalEntityNotFound = "LEGAL_ENTITY_NOT_FOUND"

// SupplierClients are the calls a supplier bill delivery makes.
type SupplierClients struct {
	Cost   billingv1.SupplierCostServiceClient
	Entity billingv1.LegalEntityServiceClient
}

// supplierBill is a delivered bill, whatever its shape.
type supplierBill struct {
	eventID    string
	entityID   string // a legal entity id, or
	entityCode string // a code resolved with ListLegalEntities
	lines      []*billingv1.SupplierBillLine
}

// SupplierBill translates a supplier bill — a canonical JSON bill or a NetSuite-style vendorBill
// (recordType "vendorBill") — into one RecordSupplierBillLine per line. Field names match
// case-insensitively. The event id is the canonical bill's event_id, else a digest of the body, so
// the same delivery twice is REPLAYED_EVENT; the service keys lines by vendor, bill number and
// line, so a re-sent bill posts nothing twice and a changed line is a correction. Each line's call
// has its own idempotency key. A line the service refuses (invalid, not found, failed
// precondition) is answered with its reason beside the others; any other failure fails the
// delivery, so the sender retries it.
func SupplierBill(c SupplierClients) webhook.Translator {
	return func(source string, body []byte) (webhook.Command, error) {
		root, err := decodeAny(body)
		if err != nil {
			return webhook.Command{}, err
		}
		var bill *supplierBill
		if strings.EqualFold(firstText(root, "recordType", "record_type", "type"), "vendorBill") {
			bill, err = netsuiteBill(root)
		} else {
			bill, err = canonicalBill(root)
		}
		if err != nil {
			return webhook.Command{}, err
		}
		if bill.eventID == "" {
			sum := sha256.Sum256(body)
			bill.eventID = "bill:" + hex.EncodeToString(sum[:])
		}
		if err := checkEventID(bill.eventID); err != nil {
			return webhook.Command{}, err
		}
		if len(bill.lines) == 0 || len(bill.lines) > maxBillLines {
			return webhook.Command{}, malformed("a bill needs 1 to %d lines, not %d", maxBillLines, len(bill.lines))
		}
		seen := map[int32]bool{}
		for _, l := range bill.lines {
			if seen[l.GetLineNumber()] {
				return webhook.Command{}, malformed("line %d appears twice", l.GetLineNumber())
			}
			seen[l.GetLineNumber()] = true
		}
		key := "webhook:" + source + ":" + bill.eventID
		return webhook.Command{EventID: bill.eventID, Call: func(ctx context.Context) (proto.Message, error) {
			return bill.record(ctx, c, key)
		}}, nil
	}
}

func (b *supplierBill) record(ctx context.Context, c SupplierClients, key string) (proto.Message, error) {
	le := b.entityID
	if le == "" {
		var err error
		if le, err = entityOfCode(ctx, c.Entity, b.entityCode); err != nil {
			return nil, err
		}
	}
	out := &webhooksv1.SupplierBillResult{LegalEntityId: le}
	for _, l := range b.lines {
		lctx := withIdempotencyKey(ctx, key+":line:"+fieldf("%d", l.GetLineNumber()))
		resp, err := c.Cost.RecordSupplierBillLine(lctx, &billingv1.RecordSupplierBillLineRequest{LegalEntityId: le, Line: l})
		r := &webhooksv1.SupplierBillLineResult{LineNumber: l.GetLineNumber()}
		switch status.Code(err) {
		case codes.OK:
			r.LineId, r.Version, r.Outcome = resp.GetLineId(), resp.GetVersion(), resp.GetOutcome()
		case codes.InvalidArgument, codes.NotFound, codes.FailedPrecondition:
			r.Reason, r.Message = grpcx.ReasonOf(err), status.Convert(err).Message()
		default:
			return nil, err
		}
		out.Lines = append(out.Lines, r)
	}
	return out, nil
}

// withIdempotencyKey replaces the delivery's idempotency key with one of the line's own (one key
// per call: the same key on different requests would be refused as reused). Keys longer than
// the 255 characters a key may have are digested.
func withIdempotencyKey(ctx context.Context, key string) context.Context {
	if len(key) > 255 {
		sum := sha256.Sum256([]byte(key))
		key = "webhook:" + hex.EncodeToString(sum[:])
	}
	md, _ := metadata.FromOutgoingContext(ctx)
	md = md.Copy()
	md.Set(idempotency.MetadataKey, idempotency.FormatKey(key))
	return metadata.NewOutgoingContext(ctx, md)
}

// entityOfCode finds the id of the legal entity with code (case-insensitive).
func entityOfCode(ctx context.Context, c billingv1.LegalEntityServiceClient, code string) (string, error) {
	page := ""
	for {
		resp, err := c.ListLegalEntities(ctx, &billingv1.ListLegalEntitiesRequest{PageSize: 500, PageToken: page})
		if err != nil {
			return "", err
		}
		for _, e := range resp.GetLegalEntities() {
			if strings.EqualFold(e.GetCode(), code) {
				return e.GetLegalEntityId(), nil
			}
		}
		if page = resp.GetNextPageToken(); page == "" {
			return "", notFoundStatus(fault.New(fault.NotFound, ReasonLegalEntityNotFound, "no legal entity has the code %q", clip(code)))
		}
	}
}

// notFoundStatus is fe as a gRPC NotFound status with its reason, so the receiver answers it as
// it answers the service's refusals (404 and the reason).
func notFoundStatus(fe *fault.Error) error {
	st := status.New(codes.NotFound, fe.Message)
	if d, err := st.WithDetails(&errdetails.ErrorInfo{Reason: fe.Reason, Domain: grpcx.ErrorDomain}); err == nil {
		st = d
	}
	return st.Err()
}

// entityRef sorts a legal entity reference into an id (a UUID) or a code.
func (b *supplierBill) entityRef(v string) {
	if isUUID(v) {
		b.entityID = v
	} else {
		b.entityCode = v
	}
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if s[i] != '-' {
				return false
			}
		case !strings.ContainsRune("0123456789abcdefABCDEF", rune(s[i])):
			return false
		}
	}
	return true
}

// servicePeriod reads a line's service period (start and end, both days), falling back to the
// bill's, then to the calendar month of the bill date.
func servicePeriod(l *billingv1.SupplierBillLine, start, end any, defStart, defEnd *commonv1.Date, path string) error {
	s, err := civilDate(start, path+".service_start")
	if err != nil {
		return err
	}
	e, err := civilDate(end, path+".service_end")
	if err != nil {
		return err
	}
	if s == nil {
		s = defStart
	}
	if e == nil {
		e = defEnd
	}
	if s == nil && l.GetBillDate() != nil {
		d := l.GetBillDate()
		s = &commonv1.Date{Year: d.GetYear(), Month: d.GetMonth(), Day: 1}
	}
	if e == nil && l.GetBillDate() != nil {
		d := l.GetBillDate()
		e = &commonv1.Date{Year: d.GetYear(), Month: d.GetMonth(), Day: daysIn(d.GetYear(), d.GetMonth())}
	}
	l.ServiceStart, l.ServiceEnd = s, e
	return nil
}

func daysIn(year, month int32) int32 {
	switch month {
	case 4, 6, 9, 11:
		return 30
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return 31
}
