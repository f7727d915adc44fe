package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
)

// accruectl invoices run: the invoice run of a legal entity at period end.

func init() {
	commands = append(commands,
		command{name: "invoices",
			synopsis: "run --legal-entity ID [--cut-off YYYY-MM-DD] [--contracts ID,...] [-o table|json]",
			summary:  "propose a draft invoice for every contract of a legal entity with something to bill",
			details: `run calls POST /v1/legal-entities/{id}/invoices:propose (invoices:write) and prints, per contract,
the draft it proposed (number of lines, total, status: DRAFT, or BLOCKED_TAX when the customer lacks
tax data) or why it proposed none (NOTHING_TO_BILL; INVOICE_RUN_CONTRACT_BUSY: run again). Drafts are
posted one by one with POST /v1/invoices/{id}:post after review. Example:
  bin/accruectl invoices run --legal-entity 01a2… --cut-off 2027-02-28`,
			run: invoicesCmd})
}

func invoicesCmd(fs *flag.FlagSet, args []string, out io.Writer) error {
	sub, args := subcommand(args, "", "run")
	o := newOpsFlags(fs)
	o.scopes = []string{"invoices:read", "invoices:write"}
	le := fs.String("legal-entity", "", "legal entity id (required)")
	cutOff := fs.String("cut-off", "", "bill work dated up to this day, YYYY-MM-DD (default: everything)")
	contracts := fs.String("contracts", "", "only these contracts of the legal entity, comma-separated (default: all)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if sub != "run" {
		return fmt.Errorf("invoices: name a subcommand: run")
	}
	if err := o.check(); err != nil {
		return err
	}
	if *le == "" {
		return fmt.Errorf("invoices run needs --legal-entity")
	}
	req := &billingv1.ProposeInvoicesRequest{LegalEntityId: *le}
	if *cutOff != "" {
		d, err := time.Parse(time.DateOnly, *cutOff)
		if err != nil {
			return fmt.Errorf("--cut-off: %q is not a date YYYY-MM-DD", *cutOff)
		}
		req.CutOff = &commonv1.Date{Year: int32(d.Year()), Month: int32(d.Month()), Day: int32(d.Day())}
	}
	for _, id := range strings.Split(*contracts, ",") {
		if id = strings.TrimSpace(id); id != "" {
			req.ContractIds = append(req.ContractIds, id)
		}
	}
	var resp billingv1.ProposeInvoicesResponse
	if err := o.call(http.MethodPost, "/v1/legal-entities/"+*le+"/invoices:propose", req, &resp); err != nil {
		return err
	}
	if *o.format == "json" {
		return printJSON(out, &resp)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONTRACT\tINVOICE\tSTATUS\tLINES\tTOTAL\tOVER CAP\tREASON")
	for _, r := range resp.GetResults() {
		inv := r.GetInvoice()
		if inv == nil {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t%s\n", r.GetContractId(), r.GetReason())
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t\n", r.GetContractId(), inv.GetInvoiceId(),
			strings.TrimPrefix(inv.GetStatus().String(), "INVOICE_STATUS_"), r.GetLineCount(), amountOf(inv.GetTotal()), amountOf(inv.GetOverCap()))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(out, "%d proposed, %d with nothing to bill, %d without a draft for another reason\n",
		resp.GetProposed(), resp.GetNothingToBill(), resp.GetFailed())
	return err
}

// amountOf prints an amount with its currency ("" for none).
func amountOf(m *commonv1.Money) string {
	if m == nil {
		return ""
	}
	return m.GetAmount() + " " + m.GetCurrencyCode()
}
