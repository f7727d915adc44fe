package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
)

// invoices run sends the legal entity, cut-off and contracts to the invoice run with an
// Idempotency-Key, and prints each contract's draft or reason and the counts.
func TestInvoicesRunPrintsEachContract(t *testing.T) {
	var got billingv1.ProposeInvoicesRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/v1/legal-entities/le-1/invoices:propose" || r.Header.Get("Idempotency-Key") == "" {
			http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusBadRequest)
			return
		}
		if err := protojson.Unmarshal(body, &got); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		usd := func(v string) *commonv1.Money { return &commonv1.Money{Amount: v, CurrencyCode: "USD"} }
		b, _ := protojson.Marshal(&billingv1.ProposeInvoicesResponse{Proposed: 2, NothingToBill: 1, Results: []*billingv1.ProposedInvoice{
			{ContractId: "c-1", LineCount: 1, Invoice: &billingv1.Invoice{InvoiceId: "inv-1", Status: billingv1.InvoiceStatus_INVOICE_STATUS_DRAFT,
				Total: usd("945.00"), OverCap: usd("0.00")}},
			{ContractId: "c-2", LineCount: 3, Invoice: &billingv1.Invoice{InvoiceId: "inv-2", Status: billingv1.InvoiceStatus_INVOICE_STATUS_DRAFT,
				Total: usd("1000.00"), OverCap: usd("200.00")}},
			{ContractId: "c-3", Reason: "NOTHING_TO_BILL"},
		}})
		_, _ = w.Write(b)
	}))
	defer srv.Close()
	var out bytes.Buffer
	if err := run([]string{"invoices", "run", "--url", srv.URL, "--token", "t", "--legal-entity", "le-1", "--cut-off", "2027-02-28",
		"--contracts", "c-1, c-2,c-3"}, &out); err != nil {
		t.Fatal(err)
	}
	if c := got.GetCutOff(); c.GetYear() != 2027 || c.GetMonth() != 2 || c.GetDay() != 28 || len(got.GetContractIds()) != 3 || got.GetContractIds()[1] != "c-2" {
		t.Errorf("request %v, want cut-off 2027-02-28 and contracts c-1, c-2, c-3", &got)
	}
	for _, want := range []string{"inv-1", "945.00 USD", "1000.00 USD", "200.00 USD", "c-3", "NOTHING_TO_BILL", "2 proposed, 1 with nothing to bill, 0 without"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if err := run([]string{"invoices", "run", "--url", srv.URL, "--token", "t", "--legal-entity", "le-1", "--cut-off", "28.02.2027"}, &out); err == nil ||
		!strings.Contains(err.Error(), "--cut-off") {
		t.Errorf("a bad cut-off: %v, want an error naming --cut-off", err)
	}
	if err := run([]string{"invoices", "run", "--url", srv.URL, "--token", "t"}, &out); err == nil || !strings.Contains(err.Error(), "--legal-entity") {
		t.Errorf("no legal entity: %v, want an error naming --legal-entity", err)
	}
}
