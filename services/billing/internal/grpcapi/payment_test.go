package grpcapi_test

import (
	"testing"

	"google.golang.org/grpc/codes"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/servicetest"
	"github.com/accrue/accrue/services/billing/internal/app"
	"github.com/accrue/accrue/services/billing/internal/grpcapi"
	"github.com/accrue/accrue/services/billing/internal/store"
)

// Payments through the API: terms whose percents do not sum to 100 are refused and nothing is
// listed; valid terms and the policy are listed back; a contract carries its terms code; a
// payment recorded twice with its reference is the same payment (replayed); applying it with
// nothing open is FAILED_PRECONDITION NOTHING_TO_APPLY and leaves it on account; the aging of
// an empty ledger is 0.00 beside a receivable of 0.00.
func TestPaymentsAPI(t *testing.T) {
	t.Parallel()
	env := servicetest.New(t, "billing", store.Migrations(), func(e *servicetest.Env) {
		s := grpcapi.New(app.New(store.New(e.DB.Pool, e.Outbox, e.Queue), e.Queue, e.Log))
		billingv1.RegisterLegalEntityServiceServer(e.Server, s)
		billingv1.RegisterContractServiceServer(e.Server, s)
		billingv1.RegisterPaymentServiceServer(e.Server, grpcapi.NewPayments(s))
	})
	cl := clients{billingv1.NewLegalEntityServiceClient(env.Conn), billingv1.NewContractServiceClient(env.Conn)}
	le := legalEntity(t, env, cl)
	pay := billingv1.NewPaymentServiceClient(env.Conn)
	scopes := append([]string{"payments:read", "payments:write"}, rw...)
	half := func(days int32) *billingv1.PaymentInstalment {
		return &billingv1.PaymentInstalment{Percent: "50", DueDays: days}
	}

	_, err := pay.SetPaymentTerms(env.Ctx(scopes), &billingv1.SetPaymentTermsRequest{LegalEntityId: le, PaymentTerms: &billingv1.PaymentTerms{
		Code: "BAD", Instalments: []*billingv1.PaymentInstalment{half(30), {Percent: "49", DueDays: 60}}}})
	wantErr(t, err, codes.InvalidArgument, "PAYMENT_TERMS_INVALID")
	if _, err := pay.SetPaymentTerms(env.Ctx(scopes), &billingv1.SetPaymentTermsRequest{LegalEntityId: le, PaymentTerms: &billingv1.PaymentTerms{
		Code: "50-30/50-60", Instalments: []*billingv1.PaymentInstalment{half(30), half(60)}}}); err != nil {
		t.Fatal(err)
	}
	_, err = pay.SetReceivablesPolicy(env.Ctx(scopes), &billingv1.SetReceivablesPolicyRequest{LegalEntityId: le,
		Policy: &billingv1.ReceivablesPolicy{DefaultTermsCode: "N99"}})
	wantErr(t, err, codes.FailedPrecondition, "PAYMENT_TERMS_UNKNOWN")
	if _, err := pay.SetReceivablesPolicy(env.Ctx(scopes), &billingv1.SetReceivablesPolicyRequest{LegalEntityId: le,
		Policy: &billingv1.ReceivablesPolicy{DefaultTermsCode: "50-30/50-60", WriteOffTolerance: "0.05"}}); err != nil {
		t.Fatal(err)
	}
	list, err := pay.ListPaymentTerms(env.Ctx(scopes), &billingv1.ListPaymentTermsRequest{LegalEntityId: le})
	if err != nil || len(list.GetPaymentTerms()) != 1 || list.GetPaymentTerms()[0].GetCode() != "50-30/50-60" ||
		list.GetPolicy().GetWriteOffTolerance() != "0.05" || list.GetPolicy().GetDefaultTermsCode() != "50-30/50-60" {
		t.Fatalf("terms %v %v, want 50-30/50-60 only, default, tolerance 0.05", list, err)
	}

	in := contract(le, "150.00")
	in.PaymentTermsCode = "50-30/50-60"
	up, err := cl.c.UpsertContract(env.Ctx(rw), &billingv1.UpsertContractRequest{ExternalReference: opp, SourceVersion: 1, Contract: in})
	if err != nil || up.GetContract().GetPaymentTermsCode() != "50-30/50-60" {
		t.Fatalf("contract %v %v, want payment terms 50-30/50-60", up.GetContract(), err)
	}

	req := &billingv1.RecordPaymentRequest{LegalEntityId: le, CustomerId: in.GetCustomerId(), Reference: "BANK-1", Amount: usd("600.00"),
		PaymentDate: day(2026, 8, 10)}
	first, err := pay.RecordPayment(env.Ctx(scopes), req)
	if err != nil || first.GetReplayed() || first.GetPayment().GetUnapplied().GetAmount() != "600.00" {
		t.Fatalf("record %v %v, want 600.00 unapplied", first, err)
	}
	again, err := pay.RecordPayment(env.Ctx(scopes), req)
	if err != nil || !again.GetReplayed() || again.GetPayment().GetPaymentId() != first.GetPayment().GetPaymentId() {
		t.Fatalf("record again %v %v, want the first payment, replayed", again, err)
	}
	_, err = pay.ApplyPayment(env.Ctx(scopes), &billingv1.ApplyPaymentRequest{PaymentId: first.GetPayment().GetPaymentId()})
	wantErr(t, err, codes.FailedPrecondition, "NOTHING_TO_APPLY")
	got, err := pay.GetPayment(env.Ctx(scopes), &billingv1.GetPaymentRequest{PaymentId: first.GetPayment().GetPaymentId()})
	if err != nil || got.GetPayment().GetUnapplied().GetAmount() != "600.00" || got.GetPayment().GetApplied().GetAmount() != "0.00" {
		t.Fatalf("payment %v %v, want 600.00 still on account", got, err)
	}
	aging, err := pay.GetArAging(env.Ctx(scopes), &billingv1.GetArAgingRequest{LegalEntityId: le, AsOf: day(2026, 9, 14)})
	if err != nil || aging.GetTotal().GetTotal().GetAmount() != "0.00" || aging.GetLedgerReceivable().GetAmount() != "0.00" {
		t.Fatalf("aging %v %v, want 0.00 beside 0.00", aging, err)
	}
	_, err = pay.GetCustomerStatement(env.Ctx(scopes), &billingv1.GetCustomerStatementRequest{LegalEntityId: le, CustomerId: in.GetCustomerId(),
		From: day(2026, 9, 1), To: day(2026, 8, 1)})
	wantErr(t, err, codes.InvalidArgument, "DATE_RANGE_INVALID")
	st, err := pay.GetCustomerStatement(env.Ctx(scopes), &billingv1.GetCustomerStatementRequest{LegalEntityId: le, CustomerId: in.GetCustomerId(),
		From: day(2026, 8, 1), To: day(2026, 8, 31)})
	if err != nil || len(st.GetPayments()) != 1 || len(st.GetOpenItems()) != 0 {
		t.Fatalf("statement %v %v, want the one payment and no open items", st, err)
	}

	// Refunds of the 600.00 on account: 700.00 is more than is unapplied; 250.00 leaves 350.00,
	// once per reference; EUR is not the payment's currency.
	refund := func(amount *commonv1.Money, ref string) (*billingv1.RefundPaymentResponse, error) {
		return pay.RefundPayment(env.Ctx(scopes), &billingv1.RefundPaymentRequest{PaymentId: first.GetPayment().GetPaymentId(), Amount: amount,
			RefundDate: day(2026, 8, 20), Reference: ref})
	}
	_, err = refund(usd("700.00"), "RF-1")
	wantErr(t, err, codes.FailedPrecondition, "REFUND_EXCEEDS_UNAPPLIED")
	_, err = refund(&commonv1.Money{Amount: "250.00", CurrencyCode: "EUR"}, "RF-1")
	wantErr(t, err, codes.InvalidArgument, "REFUND_CURRENCY_MISMATCH")
	r, err := refund(usd("250.00"), "RF-1")
	if err != nil || r.GetReplayed() || r.GetPayment().GetUnapplied().GetAmount() != "350.00" || r.GetPayment().GetRefunded().GetAmount() != "250.00" ||
		r.GetRefund().GetAmount().GetAmount() != "250.00" || r.GetRefund().GetFxGain().GetAmount() != "0.00" {
		t.Fatalf("refund %v %v, want 250.00 refunded, 350.00 unapplied, no FX", r, err)
	}
	if again, err := refund(usd("250.00"), "RF-1"); err != nil || !again.GetReplayed() || again.GetRefund().GetRefundId() != r.GetRefund().GetRefundId() {
		t.Fatalf("refund again %v %v, want the first refund, replayed", again, err)
	}
	_, err = refund(usd("10.00"), "RF-1")
	wantErr(t, err, codes.FailedPrecondition, "REFUND_REFERENCE_TAKEN")
	st, err = pay.GetCustomerStatement(env.Ctx(scopes), &billingv1.GetCustomerStatementRequest{LegalEntityId: le, CustomerId: in.GetCustomerId(),
		From: day(2026, 8, 1), To: day(2026, 8, 31)})
	if err != nil || len(st.GetRefunds()) != 1 || st.GetRefunds()[0].GetReference() != "RF-1" || st.GetPayments()[0].GetUnapplied().GetAmount() != "350.00" {
		t.Fatalf("statement %v %v, want refund RF-1 and 350.00 left on account", st, err)
	}
}
