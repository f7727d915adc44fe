package translate

import (
	"strings"
	"time"

	"github.com/shopspring/decimal"

	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
)

// maxParents is how many parent accounts the contract takes.
const maxParents = 4

// pick returns the first present value among the field names fm maps key to, read from obj, and
// the name it came from (the first candidate when none is present, for error messages).
func pick(fm FieldMap, key string, obj map[string]any) (any, string) {
	names := fm[key]
	for _, name := range names {
		if v := at(obj, name); present(v) {
			return v, name
		}
	}
	if len(names) > 0 {
		return nil, names[0]
	}
	return nil, key
}

func present(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case string:
		return strings.TrimSpace(t) != ""
	}
	return true
}

// pickText is pick for a text value.
func pickText(fm FieldMap, key string, obj map[string]any) string {
	v, _ := pick(fm, key, obj)
	return text(v)
}

// opportunity maps a closed-won payload to the canonical opportunity. What the payload lacks
// comes from the mapping's defaults: the currency, the legal entity, the project dates (the
// lines' service dates or CloseDate; the end term_months later), and when there are no line
// items one line of the whole Amount with the default service line.
func (m *SalesforceMapping) opportunity(crm, id string, version int64, p map[string]any) (*projectv1.Opportunity, error) {
	opp := &projectv1.Opportunity{CrmSystem: crm, OpportunityId: id, Version: version,
		Name: pickText(m.Opportunity, "name", p), ManagerId: pickText(m.Opportunity, "owner_id", p),
		ManagerName: pickText(m.Opportunity, "owner_name", p), LegalEntityCode: pickText(m.Opportunity, "legal_entity", p)}
	if opp.Name == "" {
		_, name := pick(m.Opportunity, "name", p)
		return nil, malformed("%s: the opportunity name is missing (an UPDATE event carries only the changed fields: "+
			"enrich the change event channel with the deal fields)", name)
	}
	if opp.LegalEntityCode == "" {
		opp.LegalEntityCode = m.Defaults.LegalEntity
	}
	cur := pickText(m.Opportunity, "currency", p)
	if cur == "" {
		cur = m.Defaults.Currency
	}
	if cur == "" {
		_, name := pick(m.Opportunity, "currency", p)
		return nil, malformed("%s: the deal has no currency and the org's mapping no defaults.currency", name)
	}
	var err error
	items, itemsName := pick(m.Opportunity, "line_items", p)
	raw, ok := list(items)
	if !ok {
		return nil, malformed("%s is not a list of line items", itemsName)
	}
	if len(raw) > 100 {
		return nil, malformed("%s: %d line items; at most 100", itemsName, len(raw))
	}
	sum := decimal.Zero
	for i, it := range raw {
		item := object(it)
		if item == nil {
			return nil, malformed("%s[%d] is not an object", itemsName, i)
		}
		l, total, err := m.line(i, itemsName, item, cur)
		if err != nil {
			return nil, err
		}
		sum = sum.Add(total)
		opp.ServiceLines = append(opp.ServiceLines, l)
	}
	amount, amountName := pick(m.Opportunity, "amount", p)
	if opp.Amount, err = moneyValue(amount, cur, amountName); err != nil {
		return nil, err
	}
	switch {
	case opp.Amount == nil && len(raw) == 0:
		return nil, malformed("%s: the deal has neither an amount nor line items", amountName)
	case opp.Amount == nil:
		opp.Amount = moneyOfDecimal(sum, cur)
	case len(raw) == 0:
		opp.ServiceLines = []*projectv1.OpportunityServiceLine{m.wholeDealLine(opp)}
	}
	if err := m.dates(opp, p); err != nil {
		return nil, err
	}
	if opp.Account, opp.ParentAccounts, err = m.accounts(p); err != nil {
		return nil, err
	}
	return opp, nil
}

// wholeDealLine is the one line of a deal without line items: its whole amount, the default
// service line and billing.
func (m *SalesforceMapping) wholeDealLine(opp *projectv1.Opportunity) *projectv1.OpportunityServiceLine {
	bm, rm, _ := m.methods("", "", "")
	return &projectv1.OpportunityServiceLine{LineKey: opp.GetOpportunityId(), ServiceLine: m.Defaults.ServiceLine,
		Description: opp.GetName(), Amount: opp.GetAmount(), BillingMethod: bm, RevenueMethod: rm}
}

// dates sets the project's start and end: mapped fields, else the earliest line service start
// (or CloseDate) and the latest line service end (or term_months after the start); straight-line
// lines without a service period get the project's.
func (m *SalesforceMapping) dates(opp *projectv1.Opportunity, p map[string]any) error {
	var err error
	for _, d := range []struct {
		key string
		dst **commonv1.Date
	}{{"start_date", &opp.StartDate}, {"end_date", &opp.EndDate}} {
		v, name := pick(m.Opportunity, d.key, p)
		if *d.dst, err = civilDate(v, name); err != nil {
			return err
		}
	}
	if opp.StartDate == nil {
		for _, l := range opp.ServiceLines {
			if s := l.GetServiceStart(); s != nil && (opp.StartDate == nil || before(s, opp.StartDate)) {
				opp.StartDate = s
			}
		}
	}
	if opp.StartDate == nil {
		v, name := pick(m.Opportunity, "close_date", p)
		if opp.StartDate, err = civilDate(v, name); err != nil {
			return err
		}
	}
	if opp.StartDate == nil {
		_, name := pick(m.Opportunity, "close_date", p)
		return malformed("%s: the deal has no start date (no mapped start date, line service date or close date)", name)
	}
	if opp.EndDate == nil {
		for _, l := range opp.ServiceLines {
			if e := l.GetServiceEnd(); e != nil && (opp.EndDate == nil || before(opp.EndDate, e)) {
				opp.EndDate = e
			}
		}
	}
	if opp.EndDate == nil {
		s := opp.StartDate
		end := time.Date(int(s.GetYear()), time.Month(s.GetMonth()), int(s.GetDay()), 0, 0, 0, 0, time.UTC).
			AddDate(0, m.Defaults.TermMonths, -1)
		opp.EndDate = dateOfTime(end)
	}
	for _, l := range opp.ServiceLines {
		if l.GetRevenueMethod() == straightLine {
			if l.ServiceStart == nil {
				l.ServiceStart = opp.StartDate
			}
			if l.ServiceEnd == nil {
				l.ServiceEnd = opp.EndDate
			}
		}
	}
	return nil
}

func before(a, b *commonv1.Date) bool {
	return a.GetYear() < b.GetYear() || a.GetYear() == b.GetYear() &&
		(a.GetMonth() < b.GetMonth() || a.GetMonth() == b.GetMonth() && a.GetDay() < b.GetDay())
}

// accounts reads the account (the mapped account object, or only its id from AccountId) and its
// parents (a mapped list of accounts, else the account's Parent relationship, nearest first).
func (m *SalesforceMapping) accounts(p map[string]any) (*projectv1.Account, []*projectv1.Account, error) {
	accV, accName := pick(m.Opportunity, "account", p)
	obj := object(accV)
	if accV != nil && obj == nil {
		return nil, nil, malformed("%s is not an account object", accName)
	}
	acc, err := m.account(obj, accName)
	if err != nil {
		return nil, nil, err
	}
	if acc.AccountId == "" {
		acc.AccountId = pickText(m.Opportunity, "account_id", p)
	}
	if acc.AccountId == "" {
		_, name := pick(m.Opportunity, "account_id", p)
		return nil, nil, malformed("%s: the opportunity names no account", name)
	}
	if acc.Name == "" {
		acc.Name = acc.AccountId // a stock change event carries only AccountId
	}
	var parents []*projectv1.Account
	listV, listName := pick(m.Opportunity, "parent_accounts", p)
	raw, ok := list(listV)
	if !ok {
		return nil, nil, malformed("%s is not a list of accounts", listName)
	}
	if len(raw) == 0 {
		for parent, i := object(pickValue(m.Account, "parent", obj)), 0; parent != nil && i < maxParents; i++ {
			raw = append(raw, parent)
			parent = object(pickValue(m.Account, "parent", parent))
		}
	}
	for i, r := range raw {
		if i == maxParents {
			break
		}
		pa, err := m.account(object(r), fieldf("%s[%d]", listName, i))
		if err != nil {
			return nil, nil, err
		}
		if pa.AccountId == "" {
			return nil, nil, malformed("%s[%d]: a parent account needs an id", listName, i)
		}
		if pa.Name == "" {
			pa.Name = pa.AccountId
		}
		parents = append(parents, pa)
	}
	return acc, parents, nil
}

func pickValue(fm FieldMap, key string, obj map[string]any) any {
	v, _ := pick(fm, key, obj)
	return v
}

// account maps an account object (nil: an empty account). The tax region is the mapped one, else
// the billing country (and state code: US-TX), else the mapping's default.
func (m *SalesforceMapping) account(a map[string]any, path string) (*projectv1.Account, error) {
	f := func(key string) string { return pickText(m.Account, key, a) }
	acc := &projectv1.Account{AccountId: f("id"), Name: f("name"), LegalName: f("legal_name"), CurrencyCode: f("currency")}
	country, state := strings.ToUpper(f("billing_country")), strings.ToUpper(f("billing_state"))
	if !isCode(country, 2, 2) {
		country = "" // a country name ("United States"), not its ISO code
	}
	if street, city := f("billing_street"), f("billing_city"); street != "" || city != "" || country != "" {
		acc.BillingAddress = &projectv1.AccountAddress{Line1: street, City: city, Region: f("billing_state"),
			PostalCode: f("billing_postal_code"), CountryCode: country}
	}
	if v, name := pick(m.Account, "payment_terms_days", a); v != nil {
		d, _, err := number(v, path+"."+name)
		if err != nil || !d.IsInteger() || d.IsNegative() || d.GreaterThan(decimal.NewFromInt(365)) {
			return nil, malformed("%s.%s: %q is not a whole number of days (0 to 365)", path, name, clip(text(v)))
		}
		days := int32(d.IntPart())
		acc.PaymentTermsDays = &days
	}
	exempt, _ := flag(pickValue(m.Account, "tax_exempt", a))
	region := f("tax_region")
	if region == "" && country != "" {
		region = country
		if isCode(state, 1, 3) {
			region += "-" + state
		}
	}
	if region == "" {
		region = m.Defaults.TaxRegion
	}
	if taxID := f("tax_id"); taxID != "" || region != "" || exempt {
		acc.TaxProfile = &projectv1.AccountTaxProfile{TaxId: taxID, TaxRegion: region, Exempt: exempt,
			ExemptionCertificateRef: f("exemption_certificate")}
	}
	return acc, nil
}

// isCode reports whether s is min to max upper-case letters or digits (an ISO code).
func isCode(s string, minLen, maxLen int) bool {
	if len(s) < minLen || len(s) > maxLen {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
