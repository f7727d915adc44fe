package translate

import (
	"maps"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	projectv1 "github.com/accrue/accrue/gen/go/accrue/project/v1"
	"github.com/accrue/accrue/internal/platform/money"
)

const straightLine = billingv1.RevenueMethod_REVENUE_METHOD_STRAIGHT_LINE

// line maps one line item (an OpportunityLineItem) and returns it with its total: TotalPrice,
// else Quantity × UnitPrice rounded to the currency's minor unit.
func (m *SalesforceMapping) line(i int, listName string, item map[string]any, cur string) (*projectv1.OpportunityServiceLine, decimal.Decimal, error) {
	path := fieldf("%s[%d]", listName, i)
	get := func(key string) (any, string) {
		v, name := pick(m.Lines, key, item)
		return v, path + "." + name
	}
	txt := func(key string) string { return pickText(m.Lines, key, item) }
	sl := &projectv1.OpportunityServiceLine{LineKey: txt("id"), Description: txt("description"),
		ServiceLine: m.serviceLine(txt("service_line"), txt("product_code"), txt("product_family")),
		BudgetHours: txt("budget_hours"), ExpenseMarkupPercent: txt("expense_markup")}
	if sl.LineKey == "" {
		sl.LineKey = fieldf("LINE-%d", i+1)
	}
	if sl.Description == "" {
		sl.Description = txt("product_name")
	}
	v, name := get("total")
	total, ok, err := number(v, name)
	if err != nil {
		return nil, decimal.Zero, err
	}
	if !ok {
		qv, qName := get("quantity")
		pv, pName := get("unit_price")
		q, qok, err := number(qv, qName)
		if err != nil {
			return nil, decimal.Zero, err
		}
		price, pok, err := number(pv, pName)
		if err != nil {
			return nil, decimal.Zero, err
		}
		if !qok || !pok {
			return nil, decimal.Zero, malformed("%s has no total (%s) nor quantity and unit price", path, name)
		}
		total = money.Amount{Value: price, Currency: cur}.Mul(q).Value
	}
	sl.Amount = moneyOfDecimal(total, cur)
	if v, name = get("not_to_exceed"); v != nil {
		if sl.NotToExceed, err = moneyValue(v, cur, name); err != nil {
			return nil, decimal.Zero, err
		}
	}
	if sl.BillingMethod, sl.RevenueMethod, err = m.methods(txt("billing_method"), txt("revenue_method"), path); err != nil {
		return nil, decimal.Zero, err
	}
	v, name = get("service_start")
	if sl.ServiceStart, err = civilDate(v, name); err != nil {
		return nil, decimal.Zero, err
	}
	v, name = get("service_end")
	if sl.ServiceEnd, err = civilDate(v, name); err != nil {
		return nil, decimal.Zero, err
	}
	if err := rateCard(sl, get, cur); err != nil {
		return nil, decimal.Zero, err
	}
	if err := milestones(sl, get, cur); err != nil {
		return nil, decimal.Zero, err
	}
	return sl, total, nil
}

// serviceLine is the mapped field's value (upper snake case), else the product code's or the
// product family's service line, else the default.
func (m *SalesforceMapping) serviceLine(field, code, family string) string {
	if s := roleOf(field); s != "" {
		return s
	}
	if s, ok := lookupFold(m.ServiceLineByProductCode, code); ok {
		return s
	}
	if s, ok := lookupFold(m.ServiceLineByFamily, family); ok {
		return s
	}
	return m.Defaults.ServiceLine
}

// lookupFold looks key up exactly, then case-insensitively in sorted key order.
func lookupFold(tbl map[string]string, key string) (string, bool) {
	if key == "" {
		return "", false
	}
	if v, ok := tbl[key]; ok {
		return v, true
	}
	for _, k := range slices.Sorted(maps.Keys(tbl)) {
		if strings.EqualFold(k, key) {
			return tbl[k], true
		}
	}
	return "", false
}

// methods reads a line's billing and revenue methods, defaulting from the mapping; the revenue
// method follows the billing method when neither the line nor the mapping names one.
func (m *SalesforceMapping) methods(billing, revenue, path string) (billingv1.BillingMethod, billingv1.RevenueMethod, error) {
	if billing == "" {
		billing = m.Defaults.BillingMethod
	}
	if revenue == "" {
		revenue = m.Defaults.RevenueMethod
	}
	bm, err := enumName("BILLING_METHOD_", billing, billingv1.BillingMethod_value, path+" billing method")
	if err != nil {
		return 0, 0, err
	}
	rm, err := enumName("REVENUE_METHOD_", revenue, billingv1.RevenueMethod_value, path+" revenue method")
	if err != nil {
		return 0, 0, err
	}
	b, r := billingv1.BillingMethod(bm), billingv1.RevenueMethod(rm)
	if r == billingv1.RevenueMethod_REVENUE_METHOD_UNSPECIFIED {
		switch b {
		case billingv1.BillingMethod_BILLING_METHOD_TIME_AND_MATERIALS:
			r = billingv1.RevenueMethod_REVENUE_METHOD_AS_DELIVERED
		case billingv1.BillingMethod_BILLING_METHOD_MILESTONE:
			r = billingv1.RevenueMethod_REVENUE_METHOD_MILESTONE
		default:
			r = straightLine
		}
	}
	return b, r, nil
}

// rateCard reads the line's rate card: a list (or a JSON array in a long text field) of
// {Role, Rate, From, To}.
func rateCard(sl *projectv1.OpportunityServiceLine, get func(string) (any, string), cur string) error {
	v, name := get("rate_card")
	entries, ok := list(v)
	if !ok || len(entries) > 200 {
		return malformed("%s is not a list of at most 200 rates {Role, Rate, From, To}", name)
	}
	for j, raw := range entries {
		e, p := object(raw), fieldf("%s[%d]", name, j)
		if e == nil {
			return malformed("%s is not a rate {Role, Rate, From, To}", p)
		}
		entry := &billingv1.RateCardEntry{Role: text(field(e, "Role"))}
		var err error
		if entry.BillRate, err = moneyValue(field(e, "Rate"), cur, p+".Rate"); err != nil {
			return err
		}
		if entry.EffectiveFrom, err = civilDate(field(e, "From"), p+".From"); err != nil {
			return err
		}
		if entry.EffectiveTo, err = civilDate(field(e, "To"), p+".To"); err != nil {
			return err
		}
		sl.RateCard = append(sl.RateCard, entry)
	}
	return nil
}

// milestones reads the line's milestones: a list (or a JSON array in a long text field) of
// {Key, Name, Amount, DueDate}.
func milestones(sl *projectv1.OpportunityServiceLine, get func(string) (any, string), cur string) error {
	v, name := get("milestones")
	entries, ok := list(v)
	if !ok || len(entries) > 100 {
		return malformed("%s is not a list of at most 100 milestones {Key, Name, Amount, DueDate}", name)
	}
	for j, raw := range entries {
		e, p := object(raw), fieldf("%s[%d]", name, j)
		if e == nil {
			return malformed("%s is not a milestone {Key, Name, Amount, DueDate}", p)
		}
		ms := &billingv1.Milestone{Key: text(field(e, "Key")), Name: text(field(e, "Name"))}
		var err error
		if ms.Amount, err = moneyValue(field(e, "Amount"), cur, p+".Amount"); err != nil {
			return err
		}
		if ms.DueDate, err = civilDate(field(e, "DueDate"), p+".DueDate"); err != nil {
			return err
		}
		sl.Milestones = append(sl.Milestones, ms)
	}
	return nil
}
