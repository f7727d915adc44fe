// Package vendorshape turns a canonical Accrue event (the CloudEvent the webhook dispatcher
// delivers) into the body a vendor's API takes, for subscriptions that opt into a shape instead
// of the canonical CloudEvent. It is pure: no I/O, no clock, no state; safe for concurrent use.
//
// Shapes:
//
//   - "salesforce": a Salesforce sObject Collections update (PATCH
//     /services/data/vXX.X/composite/sobjects) of the deal's Opportunity and, where the event
//     knows it, its Account: {"allOrNone":false,"records":[{"attributes":{"type":"Opportunity"},
//     "Id":...,"Billed_To_Date__c":...}]}. Records are keyed by the CRM ids the event carries in
//     data.cross_ids; an event without a CRM opportunity id is not applicable.
//   - "psa": a PSA project status update keyed by the project's PSA id (data.cross_ids
//     .psa_project_id, else the Accrue project id as the external id): status, percent complete
//     and financial figures.
//
// The mapping per event type is in the tables of salesforce.go and psa.go and in docs/api.md.
// Events a shape cannot express return ErrNotApplicable: the dispatcher skips that delivery.
package vendorshape
