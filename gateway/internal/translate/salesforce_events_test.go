package translate_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/accrue/accrue/gateway/internal/translate"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/internal/platform/fault"
)

// stockPayload is the stock org's payload with the header changed by edit and fields replaced.
func stockPayload(t testing.TB, header map[string]any, fields map[string]any) []byte {
	t.Helper()
	p := payloadOf(t, fixture(t, "salesforce-cometd-stock.json"))
	maps.Copy(p["ChangeEventHeader"].(map[string]any), header)
	for k, v := range fields {
		if v == nil {
			delete(p, k)
			continue
		}
		p[k] = v
	}
	return marshal(t, map[string]any{"data": map[string]any{"payload": p, "event": map[string]any{"replayId": 1}}})
}

// CREATE, UPDATE and UNDELETE of a closed-won opportunity convert; DELETE, other stages, other
// objects and unknown change types are acknowledged as ignored with a reason.
func TestSalesforceChangeTypes(t *testing.T) {
	ms := testMappings(t)
	for _, c := range []struct {
		name   string
		header map[string]any
		fields map[string]any
		ignore string
	}{
		{"create", map[string]any{"changeType": "CREATE"}, nil, ""},
		{"undelete", map[string]any{"changeType": "UNDELETE"}, nil, ""},
		{"won by IsWon alone", nil, map[string]any{"StageName": "Negotiation"}, ""},
		{"won by StageName alone", nil, map[string]any{"IsWon": nil}, ""},
		{"delete", map[string]any{"changeType": "DELETE"}, nil, "OPPORTUNITY_DELETED"},
		{"open stage", nil, map[string]any{"StageName": "Proposal/Price Quote", "IsWon": false}, "NOT_CLOSED_WON"},
		{"stage unchanged, not enriched", nil, map[string]any{"StageName": nil, "IsWon": nil}, "NOT_CLOSED_WON"},
		{"account change", map[string]any{"entityName": "Account"}, nil, "NOT_AN_OPPORTUNITY"},
		{"unknown change type", map[string]any{"changeType": `MERGE"}`}, nil, "CHANGE_TYPE_MERGE"},
	} {
		cmd, opp := convertSF(t, ms, "salesforce", stockPayload(t, c.header, c.fields))
		switch {
		case c.ignore == "" && (opp == nil || opp.GetOpportunityId() != "0065g00000Stk01AAA" || cmd.Ignore != ""):
			t.Errorf("%s: %+v, want a conversion of 0065g00000Stk01AAA", c.name, cmd)
		case c.ignore != "" && (cmd.Ignore != c.ignore || cmd.Call != nil || cmd.Exception != nil):
			t.Errorf("%s: ignore %q, want %q and no call", c.name, cmd.Ignore, c.ignore)
		}
	}
	// An org's own won stages (the custom org also counts "Signed").
	body := []byte(strings.Replace(string(fixture(t, "salesforce-pubsub-custom.json")), `"StageName": "Closed Won"`, `"StageName": "Signed"`, 1))
	body = []byte(strings.Replace(string(body), `"IsWon": true`, `"IsWon": false`, 1))
	if _, opp := convertSF(t, ms, "salesforce", body); opp == nil {
		t.Error(`stage "Signed" of the custom org: not converted`)
	}
	if cmd, _ := convertSF(t, nil, "salesforce", body); cmd.Ignore != "NOT_CLOSED_WON" {
		t.Errorf(`stage "Signed" under the built-in mapping: %+v, want NOT_CLOSED_WON`, cmd)
	}
}

// Gap events of the deal's objects raise a CDC_GAP exception naming the records to re-sync; an
// overflow names the object; gaps of other objects (archived activities) are ignored.
func TestSalesforceGapEventsRaiseExceptions(t *testing.T) {
	ms := testMappings(t)
	cmd, _ := convertSF(t, ms, "salesforce", fixture(t, "salesforce-cometd-gap.json"))
	e := cmd.Exception
	if e == nil || cmd.Call != nil || e.Reason != translate.ReasonCDCGap || e.Entity != "Opportunity" ||
		strings.Join(e.RecordIDs, ",") != "0065g00000Gap01AAA,0065g00000Gap02AAA" ||
		!strings.Contains(e.Detail, "GAP_UPDATE") || !strings.Contains(e.Detail, "0065g00000Gap02AAA") {
		t.Errorf("gap event: %+v %+v, want a CDC_GAP exception naming both opportunities", cmd, e)
	}
	if cmd.EventID != "3c9a7e51-0d24-4b6f-8e13-5a7b9c0d1e03" {
		t.Errorf("gap event id %q", cmd.EventID)
	}
	cmd, _ = convertSF(t, ms, "salesforce", fixture(t, "salesforce-cometd-overflow.json"))
	if e := cmd.Exception; e == nil || e.Reason != translate.ReasonCDCGap || e.Entity != "Opportunity" || len(e.RecordIDs) != 0 ||
		!strings.Contains(e.Detail, "GAP_OVERFLOW") || !strings.Contains(e.Detail, "2026-05-28T08:30:00Z") {
		t.Errorf("overflow event: %+v, want a CDC_GAP exception on Opportunity with the commit time", e)
	}
	for _, gap := range []string{"GAP_CREATE", "GAP_DELETE", "GAP_UNDELETE"} {
		cmd, _ := convertSF(t, ms, "salesforce", stockPayload(t, map[string]any{"changeType": gap, "entityName": "OpportunityLineItem",
			"recordIds": []string{"00k5g00000Ln001AAA"}}, nil))
		if e := cmd.Exception; e == nil || e.Entity != "OpportunityLineItem" || len(e.RecordIDs) != 1 || !strings.HasPrefix(e.Detail, gap) {
			t.Errorf("%s of a line item: %+v", gap, e)
		}
	}
	cmd, _ = convertSF(t, ms, "salesforce", stockPayload(t, map[string]any{"changeType": "GAP_UPDATE", "entityName": "Event",
		"recordIds": []string{"00U5g00000Evt01AAA"}}, nil))
	if cmd.Exception != nil || cmd.Ignore != "NOT_AN_OPPORTUNITY" {
		t.Errorf("gap of an activity: %+v, want ignored", cmd)
	}
	_, err := translate.SalesforceClosedWon(&projects{}, ms)("salesforce", stockPayload(t, map[string]any{"changeType": "GAP_UPDATE", "recordIds": []string{}}, nil))
	if fault.ReasonOf(err) != translate.ReasonMalformed {
		t.Errorf("a gap without record ids: %v, want MALFORMED_PAYLOAD", err)
	}
}

// Date fields are read in every form Salesforce sends them: ISO dates (CometD), epoch
// milliseconds as numbers or strings (Pub/Sub API), RFC 3339 and REST API date-times.
func TestSalesforceDates(t *testing.T) {
	ms := testMappings(t)
	for _, closeDate := range []any{"2026-06-01", 1780272000000, "1780272000000", "2026-06-01T00:00:00Z", "2026-06-01T00:00:00.000+0000", "2026-06-01T18:30:00-07:00"} {
		_, opp := convertSF(t, ms, "salesforce", stockPayload(t, nil, map[string]any{"CloseDate": closeDate, "OpportunityLineItems": nil}))
		if s := opp.GetStartDate(); s.GetYear() != 2026 || s.GetMonth() != 6 || s.GetDay() != 1 {
			t.Errorf("CloseDate %v: start %v, want 2026-06-01", closeDate, s)
		}
		if e := opp.GetEndDate(); e.GetYear() != 2027 || e.GetMonth() != 5 || e.GetDay() != 31 {
			t.Errorf("CloseDate %v: end %v, want 2027-05-31 (12 months)", closeDate, e)
		}
	}
	for _, bad := range []any{"2026-13-01", "01/06/2026", -1, 253402300800000, true, map[string]any{"d": 1}} {
		_, err := translate.SalesforceClosedWon(&projects{}, ms)("salesforce", stockPayload(t, nil, map[string]any{"CloseDate": bad, "OpportunityLineItems": nil}))
		if fault.ReasonOf(err) != translate.ReasonMalformed || !strings.Contains(err.Error(), "CloseDate") {
			t.Errorf("CloseDate %v: %v, want MALFORMED_PAYLOAD naming CloseDate", bad, err)
		}
	}
}

// A deal without line items (a stock org's opportunity without products) becomes one line of
// the whole amount with the default service line, billed fixed-fee over the project.
func TestSalesforceDealWithoutLineItems(t *testing.T) {
	_, opp := convertSF(t, testMappings(t), "salesforce", stockPayload(t, nil, map[string]any{"OpportunityLineItems": nil}))
	if n := len(opp.GetServiceLines()); n != 1 {
		t.Fatalf("%d lines, want 1", n)
	}
	l := opp.GetServiceLines()[0]
	sameMsg(t, "the one line", l, &projectv1.OpportunityServiceLine{LineKey: "0065g00000Stk01AAA", ServiceLine: "CONSULTING",
		Description: "Globex managed analytics", Amount: usd("60000.00"), BillingMethod: billingv1.BillingMethod_BILLING_METHOD_FIXED_FEE,
		RevenueMethod: billingv1.RevenueMethod_REVENUE_METHOD_STRAIGHT_LINE, ServiceStart: day(2026, 6, 1), ServiceEnd: day(2027, 5, 31)})
	// Without an account object only AccountId is known: it names the customer, and the org's
	// default tax region (when it has one) makes the tax profile.
	_, opp = convertSF(t, testMappings(t), "salesforce", stockPayload(t, nil, map[string]any{"Account": nil}))
	if a := opp.GetAccount(); a.GetAccountId() != "0015g00000Glbx1AAA" || a.GetName() != "0015g00000Glbx1AAA" || a.GetTaxProfile() != nil {
		t.Errorf("account from AccountId alone: %v", a)
	}
}

// Bodies that cannot be a deal are refused with MALFORMED_PAYLOAD and a message that says why.
func TestSalesforceMalformed(t *testing.T) {
	ms := testMappings(t)
	for name, c := range map[string]struct {
		body []byte
		says string
	}{
		"not json":          {[]byte(`{"data":`), "not JSON"},
		"array":             {[]byte(`[1,2]`), "not a JSON object"},
		"no header":         {[]byte(`{"data":{"payload":{"Name":"x"}},"channel":"/data/OpportunityChangeEvent"}`), "ChangeEventHeader"},
		"header not object": {[]byte(`{"ChangeEventHeader":"x","Name":"y"}`), "ChangeEventHeader"},
		"no name":           {stockPayload(t, nil, map[string]any{"Name": nil}), "Name"},
		"no amount":         {stockPayload(t, nil, map[string]any{"Amount": nil, "OpportunityLineItems": nil}), "Amount"},
		"amount not number": {stockPayload(t, nil, map[string]any{"Amount": "lots"}), "Amount"},
		"huge exponent":     {stockPayload(t, nil, map[string]any{"Amount": "1e40"}), "out of range"},
		"no account":        {stockPayload(t, nil, map[string]any{"Account": nil, "AccountId": nil}), "AccountId"},
		"two records":       {stockPayload(t, map[string]any{"recordIds": []string{"0065g00000Stk01AAA", "0065g00000Stk02AAA"}}, nil), "exactly one"},
		"bad record id":     {stockPayload(t, map[string]any{"recordIds": []string{"006,x"}}, nil), "record id"},
		"no commit time":    {stockPayload(t, map[string]any{"commitTimestamp": nil}, nil), "commitTimestamp"},
		"control chars id":  {stockPayload(t, map[string]any{"transactionKey": "a\u0001b"}, nil), "printable"},
		"line no total":     {stockPayload(t, nil, map[string]any{"OpportunityLineItems": []any{map[string]any{"Id": "x"}}}), "no total"},
		"items not list":    {stockPayload(t, nil, map[string]any{"OpportunityLineItems": 5}), "OpportunityLineItems"},
		"deep":              {[]byte(strings.Repeat(`{"a":`, 100) + `1` + strings.Repeat(`}`, 100)), "deeper"},
	} {
		_, err := translate.SalesforceClosedWon(&projects{}, ms)("salesforce", c.body)
		if fault.ReasonOf(err) != translate.ReasonMalformed || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v, want MALFORMED_PAYLOAD saying %q", name, err, c.says)
		}
	}
}

// A mapping file is checked whole at start: each mistake is named.
func TestSalesforceMappingFileIsChecked(t *testing.T) {
	for name, c := range map[string]struct{ file, says string }{
		"unknown key":         {`{"orgz": []}`, "unknown field"},
		"unknown canonical":   {`{"orgs":[{"sources":["a"],"lines":{"sku":"SKU__c"}}]}`, "lines.sku is not a canonical field"},
		"bad field name":      {`{"orgs":[{"sources":["a"],"opportunity":{"name":"Name; DROP"}}]}`, "not a field name"},
		"bad legal entity":    {`{"default":{"defaults":{"legal_entity":"us 01"}}}`, "legal_entity"},
		"bad currency":        {`{"orgs":[{"sources":["a"],"defaults":{"currency":"XXY"}}]}`, "currency"},
		"bad billing":         {`{"orgs":[{"sources":["a"],"defaults":{"billing_method":"BARTER"}}]}`, "billing_method"},
		"bad service line":    {`{"orgs":[{"sources":["a"],"service_line_by_family":{"Software":"soft ware"}}]}`, "service_line_by_family.Software"},
		"bad term":            {`{"orgs":[{"sources":["a"],"defaults":{"term_months":500}}]}`, "term_months"},
		"no key":              {`{"orgs":[{"defaults":{"legal_entity":"US01"}}]}`, "org_id or sources"},
		"bad org id":          {`{"orgs":[{"org_id":"00D-bad"}]}`, "org_id"},
		"same org twice":      {`{"orgs":[{"org_id":"00D5g000004CustEAA"},{"org_id":"00D5g000004Cust"}]}`, "mapped twice"},
		"same source twice":   {`{"orgs":[{"sources":["a"]},{"sources":["a"]}]}`, "mapped twice"},
		"default with org id": {`{"default":{"org_id":"00D5g000004CustEAA"}}`, "default"},
		"names not a list":    {`{"orgs":[{"sources":["a"],"lines":{"id":5}}]}`, "field name"},
	} {
		if _, err := translate.ParseSalesforceMappings([]byte(c.file)); err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v, want an error saying %q", name, err, c.says)
		}
	}
	if _, err := translate.LoadSalesforceMappings("testdata/no-such-file.json"); err == nil {
		t.Error("a missing mapping file loads")
	}
	ms, err := translate.ParseSalesforceMappings(nil)
	if err != nil || ms.For("any", "") == nil {
		t.Errorf("no file: %v", err)
	}
	// The org id matches in its 15- and 18-character forms; unknown orgs and sources get the default.
	file := testMappings(t)
	if m := file.For("elsewhere", "00D5g000004Cust"); m.Defaults.Currency != "USD" {
		t.Errorf("the 15-character org id did not select the custom org's mapping")
	}
	if m := file.For("elsewhere", ""); m.Defaults.LegalEntity != "" || m.Defaults.ServiceLine != "CONSULTING" {
		t.Errorf("an unknown source got %+v, want the built-in defaults", m.Defaults)
	}
}
