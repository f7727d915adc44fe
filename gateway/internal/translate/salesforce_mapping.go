package translate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/money"
)

// SalesforceMapping says where one Salesforce org keeps a deal: for each canonical field, the
// org's field names to try in order (the first present wins; a dotted name follows a
// relationship, "Product2.Family"), and the defaults of what a stock org does not have. An org's
// mapping only lists what differs from the built-in one (DefaultSalesforceMapping): each field
// it names replaces that field's list, the rest is inherited.
type SalesforceMapping struct {
	// OrgID is the org's id (15 or 18 characters); a delivery naming it (orgId) uses this mapping.
	OrgID string `json:"org_id,omitempty"`
	// Sources are webhook sources ({source} of the route) whose deliveries use this mapping.
	Sources []string `json:"sources,omitempty"`
	// WonStages are the StageName values meaning closed-won (IsWon true always does).
	WonStages []string           `json:"won_stages,omitempty"`
	Defaults  SalesforceDefaults `json:"defaults"`
	// ServiceLineByProductCode and ServiceLineByFamily give a line's service line from its
	// product when no mapped field names one (keys match case-insensitively).
	ServiceLineByProductCode map[string]string `json:"service_line_by_product_code,omitempty"`
	ServiceLineByFamily      map[string]string `json:"service_line_by_family,omitempty"`
	// Opportunity fields are read from the change event's payload, Account fields from the
	// account object (opportunity "account"), Lines fields from each line item.
	Opportunity FieldMap `json:"opportunity,omitempty"`
	Account     FieldMap `json:"account,omitempty"`
	Lines       FieldMap `json:"lines,omitempty"`
}

// SalesforceDefaults fill what the event does not carry.
type SalesforceDefaults struct {
	// LegalEntity is the legal entity code of deals that name none (a stock org has no field).
	LegalEntity string `json:"legal_entity,omitempty"`
	// Currency is the deal currency of an org without multi-currency (no CurrencyIsoCode).
	Currency string `json:"currency,omitempty"`
	// ServiceLine of lines whose product maps to none; CONSULTING.
	ServiceLine string `json:"service_line,omitempty"`
	// BillingMethod of lines that name none; FIXED_FEE.
	BillingMethod string `json:"billing_method,omitempty"`
	// RevenueMethod of lines that name none; when empty it follows the billing method
	// (TIME_AND_MATERIALS → AS_DELIVERED, MILESTONE → MILESTONE, others → STRAIGHT_LINE).
	RevenueMethod string `json:"revenue_method,omitempty"`
	// TermMonths is the project length when neither the event nor the lines give an end; 12.
	TermMonths int `json:"term_months,omitempty"`
	// TaxRegion of accounts whose event carries neither a tax region nor a billing country.
	TaxRegion string `json:"tax_region,omitempty"`
}

// FieldMap maps a canonical field to the org's field names.
type FieldMap map[string]FieldNames

// FieldNames is one name ("Service_Line__c") or several to try in order.
type FieldNames []string

// UnmarshalJSON accepts a string or an array of strings.
func (f *FieldNames) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*f = FieldNames{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("a field mapping is a field name or a list of field names")
	}
	*f = many
	return nil
}

// Canonical field names of each part of the mapping.
var (
	opportunityFields = []string{"name", "amount", "currency", "close_date", "stage", "is_won", "owner_id", "owner_name",
		"legal_entity", "start_date", "end_date", "account", "account_id", "parent_accounts", "line_items"}
	accountFields = []string{"id", "name", "legal_name", "currency", "parent", "billing_street", "billing_city", "billing_state",
		"billing_postal_code", "billing_country", "tax_id", "tax_region", "tax_exempt", "exemption_certificate", "payment_terms_days"}
	lineFields = []string{"id", "service_line", "product_code", "product_name", "product_family", "description", "quantity",
		"unit_price", "total", "service_start", "service_end", "billing_method", "revenue_method", "budget_hours",
		"not_to_exceed", "expense_markup", "rate_card", "milestones"}
)

// DefaultSalesforceMapping reads a stock org (standard fields only) and, where present, the
// Accrue_*__c custom fields of Accrue's own Salesforce package.
func DefaultSalesforceMapping() *SalesforceMapping {
	return &SalesforceMapping{
		WonStages: []string{"Closed Won"},
		Defaults:  SalesforceDefaults{ServiceLine: "CONSULTING", BillingMethod: "FIXED_FEE", TermMonths: 12},
		ServiceLineByFamily: map[string]string{"Consulting": "CONSULTING", "Implementation": "IMPLEMENTATION",
			"Training": "TRAINING", "Managed Services": "MANAGED_SERVICES"},
		Opportunity: FieldMap{
			"name": {"Name"}, "amount": {"Amount"}, "currency": {"CurrencyIsoCode"}, "close_date": {"CloseDate"},
			"stage": {"StageName"}, "is_won": {"IsWon"},
			"owner_id":     {"Accrue_Project_Manager_Id__c", "OwnerId"},
			"owner_name":   {"Accrue_Project_Manager_Name__c", "Owner.Name"},
			"legal_entity": {"Accrue_Legal_Entity__c"},
			"start_date":   {"Accrue_Start_Date__c"}, "end_date": {"Accrue_End_Date__c"},
			"account": {"Account"}, "account_id": {"AccountId"}, "parent_accounts": {"ParentAccounts"},
			"line_items": {"OpportunityLineItems"},
		},
		Account: FieldMap{
			"id": {"Id"}, "name": {"Name"}, "legal_name": {"Accrue_Legal_Name__c"}, "currency": {"CurrencyIsoCode"},
			"parent":         {"Parent"},
			"billing_street": {"BillingStreet", "BillingAddress.Street"}, "billing_city": {"BillingCity", "BillingAddress.City"},
			"billing_state":       {"BillingStateCode", "BillingState", "BillingAddress.StateCode", "BillingAddress.State"},
			"billing_postal_code": {"BillingPostalCode", "BillingAddress.PostalCode"},
			"billing_country":     {"BillingCountryCode", "BillingCountry", "BillingAddress.CountryCode", "BillingAddress.Country"},
			"tax_id":              {"Accrue_Tax_Id__c"}, "tax_region": {"Accrue_Tax_Region__c"}, "tax_exempt": {"Accrue_Tax_Exempt__c"},
			"exemption_certificate": {"Accrue_Exemption_Certificate__c"}, "payment_terms_days": {"Accrue_Payment_Terms_Days__c"},
		},
		Lines: FieldMap{
			"id": {"Id"}, "service_line": {"Accrue_Service_Line__c"},
			"product_code":   {"ProductCode", "Product2.ProductCode", "PricebookEntry.Product2.ProductCode"},
			"product_name":   {"Product2.Name", "PricebookEntry.Product2.Name", "Name"},
			"product_family": {"Product2.Family", "PricebookEntry.Product2.Family"},
			"description":    {"Description"}, "quantity": {"Quantity"}, "unit_price": {"UnitPrice"}, "total": {"TotalPrice"},
			"service_start": {"Accrue_Service_Start__c", "ServiceDate"}, "service_end": {"Accrue_Service_End__c"},
			"billing_method": {"Accrue_Billing_Method__c"}, "revenue_method": {"Accrue_Revenue_Method__c"},
			"budget_hours": {"Accrue_Budget_Hours__c"}, "not_to_exceed": {"Accrue_Not_To_Exceed__c"},
			"expense_markup": {"Accrue_Expense_Markup_Percent__c"},
			"rate_card":      {"Accrue_Rate_Card__c"}, "milestones": {"Accrue_Milestones__c"},
		},
	}
}

// SalesforceMappings are the mappings of the orgs the gateway hears from, read once at start and
// read-only after: safe for concurrent use.
type SalesforceMappings struct {
	byOrg    map[string]*SalesforceMapping // first 15 characters of the org id
	bySource map[string]*SalesforceMapping
	fallback *SalesforceMapping
}

// salesforceMappingFile is the file's shape: {"default": {...}, "orgs": [{...}, ...]}.
type salesforceMappingFile struct {
	Default *SalesforceMapping  `json:"default"`
	Orgs    []SalesforceMapping `json:"orgs"`
}

// LoadSalesforceMappings reads the mapping file at path (JSON); an empty path means the built-in
// mapping for every delivery. Every mapping is checked here, so a bad file stops the start.
func LoadSalesforceMappings(path string) (*SalesforceMappings, error) {
	if path == "" {
		return ParseSalesforceMappings(nil)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("salesforce mapping: %w", err)
	}
	m, err := ParseSalesforceMappings(b)
	if err != nil {
		return nil, fmt.Errorf("salesforce mapping %s: %w", path, err)
	}
	return m, nil
}

// ParseSalesforceMappings reads a mapping file's content (nil: the built-in mapping only).
func ParseSalesforceMappings(b []byte) (*SalesforceMappings, error) {
	var f salesforceMappingFile
	if len(bytes.TrimSpace(b)) > 0 {
		d := json.NewDecoder(bytes.NewReader(b))
		d.DisallowUnknownFields()
		if err := d.Decode(&f); err != nil {
			return nil, fmt.Errorf("not a mapping file ({\"default\": {...}, \"orgs\": [...]}): %w", err)
		}
	}
	base := DefaultSalesforceMapping()
	if f.Default != nil {
		if f.Default.OrgID != "" || len(f.Default.Sources) > 0 {
			return nil, errors.New("default: org_id and sources belong to the orgs' mappings")
		}
		base = merge(base, f.Default)
	}
	if err := base.validate(); err != nil {
		return nil, fmt.Errorf("default: %w", err)
	}
	out := &SalesforceMappings{byOrg: map[string]*SalesforceMapping{}, bySource: map[string]*SalesforceMapping{}, fallback: base}
	for i := range f.Orgs {
		o := &f.Orgs[i]
		m := merge(base, o)
		name := fmt.Sprintf("orgs[%d]", i)
		if err := m.validate(); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if o.OrgID == "" && len(o.Sources) == 0 {
			return nil, fmt.Errorf("%s: an org mapping needs an org_id or sources", name)
		}
		if o.OrgID != "" {
			if !orgIDPattern.MatchString(o.OrgID) {
				return nil, fmt.Errorf("%s: org_id %q is not a Salesforce org id (15 or 18 letters and digits)", name, o.OrgID)
			}
			if _, dup := out.byOrg[o.OrgID[:15]]; dup {
				return nil, fmt.Errorf("%s: org %s is mapped twice", name, o.OrgID)
			}
			out.byOrg[o.OrgID[:15]] = m
		}
		for _, s := range o.Sources {
			if _, dup := out.bySource[s]; dup || s == "" {
				return nil, fmt.Errorf("%s: source %q is empty or mapped twice", name, s)
			}
			out.bySource[s] = m
		}
	}
	return out, nil
}

// For returns the mapping of a delivery: the org the event names, else its webhook source's,
// else the default.
func (ms *SalesforceMappings) For(source, orgID string) *SalesforceMapping {
	if ms == nil {
		return DefaultSalesforceMapping()
	}
	if len(orgID) >= 15 {
		if m, ok := ms.byOrg[orgID[:15]]; ok {
			return m
		}
	}
	if m, ok := ms.bySource[source]; ok {
		return m
	}
	return ms.fallback
}

// merge returns base overridden by o: each field o maps replaces base's list, each default o
// sets replaces base's, the product tables are merged key by key.
func merge(base, o *SalesforceMapping) *SalesforceMapping {
	m := *base
	m.OrgID, m.Sources = o.OrgID, o.Sources
	if len(o.WonStages) > 0 {
		m.WonStages = o.WonStages
	}
	d, od := &m.Defaults, o.Defaults
	for _, p := range []struct {
		dst *string
		src string
	}{{&d.LegalEntity, od.LegalEntity}, {&d.Currency, od.Currency},
		{&d.ServiceLine, od.ServiceLine}, {&d.BillingMethod, od.BillingMethod}, {&d.RevenueMethod, od.RevenueMethod},
		{&d.TaxRegion, od.TaxRegion}} {
		if p.src != "" {
			*p.dst = p.src
		}
	}
	if od.TermMonths != 0 {
		d.TermMonths = od.TermMonths
	}
	m.ServiceLineByProductCode = mergeMap(base.ServiceLineByProductCode, o.ServiceLineByProductCode)
	m.ServiceLineByFamily = mergeMap(base.ServiceLineByFamily, o.ServiceLineByFamily)
	m.Opportunity = mergeMap(base.Opportunity, o.Opportunity)
	m.Account = mergeMap(base.Account, o.Account)
	m.Lines = mergeMap(base.Lines, o.Lines)
	return &m
}

func mergeMap[V any](base, over map[string]V) map[string]V {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]V{}
	}
	maps.Copy(out, over)
	return out
}

var (
	orgIDPattern       = regexp.MustCompile(`^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$`)
	legalEntityPattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9_-]{1,15}$`)
	serviceLinePattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$`)
	taxRegionPattern   = regexp.MustCompile(`^[A-Z]{2}(-[A-Z0-9]{1,3})?$`)
	fieldNamePattern   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$`)
)

func (m *SalesforceMapping) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for _, part := range []struct {
		name  string
		m     FieldMap
		known []string
	}{{"opportunity", m.Opportunity, opportunityFields}, {"account", m.Account, accountFields}, {"lines", m.Lines, lineFields}} {
		for _, k := range slices.Sorted(maps.Keys(part.m)) {
			if !slices.Contains(part.known, k) {
				bad("%s.%s is not a canonical field (%s)", part.name, k, strings.Join(part.known, ", "))
			}
			for _, f := range part.m[k] {
				if !fieldNamePattern.MatchString(f) {
					bad("%s.%s: %q is not a field name or a dotted relationship path", part.name, k, f)
				}
			}
		}
	}
	d := m.Defaults
	if d.LegalEntity != "" && !legalEntityPattern.MatchString(d.LegalEntity) {
		bad("defaults.legal_entity %q is not a legal entity code", d.LegalEntity)
	}
	if d.Currency != "" && !money.KnownCurrency(d.Currency) {
		bad("defaults.currency %q is not an ISO 4217 currency", d.Currency)
	}
	if d.TaxRegion != "" && !taxRegionPattern.MatchString(d.TaxRegion) {
		bad("defaults.tax_region %q is not a tax region (US, US-TX)", d.TaxRegion)
	}
	if d.TermMonths < 1 || d.TermMonths > 120 {
		bad("defaults.term_months %d is not between 1 and 120", d.TermMonths)
	}
	if n, err := enumName("BILLING_METHOD_", d.BillingMethod, billingv1.BillingMethod_value, "defaults.billing_method"); err != nil || n == 0 {
		bad("defaults.billing_method %q is not a billing method", d.BillingMethod)
	}
	if n, err := enumName("REVENUE_METHOD_", d.RevenueMethod, billingv1.RevenueMethod_value, "defaults.revenue_method"); err != nil || (n == 0 && d.RevenueMethod != "") {
		bad("defaults.revenue_method %q is not a revenue method", d.RevenueMethod)
	}
	lines := map[string]string{"defaults.service_line": d.ServiceLine}
	for k, v := range m.ServiceLineByProductCode {
		lines["service_line_by_product_code."+k] = v
	}
	for k, v := range m.ServiceLineByFamily {
		lines["service_line_by_family."+k] = v
	}
	for _, k := range slices.Sorted(maps.Keys(lines)) {
		if !serviceLinePattern.MatchString(lines[k]) {
			bad("%s %q is not a service line code (CONSULTING)", k, lines[k])
		}
	}
	if len(m.WonStages) == 0 {
		bad("won_stages is empty")
	}
	return errors.Join(errs...)
}
