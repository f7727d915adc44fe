package vendorshape

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Event is the canonical event as the dispatcher holds it: the CloudEvent attributes and the
// payload in protobuf JSON with proto field names (data).
type Event struct {
	ID, Type, Source, Subject string
	Time                      time.Time
	CorrelationID             string
	Data                      json.RawMessage
}

// Errors.
var (
	// ErrNotApplicable: the shape has nothing to say about this event (its type, or an event
	// lacking the ids the target needs); the dispatcher skips the delivery.
	ErrNotApplicable = errors.New("vendorshape: the shape does not apply to this event")
	// ErrUnknownShape: no such shape (subscriptions are validated against Shapes).
	ErrUnknownShape = errors.New("vendorshape: unknown shape")
)

// Shape names.
const (
	Salesforce = "salesforce"
	PSA        = "psa"
)

type shapeFunc func(Event) (contentType string, body []byte, err error)

var shapes = map[string]shapeFunc{Salesforce: salesforce, PSA: psa}

// Shapes returns the shape names, sorted.
func Shapes() []string {
	out := make([]string, 0, len(shapes))
	for s := range shapes {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// Apply returns the body shape makes of ev and its content type. It returns ErrNotApplicable
// (wrapped, with why) for an event the shape cannot express, ErrUnknownShape for an unknown
// shape, and an error for data that is not the event type's JSON.
func Apply(shape string, ev Event) (contentType string, body []byte, err error) {
	fn, ok := shapes[shape]
	if !ok {
		return "", nil, fmt.Errorf("%w %q", ErrUnknownShape, shape)
	}
	return fn(ev)
}

func notApplicable(shape string, ev Event, why string) error {
	return fmt.Errorf("%w: %s %s: %s", ErrNotApplicable, shape, ev.Type, why)
}

// The payload parts the shapes read (protobuf JSON, proto names). Unknown fields are ignored,
// so newer payloads keep working.

type money struct {
	Amount       string `json:"amount"`
	CurrencyCode string `json:"currency_code"`
}

func (m *money) known() bool { return m != nil && m.Amount != "" }

type crossIDs struct {
	CustomerID       string `json:"customer_id"`
	ProjectID        string `json:"project_id"`
	ContractID       string `json:"contract_id"`
	LegalEntityID    string `json:"legal_entity_id"`
	CRMSystem        string `json:"crm_system"`
	CRMOpportunityID string `json:"crm_opportunity_id"`
	CRMAccountID     string `json:"crm_account_id"`
	PSASystem        string `json:"psa_system"`
	PSAProjectID     string `json:"psa_project_id"`
}

type project struct {
	ProjectID string `json:"project_id"`
	Name      string `json:"name"`
	Status    string `json:"status"`
}

type financials struct {
	ProjectID string `json:"project_id"`
	Status    string `json:"status"`
	// CurrencyCode is the project's (its contract's): budget and forecast revenue. Planned cost,
	// actuals and the actual margin are in the legal entity's functional currency, which differs
	// for a foreign-currency contract (there is then no forecast margin).
	CurrencyCode    string `json:"currency_code"`
	PlannedHours    string `json:"planned_hours"`
	PlannedCost     *money `json:"planned_cost"`
	ForecastRevenue *money `json:"forecast_revenue"`
	ForecastMargin  *money `json:"forecast_margin"`
	ActualHours     string `json:"actual_hours"`
	ActualCost      *money `json:"actual_cost"`
	ActualRevenue   *money `json:"actual_revenue"`
	ActualMargin    *money `json:"actual_margin"`
	CostRedacted    bool   `json:"cost_redacted"`
}

type invoice struct {
	InvoiceID string `json:"invoice_id"`
	Number    string `json:"number"`
	Total     *money `json:"total"`
	Tax       *money `json:"tax"`
	Status    string `json:"status"`
}

// payload is the union of the event payloads the shapes read.
type payload struct {
	CrossIDs   *crossIDs   `json:"cross_ids"`
	Project    *project    `json:"project"`
	Financials *financials `json:"financials"`
	Invoice    *invoice    `json:"invoice"`
	CreditNote *invoice    `json:"credit_note"`
	// invoice.posted and credit_note.posted.
	ContractBilledToDate *money `json:"contract_billed_to_date"`
	// payment.applied: per invoice, its contract's opportunity and collected to date.
	Applications []struct {
		InvoiceID               string `json:"invoice_id"`
		ContractID              string `json:"contract_id"`
		CRMOpportunityID        string `json:"crm_opportunity_id"`
		ContractCollectedToDate *money `json:"contract_collected_to_date"`
	} `json:"applications"`
}

// projectStatus is a project status as vendors spell it: "ACTIVE", not "PROJECT_STATUS_ACTIVE".
func projectStatus(s string) string { return strings.TrimPrefix(s, "PROJECT_STATUS_") }

func decode(ev Event) (payload, error) {
	var p payload
	if len(ev.Data) == 0 {
		return p, fmt.Errorf("vendorshape: %s %s has no data", ev.Type, ev.ID)
	}
	if err := json.Unmarshal(ev.Data, &p); err != nil {
		return p, fmt.Errorf("vendorshape: %s %s: data: %w", ev.Type, ev.ID, err)
	}
	if p.CrossIDs == nil {
		p.CrossIDs = &crossIDs{}
	}
	return p, nil
}

// marshal encodes v without HTML escaping (vendors read the bytes as they are).
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
