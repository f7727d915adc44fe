package store

import (
	"encoding/json"

	"github.com/shopspring/decimal"

	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/money"
	"github.com/accrue/accrue/services/resource/internal/resource"
)

// planJSON is the row format of an assignment's costed plan (the plan column): its segments,
// its monthly periods and the days without a rate. Totals are columns of their own.
type planJSON struct {
	Segments []segJSON    `json:"segments"`
	Periods  []periodJSON `json:"periods"`
	Missing  []string     `json:"missing,omitempty"`
	Currency string       `json:"currency,omitempty"`
}

type segJSON struct {
	From        string          `json:"from"`
	To          string          `json:"to"`
	HoursPerDay decimal.Decimal `json:"hours_per_day"`
}

type periodJSON struct {
	Start string           `json:"start"`
	End   string           `json:"end"`
	Hours decimal.Decimal  `json:"hours"`
	Cost  *decimal.Decimal `json:"cost,omitempty"`
}

func encodePlan(a resource.Assignment) ([]byte, error) {
	p := planJSON{}
	for _, s := range a.Segments {
		p.Segments = append(p.Segments, segJSON{From: s.From.String(), To: s.To.String(), HoursPerDay: s.HoursPerDay})
	}
	for _, pr := range a.Plan.Periods {
		pj := periodJSON{Start: pr.Start.String(), End: pr.End.String(), Hours: pr.Hours}
		if pr.Cost != nil {
			pj.Cost = &pr.Cost.Value
			p.Currency = pr.Cost.Currency
		}
		p.Periods = append(p.Periods, pj)
	}
	for _, d := range a.Plan.Missing {
		p.Missing = append(p.Missing, d.String())
	}
	return json.Marshal(p)
}

func decodePlan(b []byte, a *resource.Assignment) error {
	var p planJSON
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	parse := func(s string) civil.Date { d, _ := civil.Parse(s); return d }
	for _, s := range p.Segments {
		a.Segments = append(a.Segments, resource.Segment{From: parse(s.From), To: parse(s.To), HoursPerDay: s.HoursPerDay})
	}
	for _, pj := range p.Periods {
		pr := resource.Period{Start: parse(pj.Start), End: parse(pj.End), Hours: pj.Hours}
		if pj.Cost != nil {
			pr.Cost = &money.Amount{Value: *pj.Cost, Currency: p.Currency}
		}
		a.Plan.Periods = append(a.Plan.Periods, pr)
	}
	for _, d := range p.Missing {
		a.Plan.Missing = append(a.Plan.Missing, parse(d))
	}
	return nil
}
