package erpexport

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strconv"
)

// Columns are the CSV header and the JSON keys, in order.
var Columns = []string{"cursor", "entry_id", "line_no", "posting_date", "period", "legal_entity_id", "account",
	"debit", "credit", "currency", "functional_debit", "functional_credit", "functional_currency", "fx_rate",
	"project_id", "customer_id", "source_type", "source_id", "source_version", "correlation_id"}

// jsonLine fixes the order of the JSON keys (Columns), so equal lines are equal bytes.
type jsonLine struct {
	Cursor             string `json:"cursor"`
	EntryID            string `json:"entry_id"`
	LineNo             int    `json:"line_no"`
	PostingDate        string `json:"posting_date"`
	Period             string `json:"period"`
	LegalEntityID      string `json:"legal_entity_id"`
	Account            string `json:"account"`
	Debit              string `json:"debit"`
	Credit             string `json:"credit"`
	Currency           string `json:"currency"`
	FunctionalDebit    string `json:"functional_debit"`
	FunctionalCredit   string `json:"functional_credit"`
	FunctionalCurrency string `json:"functional_currency"`
	FXRate             string `json:"fx_rate"`
	ProjectID          string `json:"project_id"`
	CustomerID         string `json:"customer_id"`
	SourceType         string `json:"source_type"`
	SourceID           string `json:"source_id"`
	SourceVersion      int64  `json:"source_version"`
	CorrelationID      string `json:"correlation_id"`
}

func (l Line) fields() jsonLine {
	return jsonLine{Cursor: l.Position.Cursor(), EntryID: l.EntryID, LineNo: l.LineNo, PostingDate: l.PostingDate.String(),
		Period: l.Period(), LegalEntityID: l.LegalEntityID, Account: l.Account, Debit: l.Debit.String(), Credit: l.Credit.String(),
		Currency: l.Currency, FunctionalDebit: l.FunctionalDebit.String(), FunctionalCredit: l.FunctionalCredit.String(),
		FunctionalCurrency: l.FunctionalCurrency, FXRate: l.FXRate.String(), ProjectID: l.ProjectID, CustomerID: l.CustomerID,
		SourceType: l.SourceType, SourceID: l.SourceID, SourceVersion: l.SourceVersion, CorrelationID: l.CorrelationID}
}

// Encoder writes lines in one format to a buffer the caller drains between pages, so an export
// holds one page at a time whatever its length.
type Encoder struct {
	Buf    bytes.Buffer
	format Format
	csv    *csv.Writer
	json   *json.Encoder
}

// NewEncoder returns an encoder of f; a CSV one starts with the header.
func NewEncoder(f Format) *Encoder {
	e := &Encoder{format: f}
	if f == CSV {
		e.csv = csv.NewWriter(&e.Buf)
		_ = e.csv.Write(Columns) // writes to a bytes.Buffer do not fail
		e.csv.Flush()
	} else {
		e.json = json.NewEncoder(&e.Buf)
		e.json.SetEscapeHTML(false)
	}
	return e
}

// Write appends l as one line.
func (e *Encoder) Write(l Line) error {
	if e.format != CSV {
		return e.json.Encode(l.fields()) // Encode ends the line with "\n"
	}
	f := l.fields()
	err := e.csv.Write([]string{f.Cursor, f.EntryID, strconv.Itoa(f.LineNo), f.PostingDate, f.Period, f.LegalEntityID,
		f.Account, f.Debit, f.Credit, f.Currency, f.FunctionalDebit, f.FunctionalCredit, f.FunctionalCurrency, f.FXRate,
		f.ProjectID, f.CustomerID, f.SourceType, f.SourceID, strconv.FormatInt(f.SourceVersion, 10), f.CorrelationID})
	e.csv.Flush()
	if err != nil {
		return err
	}
	return e.csv.Error()
}
