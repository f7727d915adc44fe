// Package wire converts between the billing domain and its protobuf contract, for the gRPC API
// and for the events the service publishes.
package wire

import (
	"fmt"

	"github.com/shopspring/decimal"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/civil/civilpb"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
)

var policies = map[legalentity.ClosedPeriodPolicy]billingv1.ClosedPeriodPolicy{
	legalentity.Reject:      billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT,
	legalentity.RollForward: billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_ROLL_FORWARD,
}

// LegalEntityInput converts a contract input.
func LegalEntityInput(p *billingv1.LegalEntityInput) legalentity.Details {
	d := legalentity.Details{Code: p.GetCode(), Name: p.GetName(), FunctionalCurrency: p.GetFunctionalCurrency(),
		TaxRegistration: p.GetTaxRegistration(), CountryCode: p.GetCountryCode()}
	for k, v := range policies {
		if v == p.GetClosedPeriodPolicy() {
			d.Policy = k
		}
	}
	return d
}

// LegalEntity converts a stored legal entity.
func LegalEntity(le legalentity.LegalEntity) *billingv1.LegalEntity {
	return &billingv1.LegalEntity{LegalEntityId: le.ID, Code: le.Code, Name: le.Name,
		FunctionalCurrency: le.FunctionalCurrency, TaxRegistration: le.TaxRegistration,
		CountryCode: le.CountryCode, ClosedPeriodPolicy: policies[le.Policy], Version: le.Version,
		CreateTime: timestamppb.New(le.CreatedAt)}
}

var billingMethods = map[contract.BillingMethod]billingv1.BillingMethod{
	contract.TimeAndMaterials: billingv1.BillingMethod_BILLING_METHOD_TIME_AND_MATERIALS,
	contract.FixedFee:         billingv1.BillingMethod_BILLING_METHOD_FIXED_FEE,
	contract.MilestoneBilling: billingv1.BillingMethod_BILLING_METHOD_MILESTONE,
	contract.Retainer:         billingv1.BillingMethod_BILLING_METHOD_RETAINER,
}

var revenueMethods = map[contract.RevenueMethod]billingv1.RevenueMethod{
	contract.AsDelivered:      billingv1.RevenueMethod_REVENUE_METHOD_AS_DELIVERED,
	contract.PercentComplete:  billingv1.RevenueMethod_REVENUE_METHOD_PERCENT_COMPLETE,
	contract.MilestoneRevenue: billingv1.RevenueMethod_REVENUE_METHOD_MILESTONE,
	contract.StraightLine:     billingv1.RevenueMethod_REVENUE_METHOD_STRAIGHT_LINE,
}

// amount parses a contract Money that must fit the currency's minor unit; field names the
// request field.
func amount(m *commonv1.Money, field string) (money.Amount, error) {
	return money.ParseExact(m.GetAmount(), m.GetCurrencyCode(), field)
}

// rate parses a bill rate, which may be finer than the minor unit (e.g. 112.125 per hour).
func rate(m *commonv1.Money, field string) (money.Amount, error) {
	return money.Parse(m.GetAmount(), m.GetCurrencyCode(), field)
}

func date(d *commonv1.Date, field string) (civil.Date, error) { return civilpb.From(d, field) }

// Terms converts a contract input; field paths in errors are relative to "contract".
func Terms(p *billingv1.ContractInput) (contract.Terms, error) {
	t := contract.Terms{CustomerID: p.GetCustomerId(), LegalEntityID: p.GetLegalEntityId(), Name: p.GetName(), Currency: p.GetCurrencyCode(),
		PaymentTermsCode: p.GetPaymentTermsCode(), LineGrouping: lineGroupingOf(p.GetLineGrouping())}
	var err error
	if t.Start, err = date(p.GetStartDate(), "contract.start_date"); err != nil {
		return t, err
	}
	if t.End, err = date(p.GetEndDate(), "contract.end_date"); err != nil {
		return t, err
	}
	for i, pl := range p.GetLines() {
		l, err := Line(pl, fmt.Sprintf("contract.lines[%d]", i))
		if err != nil {
			return t, err
		}
		t.Lines = append(t.Lines, l)
	}
	return t, nil
}

// Line converts a contract line.
func Line(pl *billingv1.ContractLine, path string) (contract.Line, error) {
	l := contract.Line{Key: pl.GetLineKey(), ServiceLine: pl.GetServiceLine(), Description: pl.GetDescription()}
	for k, v := range billingMethods {
		if v == pl.GetBillingMethod() {
			l.Billing = k
		}
	}
	for k, v := range revenueMethods {
		if v == pl.GetRevenueMethod() {
			l.Revenue = k
		}
	}
	var err error
	if l.Amount, err = amount(pl.GetAmount(), path+".amount"); err != nil {
		return l, err
	}
	if pl.GetNotToExceed() != nil {
		nte, err := amount(pl.GetNotToExceed(), path+".not_to_exceed")
		if err != nil {
			return l, err
		}
		l.NotToExceed = &nte
	}
	for j, e := range pl.GetRateCard() {
		ep := fmt.Sprintf("%s.rate_card[%d]", path, j)
		r := contract.RateEntry{Role: e.GetRole()}
		if r.Rate, err = rate(e.GetBillRate(), ep+".bill_rate"); err != nil {
			return l, err
		}
		if r.From, err = date(e.GetEffectiveFrom(), ep+".effective_from"); err != nil {
			return l, err
		}
		if r.To, err = date(e.GetEffectiveTo(), ep+".effective_to"); err != nil {
			return l, err
		}
		l.RateCard = append(l.RateCard, r)
	}
	if l.ServiceStart, err = date(pl.GetServiceStart(), path+".service_start"); err != nil {
		return l, err
	}
	if l.ServiceEnd, err = date(pl.GetServiceEnd(), path+".service_end"); err != nil {
		return l, err
	}
	for j, m := range pl.GetMilestones() {
		mp := fmt.Sprintf("%s.milestones[%d]", path, j)
		ms := contract.Milestone{Key: m.GetKey(), Name: m.GetName()}
		if ms.Amount, err = amount(m.GetAmount(), mp+".amount"); err != nil {
			return l, err
		}
		if ms.Due, err = date(m.GetDueDate(), mp+".due_date"); err != nil {
			return l, err
		}
		l.Milestones = append(l.Milestones, ms)
	}
	for j, e := range pl.GetBillingSchedule() {
		ep := fmt.Sprintf("%s.billing_schedule[%d]", path, j)
		var se contract.ScheduleEntry
		if se.Date, err = date(e.GetDate(), ep+".date"); err != nil {
			return l, err
		}
		if se.Amount, err = amount(e.GetAmount(), ep+".amount"); err != nil {
			return l, err
		}
		l.Schedule = append(l.Schedule, se)
	}
	if s := pl.GetExpenseMarkupPercent(); s != "" {
		d, err := decimal.NewFromString(s)
		if err != nil {
			return l, err
		}
		l.ExpenseMarkup = &d
	}
	return l, nil
}

// MoneyProto converts an amount, written with its currency's minor-unit digits.
func MoneyProto(a money.Amount) *commonv1.Money { return moneyProto(a) }

func moneyProto(a money.Amount) *commonv1.Money {
	return &commonv1.Money{Amount: a.Format(), CurrencyCode: a.Currency}
}

// rateProto formats a rate with at least the currency's minor-unit digits, keeping finer ones.
func rateProto(a money.Amount) *commonv1.Money {
	exp, _ := money.Exponent(a.Currency)
	s := a.Value.String()
	if -a.Value.Exponent() < exp {
		s = a.Value.StringFixed(exp)
	}
	return &commonv1.Money{Amount: s, CurrencyCode: a.Currency}
}

var lineGroupings = map[contract.LineGrouping]billingv1.LineGrouping{
	contract.PerEntry:    billingv1.LineGrouping_LINE_GROUPING_PER_ENTRY,
	contract.PerResource: billingv1.LineGrouping_LINE_GROUPING_PER_RESOURCE,
	contract.PerRole:     billingv1.LineGrouping_LINE_GROUPING_PER_ROLE,
	contract.PerTask:     billingv1.LineGrouping_LINE_GROUPING_PER_TASK,
}

// lineGroupingOf converts a line grouping (unset: per entry).
func lineGroupingOf(g billingv1.LineGrouping) contract.LineGrouping {
	for k, v := range lineGroupings {
		if v == g {
			return k
		}
	}
	return contract.PerEntry
}

// Contract converts a contract version.
func Contract(c contract.Contract) *billingv1.Contract {
	p := &billingv1.Contract{
		ContractId: c.ID, Version: c.Version, CustomerId: c.CustomerID, LegalEntityId: c.LegalEntityID,
		Name: c.Name, CurrencyCode: c.Currency, StartDate: civilpb.To(c.Start), EndDate: civilpb.To(c.End),
		TotalAmount:       moneyProto(c.Total()),
		ExternalReference: &commonv1.ExternalReference{System: c.Ref.System, ObjectType: c.Ref.ObjectType, ExternalId: c.Ref.ExternalID},
		SourceVersion:     c.SourceVersion, ChangeReason: c.ChangeReason,
		CreateTime: timestamppb.New(c.CreatedAt), VersionTime: timestamppb.New(c.VersionAt), PaymentTermsCode: c.PaymentTermsCode,
		LineGrouping: lineGroupings[c.LineGrouping],
	}
	for _, l := range c.Lines {
		pl := &billingv1.ContractLine{LineKey: l.Key, ServiceLine: l.ServiceLine, Description: l.Description,
			BillingMethod: billingMethods[l.Billing], Amount: moneyProto(l.Amount), RevenueMethod: revenueMethods[l.Revenue],
			ServiceStart: civilpb.To(l.ServiceStart), ServiceEnd: civilpb.To(l.ServiceEnd)}
		if l.NotToExceed != nil {
			pl.NotToExceed = moneyProto(*l.NotToExceed)
		}
		for _, e := range l.RateCard {
			pl.RateCard = append(pl.RateCard, &billingv1.RateCardEntry{Role: e.Role, BillRate: rateProto(e.Rate),
				EffectiveFrom: civilpb.To(e.From), EffectiveTo: civilpb.To(e.To)})
		}
		for _, m := range l.Milestones {
			pl.Milestones = append(pl.Milestones, &billingv1.Milestone{Key: m.Key, Name: m.Name, Amount: moneyProto(m.Amount), DueDate: civilpb.To(m.Due)})
		}
		for _, e := range l.Schedule {
			pl.BillingSchedule = append(pl.BillingSchedule, &billingv1.BillingScheduleEntry{Date: civilpb.To(e.Date), Amount: moneyProto(e.Amount)})
		}
		if l.ExpenseMarkup != nil {
			pl.ExpenseMarkupPercent = l.ExpenseMarkup.String()
		}
		p.Lines = append(p.Lines, pl)
	}
	return p
}

var outcomes = map[contract.Outcome]billingv1.ContractOutcome{
	contract.Created:      billingv1.ContractOutcome_CONTRACT_OUTCOME_CREATED,
	contract.Amended:      billingv1.ContractOutcome_CONTRACT_OUTCOME_AMENDED,
	contract.Unchanged:    billingv1.ContractOutcome_CONTRACT_OUTCOME_UNCHANGED,
	contract.IgnoredStale: billingv1.ContractOutcome_CONTRACT_OUTCOME_IGNORED_STALE,
}

// ContractOutcome converts what an upsert did.
func ContractOutcome(o contract.Outcome) billingv1.ContractOutcome { return outcomes[o] }

// ExternalRef converts a contract's reference in its source system.
func ExternalRef(r *commonv1.ExternalReference) contract.ExternalRef {
	return contract.ExternalRef{System: r.GetSystem(), ObjectType: r.GetObjectType(), ExternalID: r.GetExternalId()}
}

// ContractSnapshot decodes a contract version stored, before the store kept its own row format,
// as a marshalled Contract (see store.ConvertLegacySnapshots).
func ContractSnapshot(b []byte) (contract.Contract, error) {
	var p billingv1.Contract
	if err := proto.Unmarshal(b, &p); err != nil {
		return contract.Contract{}, err
	}
	in := &billingv1.ContractInput{CustomerId: p.GetCustomerId(), LegalEntityId: p.GetLegalEntityId(), Name: p.GetName(),
		CurrencyCode: p.GetCurrencyCode(), StartDate: p.GetStartDate(), EndDate: p.GetEndDate(), Lines: p.GetLines()}
	t, err := Terms(in)
	if err != nil {
		return contract.Contract{}, err
	}
	return contract.Contract{ID: p.GetContractId(), Version: p.GetVersion(), Terms: t, Ref: ExternalRef(p.GetExternalReference()),
		SourceVersion: p.GetSourceVersion(), ChangeReason: p.GetChangeReason(),
		CreatedAt: p.GetCreateTime().AsTime(), VersionAt: p.GetVersionTime().AsTime()}, nil
}

// CompleteMilestoneResponse converts a milestone completion and whether this request made it.
func CompleteMilestoneResponse(c contract.Completion, created bool) *billingv1.CompleteMilestoneResponse {
	return &billingv1.CompleteMilestoneResponse{NewlyCompleted: created, Completion: &billingv1.MilestoneCompletion{ContractId: c.ContractID,
		LineKey: c.LineKey, MilestoneKey: c.MilestoneKey, CompletedOn: civilpb.To(c.CompletedOn), CompletedBy: c.CompletedBy,
		RecordTime: timestamppb.New(c.RecordedAt)}}
}
