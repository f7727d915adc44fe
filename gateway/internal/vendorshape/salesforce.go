package vendorshape

import (
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
)

// Event types other helpers' contracts add (payments: payment.applied). Replace with the
// generated constants once those contracts are on main.
const typePaymentApplied = "payment.applied"

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
//	                           Actual_Revenue__c, Actual_Hours__c (costs and margins never go
//	                           to the CRM)
//	invoice.posted             Opportunity: Billed_To_Date__c, Last_Invoice_Number__c,
//	credit_note.posted         Accrue_Currency__c
//	payment.applied            Opportunity: Collected_To_Date__c, Accrue_Currency__c
//
// The Account record is added when the event knows the CRM account id. Amounts are decimal
// strings as Accrue spells them (Salesforce accepts them for currency fields).
func salesforce(ev Event) (string, []byte, error) {
	p, err := decode(ev)
	if err != nil {
		return "", nil, err
	}
	ids := p.CrossIDs
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
		if f.ActualRevenue.known() {
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
	case typePaymentApplied:
		if !p.ContractCollectedToDate.known() {
			return "", nil, notApplicable(Salesforce, ev, "no contract collected-to-date")
		}
		opp["Collected_To_Date__c"] = p.ContractCollectedToDate.Amount
		opp["Accrue_Currency__c"] = p.ContractCollectedToDate.CurrencyCode
	default:
		return "", nil, notApplicable(Salesforce, ev, "no Salesforce mapping for this event type")
	}
	b, err := marshal(body)
	return sfContentType, b, err
}
