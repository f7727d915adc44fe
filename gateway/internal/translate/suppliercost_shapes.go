package translate

import (
	"strings"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
)

// pickField returns the first of keys obj has (each matched case-insensitively), nil when none.
func pickField(obj map[string]any, keys ...string) any {
	for _, k := range keys {
		if v := field(obj, k); v != nil {
			return v
		}
	}
	return nil
}

// refText reads a reference: a scalar as it is, or of a NetSuite reference object
// ({"id": "7", "refName": "Acme"}) the first non-empty of keys.
func refText(v any, keys ...string) string {
	if m := object(v); m != nil {
		return firstText(m, keys...)
	}
	return text(v)
}

// refUUID reads a reference holding an Accrue id: a scalar, or the first member of a reference
// object that is a UUID (externalId, id, refName); else the scalar or first text, for the service
// to refuse.
func refUUID(v any) string {
	m := object(v)
	if m == nil {
		return text(v)
	}
	for _, k := range []string{"externalId", "id", "refName"} {
		if s := text(field(m, k)); isUUID(s) {
			return s
		}
	}
	return firstText(m, "externalId", "id", "refName")
}

// sublist reads a NetSuite sublist: {"items": [...]} as the REST record API sends it, or an array.
func sublist(v any, name string) ([]any, error) {
	if m := object(v); m != nil {
		if items := field(m, "items"); items != nil {
			v = items
		}
	}
	l, ok := list(v)
	if !ok {
		return nil, malformed("%s is not a list", name)
	}
	return l, nil
}

// billHead is what every line of a bill shares.
type billHead struct {
	vendorID, vendorName, billNumber, currency, description string
	billDate, serviceStart, serviceEnd                      *commonv1.Date
}

func (h billHead) check() error {
	switch {
	case h.vendorID == "":
		return malformed("the bill names no vendor")
	case h.billNumber == "":
		return malformed("the bill has no bill number")
	case h.billDate == nil:
		return malformed("the bill has no bill date")
	}
	return nil
}

// billLineFields are the names of a line's fields in one shape.
type billLineFields struct {
	number, amount, currency, description, project, task, rule, billable, start, end []string
}

var canonicalLine = billLineFields{
	number: []string{"line_number", "lineNumber", "line"}, amount: []string{"amount"},
	currency: []string{"currency", "currency_code", "currencyCode"}, description: []string{"description", "memo"},
	project: []string{"project_id", "projectId"}, task: []string{"task_id", "taskId"},
	rule: []string{"allocation_rule", "allocationRule"}, billable: []string{"billable"},
	start: []string{"service_start", "serviceStart"}, end: []string{"service_end", "serviceEnd"},
}

var netsuiteLine = billLineFields{
	number: []string{"line"}, amount: []string{"amount"}, currency: []string{"custcol_currency"},
	description: []string{"memo", "description"}, project: []string{"custcol_project"}, task: []string{"custcol_task"},
	rule: []string{"custcol_allocation_rule"}, billable: []string{"custcol_billable"},
	start: []string{"custcol_service_start"}, end: []string{"custcol_service_end"},
}

// line maps one line object of a bill.
func (h billHead) line(obj map[string]any, f billLineFields, path string) (*billingv1.SupplierBillLine, error) {
	if obj == nil {
		return nil, malformed("%s is not an object", path)
	}
	n, ok, err := number(pickField(obj, f.number...), path+".line")
	if err != nil {
		return nil, err
	}
	if !ok || !n.IsInteger() || n.Sign() <= 0 || n.IntPart() > 1<<30 {
		return nil, malformed("%s needs a positive whole line number", path)
	}
	cur := strings.ToUpper(refText(pickField(obj, f.currency...), "refName", "symbol", "id"))
	if cur == "" {
		cur = h.currency
	}
	if cur == "" {
		return nil, malformed("%s has no currency", path)
	}
	amount, err := moneyValue(pickField(obj, f.amount...), cur, path+".amount")
	if err != nil {
		return nil, err
	}
	if amount == nil {
		return nil, malformed("%s has no amount", path)
	}
	l := &billingv1.SupplierBillLine{VendorId: h.vendorID, VendorName: h.vendorName, BillNumber: h.billNumber,
		LineNumber: int32(n.IntPart()), Amount: amount, BillDate: h.billDate,
		Description:    refText(pickField(obj, f.description...), "refName"),
		ProjectId:      refUUID(pickField(obj, f.project...)),
		TaskId:         refUUID(pickField(obj, f.task...)),
		AllocationRule: refText(pickField(obj, f.rule...), "refName", "name", "id")}
	if l.Description == "" {
		l.Description = h.description
	}
	if v := pickField(obj, f.billable...); v != nil {
		b, ok := checkbox(v)
		if !ok {
			return nil, malformed("%s.billable is not a boolean", path)
		}
		l.Billable = b
	}
	if err := servicePeriod(l, pickField(obj, f.start...), pickField(obj, f.end...), h.serviceStart, h.serviceEnd, path); err != nil {
		return nil, err
	}
	return l, nil
}

// canonicalBill reads Accrue's canonical bill: {"event_id", "legal_entity_id" or
// "legal_entity_code", "vendor_id", "vendor_name", "bill_number", "bill_date", "currency",
// "service_start", "service_end", "description", "lines": [{"line_number", "amount", ...}]}
// (snake_case or camelCase, any letter case).
func canonicalBill(root map[string]any) (*supplierBill, error) {
	b := &supplierBill{eventID: firstText(root, "event_id", "eventId")}
	b.entityRef(firstText(root, "legal_entity_id", "legalEntityId", "legal_entity_code", "legalEntityCode", "legal_entity", "legalEntity"))
	h := billHead{vendorID: firstText(root, "vendor_id", "vendorId"), vendorName: firstText(root, "vendor_name", "vendorName"),
		billNumber: firstText(root, "bill_number", "billNumber"), currency: strings.ToUpper(firstText(root, "currency", "currency_code", "currencyCode")),
		description: firstText(root, "description", "memo")}
	return b, b.readLines(root, h, "lines", canonicalLine,
		pickField(root, "bill_date", "billDate"), pickField(root, "service_start", "serviceStart"), pickField(root, "service_end", "serviceEnd"))
}

// netsuiteBill reads a NetSuite vendor bill record (REST record or SuiteScript JSON): entity
// (vendor), tranId, tranDate, currency, subsidiary (its externalId or name is the legal entity's
// code or id; custbody_legal_entity overrides it), memo, and the item and expense sublists, whose
// lines carry line, amount, memo and the custcol_project, custcol_task, custcol_allocation_rule,
// custcol_billable, custcol_service_start and custcol_service_end custom fields.
func netsuiteBill(root map[string]any) (*supplierBill, error) {
	b := &supplierBill{}
	le := refText(field(root, "custbody_legal_entity"), "externalId", "refName", "id")
	if le == "" {
		le = refText(field(root, "subsidiary"), "externalId", "refName", "id")
	}
	b.entityRef(le)
	vendor := field(root, "entity")
	h := billHead{vendorID: refText(vendor, "id", "externalId"), vendorName: refText(vendor, "refName", "name"),
		billNumber:  firstText(root, "tranId", "transactionNumber"),
		currency:    strings.ToUpper(refText(field(root, "currency"), "refName", "symbol", "id")),
		description: firstText(root, "memo")}
	if h.vendorName == h.vendorID && object(vendor) == nil {
		h.vendorName = ""
	}
	return b, b.readLines(root, h, "", netsuiteLine, field(root, "tranDate"),
		pickField(root, "custbody_service_start"), pickField(root, "custbody_service_end"))
}

// readLines fills b.lines from the list named lists (canonical) or the item and expense
// sublists (NetSuite, lists == "").
func (b *supplierBill) readLines(root map[string]any, h billHead, lists string, f billLineFields, billDate, start, end any) error {
	var err error
	if h.billDate, err = civilDate(billDate, "bill_date"); err != nil {
		return err
	}
	if h.serviceStart, err = civilDate(start, "service_start"); err != nil {
		return err
	}
	if h.serviceEnd, err = civilDate(end, "service_end"); err != nil {
		return err
	}
	if err := h.check(); err != nil {
		return err
	}
	if b.entityID == "" && b.entityCode == "" {
		return malformed("the bill names no legal entity")
	}
	names := []string{"item", "expense"}
	if lists != "" {
		names = []string{lists}
	}
	for _, name := range names {
		items, err := sublist(field(root, name), name)
		if err != nil {
			return err
		}
		if len(items) > maxBillLines {
			return malformed("a bill needs 1 to %d lines", maxBillLines)
		}
		for i, it := range items {
			l, err := h.line(object(it), f, fieldf("%s[%d]", name, i))
			if err != nil {
				return err
			}
			b.lines = append(b.lines, l)
		}
	}
	return nil
}

// checkbox reads a boolean, or a NetSuite checkbox value ("T" / "F").
func checkbox(v any) (value, ok bool) {
	switch strings.ToUpper(text(v)) {
	case "T":
		return true, true
	case "F":
		return false, true
	}
	return flag(v)
}
