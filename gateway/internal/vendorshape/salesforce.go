package vendorshape

import (
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
)

// sfContentType is the body's content type for Salesforce's REST API.
const sfContentType = "application/json"

// sfBody is an sObject Collections update: records of any sObject type, each with its Id.
type sfBody struct {
	AllOrNone bool       `json:"allOrNone"`
	Records   []sfRecord `json:"records"`
}

type sfRecord map[string]any

func sfRecordOf(sobject, id string) sfRecord {
	return sfRecord{"attributes": map[string]string{"type": sobject}, "Id": id}
}

// salesforce maps, per event type (fields are custom fields the integration package installs):
//
//	project.activated          Opportunity: Accrue_Project_Id__c, Accrue_Project_Status__c,
//	                           Accrue_Contract_Id__c; Account: Accrue_Customer_Id__c
//	project.financials_changed Opportunity: Accrue_Project_Status__c, Forecast_Revenue__c,
//	                           Actual_Revenue__c (unless in another currency than the project's:
//	                           a foreign-currency contract), Actual_Hours__c (costs and margins
//	                           never go to the CRM)
//	invoice.posted             Opportunity: Billed_To_Date__c, Last_Invoice_Number__c,
//	credit_note.posted         Accrue_Currency__c
//	payment.applied            per application's opportunity: Collected_To_Date__c (the
//	                           contract's), Accrue_Currency__c
//
// The Account record is added when the event knows the CRM account id. Amounts are decimal
// strings as Accrue spells them (Salesforce accepts them for currency fields).
func salesforce(ev Event) (string, []byte, error) {
	p, err := decode(ev)
	if err != nil {
		return "", nil, err
	}
	ids := p.CrossIDs
	if ev.Type == billingv1.EventTypePaymentApplied {
		return salesforcePayment(ev, p)
	}
	if ids.CRMOpportunityID == "" {
		return "", nil, notApplicable(Salesforce, ev, "no CRM opportunity id in cross_ids")
	}
	opp := sfRecordOf("Opportunity", ids.CRMOpportunityID)
	body := sfBody{Records: []sfRecord{opp}}
	switch ev.Type {
	case projectv1.EventTypeProjectActivated:
		if p.Project == nil {
			return "", nil, notApplicable(Salesforce, ev, "no project")
		}
		opp["Accrue_Project_Id__c"] = p.Project.ProjectID
		opp["Accrue_Project_Status__c"] = projectStatus(p.Project.Status)
		opp["Accrue_Contract_Id__c"] = ids.ContractID
		if ids.CRMAccountID != "" {
			acc := sfRecordOf("Account", ids.CRMAccountID)
			acc["Accrue_Customer_Id__c"] = ids.CustomerID
			body.Records = append(body.Records, acc)
		}
	case projectv1.EventTypeProjectFinancialsChanged:
		f := p.Financials
		if f == nil {
			return "", nil, notApplicable(Salesforce, ev, "no financials")
		}
		opp["Accrue_Project_Status__c"] = projectStatus(f.Status)
		opp["Actual_Hours__c"] = f.ActualHours
		if f.ForecastRevenue.known() {
			opp["Forecast_Revenue__c"] = f.ForecastRevenue.Amount
		}
		// The opportunity's amounts are in its (the deal's) currency; a foreign-currency
		// contract's actual revenue is in the legal entity's and is left out.
		if f.ActualRevenue.known() && (f.CurrencyCode == "" || f.ActualRevenue.CurrencyCode == f.CurrencyCode) {
			opp["Actual_Revenue__c"] = f.ActualRevenue.Amount
		}
	case billingv1.EventTypeInvoicePosted, billingv1.EventTypeCreditNotePosted:
		inv := p.Invoice
		if inv == nil {
			inv = p.CreditNote
		}
		if inv == nil || !p.ContractBilledToDate.known() {
			return "", nil, notApplicable(Salesforce, ev, "no contract billed-to-date")
		}
		opp["Billed_To_Date__c"] = p.ContractBilledToDate.Amount
		opp["Accrue_Currency__c"] = p.ContractBilledToDate.CurrencyCode
		opp["Last_Invoice_Number__c"] = inv.Number
	default:
		return "", nil, notApplicable(Salesforce, ev, "no Salesforce mapping for this event type")
	}
	b, err := marshal(body)
	return sfContentType, b, err
}

// salesforcePayment updates the opportunity of each contract the payment was applied to (once
// per opportunity, its latest collected to date).
func salesforcePayment(ev Event, p payload) (string, []byte, error) {
	body := sfBody{}
	seen := map[string]bool{}
	for _, a := range p.Applications {
		if a.CRMOpportunityID == "" || !a.ContractCollectedToDate.known() || seen[a.CRMOpportunityID] {
			continue
		}
		seen[a.CRMOpportunityID] = true
		opp := sfRecordOf("Opportunity", a.CRMOpportunityID)
		opp["Collected_To_Date__c"] = a.ContractCollectedToDate.Amount
		opp["Accrue_Currency__c"] = a.ContractCollectedToDate.CurrencyCode
		body.Records = append(body.Records, opp)
	}
	if len(body.Records) == 0 {
		return "", nil, notApplicable(Salesforce, ev, "no application names a CRM opportunity")
	}
	b, err := marshal(body)
	return sfContentType, b, err
}
