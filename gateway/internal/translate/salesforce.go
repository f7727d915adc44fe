package translate

import (
	"context"
	"encoding/json"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/accrue/accrue/gateway/internal/webhook"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
)

// SalesforceOpportunity is a Change Data Capture event on Opportunity, enriched (by a Salesforce
// Flow or the integration layer) with the account hierarchy and the line items. Accrue's data
// rides in custom fields (Accrue_*__c). See docs in the README, "CRM webhooks".
type SalesforceOpportunity struct {
	Payload struct {
		Header struct {
			EntityName      string   `json:"entityName"`
			RecordIDs       []string `json:"recordIds"`
			ChangeType      string   `json:"changeType"`
			CommitTimestamp int64    `json:"commitTimestamp"`
			TransactionKey  string   `json:"transactionKey"`
			SequenceNumber  int64    `json:"sequenceNumber"`
		} `json:"ChangeEventHeader"`
		Name            string      `json:"Name"`
		StageName       string      `json:"StageName"`
		Amount          json.Number `json:"Amount"`
		CurrencyIsoCode string      `json:"CurrencyIsoCode"`
		LegalEntity     string      `json:"Accrue_Legal_Entity__c"`
		StartDate       string      `json:"Accrue_Start_Date__c"`
		EndDate         string      `json:"Accrue_End_Date__c"`
		ManagerID       string      `json:"Accrue_Project_Manager_Id__c"`
		ManagerName     string      `json:"Accrue_Project_Manager_Name__c"`
		Account         sfAccount   `json:"Account"`
		ParentAccounts  []sfAccount `json:"ParentAccounts"`
		LineItems       []sfLine    `json:"OpportunityLineItems"`
	} `json:"payload"`
	Event struct {
		ReplayID  json.Number `json:"replayId"`
		EventUUID string      `json:"EventUuid"`
	} `json:"event"`
}

type sfAccount struct {
	ID                 string      `json:"Id"`
	Name               string      `json:"Name"`
	LegalName          string      `json:"Accrue_Legal_Name__c"`
	CurrencyIsoCode    string      `json:"CurrencyIsoCode"`
	BillingStreet      string      `json:"BillingStreet"`
	BillingCity        string      `json:"BillingCity"`
	BillingState       string      `json:"BillingState"`
	BillingPostalCode  string      `json:"BillingPostalCode"`
	BillingCountryCode string      `json:"BillingCountryCode"`
	PaymentTermsDays   json.Number `json:"Accrue_Payment_Terms_Days__c"`
	TaxID              string      `json:"Accrue_Tax_Id__c"`
	TaxRegion          string      `json:"Accrue_Tax_Region__c"`
	TaxExempt          bool        `json:"Accrue_Tax_Exempt__c"`
	ExemptionCert      string      `json:"Accrue_Exemption_Certificate__c"`
}

type sfLine struct {
	ID            string      `json:"Id"`
	ServiceLine   string      `json:"Accrue_Service_Line__c"`
	Description   string      `json:"Description"`
	TotalPrice    json.Number `json:"TotalPrice"`
	BillingMethod string      `json:"Accrue_Billing_Method__c"`
	RevenueMethod string      `json:"Accrue_Revenue_Method__c"`
	BudgetHours   json.Number `json:"Accrue_Budget_Hours__c"`
	NotToExceed   json.Number `json:"Accrue_Not_To_Exceed__c"`
	ServiceStart  string      `json:"Accrue_Service_Start__c"`
	ServiceEnd    string      `json:"Accrue_Service_End__c"`
	ExpenseMarkup json.Number `json:"Accrue_Expense_Markup_Percent__c"`
	RateCard      []struct {
		Role string      `json:"Role"`
		Rate json.Number `json:"Rate"`
		From string      `json:"From"`
		To   string      `json:"To"`
	} `json:"Accrue_Rate_Card__c"`
	Milestones []struct {
		Key     string      `json:"Key"`
		Name    string      `json:"Name"`
		Amount  json.Number `json:"Amount"`
		DueDate string      `json:"DueDate"`
	} `json:"Accrue_Milestones__c"`
}

// SalesforceClosedWon translates the CDC event into ConvertOpportunity. Events that are not about
// an Opportunity reaching "Closed Won" are ignored. The event id is the event's EventUuid, or the
// transaction key and sequence number of its header; the opportunity version is the commit
// timestamp, so an older change never overwrites a newer one.
func SalesforceClosedWon(client projectv1.ProjectServiceClient) webhook.Translator {
	return func(source string, body []byte) (webhook.Command, error) {
		var ev SalesforceOpportunity
		if err := decode(body, &ev); err != nil {
			return webhook.Command{}, err
		}
		p, h := ev.Payload, ev.Payload.Header
		id := ev.Event.EventUUID
		if id == "" && h.TransactionKey != "" {
			id = h.TransactionKey + ":" + strconv.FormatInt(h.SequenceNumber, 10)
		}
		if id == "" {
			return webhook.Command{}, malformed("the event has neither event.EventUuid nor ChangeEventHeader.transactionKey")
		}
		switch {
		case h.EntityName != "Opportunity":
			return webhook.Command{EventID: id, Ignore: "NOT_AN_OPPORTUNITY"}, nil
		case h.ChangeType != "CREATE" && h.ChangeType != "UPDATE":
			return webhook.Command{EventID: id, Ignore: "CHANGE_TYPE_" + h.ChangeType}, nil
		case p.StageName != "Closed Won":
			return webhook.Command{EventID: id, Ignore: "NOT_CLOSED_WON"}, nil
		case len(h.RecordIDs) != 1:
			return webhook.Command{}, malformed("ChangeEventHeader.recordIds must name exactly one opportunity")
		case h.CommitTimestamp <= 0:
			return webhook.Command{}, malformed("ChangeEventHeader.commitTimestamp is required")
		}
		opp, err := salesforceOpportunity(source, h.RecordIDs[0], h.CommitTimestamp, &ev)
		if err != nil {
			return webhook.Command{}, err
		}
		return webhook.Command{EventID: id, Call: func(ctx context.Context) (proto.Message, error) {
			return client.ConvertOpportunity(ctx, &projectv1.ConvertOpportunityRequest{Opportunity: opp})
		}}, nil
	}
}

func salesforceOpportunity(crm, id string, version int64, ev *SalesforceOpportunity) (*projectv1.Opportunity, error) {
	p := ev.Payload
	cur := p.CurrencyIsoCode
	opp := &projectv1.Opportunity{CrmSystem: crm, OpportunityId: id, Version: version, Name: p.Name,
		LegalEntityCode: p.LegalEntity, ManagerId: p.ManagerID, ManagerName: p.ManagerName}
	var err error
	if opp.Amount, err = moneyOf(p.Amount, cur, "Amount"); err != nil {
		return nil, err
	}
	if opp.StartDate, err = dateOf(p.StartDate, "Accrue_Start_Date__c"); err != nil {
		return nil, err
	}
	if opp.EndDate, err = dateOf(p.EndDate, "Accrue_End_Date__c"); err != nil {
		return nil, err
	}
	if opp.Account, err = salesforceAccount(p.Account); err != nil {
		return nil, err
	}
	for _, a := range p.ParentAccounts {
		pa, err := salesforceAccount(a)
		if err != nil {
			return nil, err
		}
		opp.ParentAccounts = append(opp.ParentAccounts, pa)
	}
	for i, l := range p.LineItems {
		sl, err := salesforceLine(i, l, cur)
		if err != nil {
			return nil, err
		}
		opp.ServiceLines = append(opp.ServiceLines, sl)
	}
	return opp, nil
}

func salesforceAccount(a sfAccount) (*projectv1.Account, error) {
	acc := &projectv1.Account{AccountId: a.ID, Name: a.Name, LegalName: a.LegalName, CurrencyCode: a.CurrencyIsoCode}
	if a.BillingStreet != "" || a.BillingCity != "" || a.BillingCountryCode != "" {
		acc.BillingAddress = &projectv1.AccountAddress{Line1: a.BillingStreet, City: a.BillingCity, Region: a.BillingState,
			PostalCode: a.BillingPostalCode, CountryCode: a.BillingCountryCode}
	}
	if a.PaymentTermsDays != "" {
		n, err := strconv.ParseInt(a.PaymentTermsDays.String(), 10, 32)
		if err != nil {
			return nil, malformed("Accrue_Payment_Terms_Days__c: %q is not a whole number of days", a.PaymentTermsDays)
		}
		days := int32(n)
		acc.PaymentTermsDays = &days
	}
	if a.TaxID != "" || a.TaxRegion != "" || a.TaxExempt {
		acc.TaxProfile = &projectv1.AccountTaxProfile{TaxId: a.TaxID, TaxRegion: a.TaxRegion, Exempt: a.TaxExempt,
			ExemptionCertificateRef: a.ExemptionCert}
	}
	return acc, nil
}

func salesforceLine(i int, l sfLine, cur string) (*projectv1.OpportunityServiceLine, error) {
	f := func(name string) string { return fieldf("OpportunityLineItems[%d].%s", i, name) }
	sl := &projectv1.OpportunityServiceLine{LineKey: l.ID, ServiceLine: l.ServiceLine, Description: l.Description,
		BudgetHours: l.BudgetHours.String(), ExpenseMarkupPercent: l.ExpenseMarkup.String()}
	var err error
	if sl.Amount, err = moneyOf(l.TotalPrice, cur, f("TotalPrice")); err != nil {
		return nil, err
	}
	if sl.NotToExceed, err = moneyOf(l.NotToExceed, cur, f("Accrue_Not_To_Exceed__c")); err != nil {
		return nil, err
	}
	bm, err := enumName("BILLING_METHOD_", l.BillingMethod, billingv1.BillingMethod_value, f("Accrue_Billing_Method__c"))
	if err != nil {
		return nil, err
	}
	rm, err := enumName("REVENUE_METHOD_", l.RevenueMethod, billingv1.RevenueMethod_value, f("Accrue_Revenue_Method__c"))
	if err != nil {
		return nil, err
	}
	sl.BillingMethod, sl.RevenueMethod = billingv1.BillingMethod(bm), billingv1.RevenueMethod(rm)
	if sl.ServiceStart, err = dateOf(l.ServiceStart, f("Accrue_Service_Start__c")); err != nil {
		return nil, err
	}
	if sl.ServiceEnd, err = dateOf(l.ServiceEnd, f("Accrue_Service_End__c")); err != nil {
		return nil, err
	}
	for j, r := range l.RateCard {
		e := &billingv1.RateCardEntry{Role: r.Role}
		if e.BillRate, err = moneyOf(r.Rate, cur, f(fieldf("Accrue_Rate_Card__c[%d].Rate", j))); err != nil {
			return nil, err
		}
		if e.EffectiveFrom, err = dateOf(r.From, f(fieldf("Accrue_Rate_Card__c[%d].From", j))); err != nil {
			return nil, err
		}
		if e.EffectiveTo, err = dateOf(r.To, f(fieldf("Accrue_Rate_Card__c[%d].To", j))); err != nil {
			return nil, err
		}
		sl.RateCard = append(sl.RateCard, e)
	}
	for j, m := range l.Milestones {
		ms := &billingv1.Milestone{Key: m.Key, Name: m.Name}
		if ms.Amount, err = moneyOf(m.Amount, cur, f(fieldf("Accrue_Milestones__c[%d].Amount", j))); err != nil {
			return nil, err
		}
		if ms.DueDate, err = dateOf(m.DueDate, f(fieldf("Accrue_Milestones__c[%d].DueDate", j))); err != nil {
			return nil, err
		}
		sl.Milestones = append(sl.Milestones, ms)
	}
	return sl, nil
}
