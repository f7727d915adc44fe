package e2e

import (
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"sort"
	"testing"
	"time"

	"github.com/accrue/accrue/e2e/internal/harness"
	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
)

// Helpers that read what billing posted: trial balances, journal entries, invoice candidates,
// KPIs; and period closing.

// trialBalance reads GET /v1/legal-entities/{id}/trial-balance (period "" for all).
func trialBalance(t testing.TB, env *harness.Env, leID, period string) *billingv1.GetTrialBalanceResponse {
	t.Helper()
	path := "/v1/legal-entities/" + leID + "/trial-balance"
	if period != "" {
		path += "?period=" + period
	}
	st, _, body := env.Do(http.MethodGet, path, nil, env.Bearer(billingRead))
	if st != http.StatusOK {
		t.Fatalf("GET %s: %d: %s", path, st, body)
	}
	var resp billingv1.GetTrialBalanceResponse
	decode(t, body, &resp)
	return &resp
}

// checkTrialBalance checks that a trial balance balances with the given totals and that every
// account's balance (debit − credit) is the one in want, or 0.00 when want does not name it.
func checkTrialBalance(t testing.TB, what string, tb *billingv1.GetTrialBalanceResponse, total string, want map[string]string) {
	t.Helper()
	if !tb.GetBalanced() || !moneyIs(tb.GetTotalDebit(), total) || !moneyIs(tb.GetTotalCredit(), total) {
		t.Errorf("%s: total debit %v, total credit %v, balanced %v; want %s USD on both sides, balanced", what,
			tb.GetTotalDebit(), tb.GetTotalCredit(), tb.GetBalanced(), total)
	}
	got := map[string]string{}
	for _, l := range tb.GetLines() {
		got[l.GetAccountCode()] = l.GetBalance().GetAmount()
		if l.GetBalance().GetCurrencyCode() != "USD" {
			t.Errorf("%s: account %s balance in %q, want USD", what, l.GetAccountCode(), l.GetBalance().GetCurrencyCode())
		}
	}
	for code := range want {
		if _, ok := got[code]; !ok {
			t.Errorf("%s: no trial balance line for account %s", what, code)
		}
	}
	codes := make([]string, 0, len(got))
	for c := range got {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		w, ok := want[c]
		if !ok {
			w = "0.00"
		}
		if got[c] != w {
			t.Errorf("%s: account %s balance %s, want %s", what, c, got[c], w)
		}
	}
}

// listJournal lists journal entries (GET /v1/journal-entries?query), all pages.
func listJournal(t testing.TB, env *harness.Env, query url.Values) []*billingv1.JournalEntry {
	t.Helper()
	var out []*billingv1.JournalEntry
	query.Set("page_size", "500")
	for {
		st, _, body := env.Do(http.MethodGet, "/v1/journal-entries?"+query.Encode(), nil, env.Bearer(billingRead))
		if st != http.StatusOK {
			t.Fatalf("GET /v1/journal-entries?%s: %d: %s", query.Encode(), st, body)
		}
		var resp billingv1.ListJournalEntriesResponse
		decode(t, body, &resp)
		out = append(out, resp.GetEntries()...)
		if resp.GetNextPageToken() == "" {
			return out
		}
		query.Set("page_token", resp.GetNextPageToken())
	}
}

// listCandidates lists invoice candidates (GET /v1/invoice-candidates?query), all pages.
func listCandidates(t testing.TB, env *harness.Env, query url.Values) []*billingv1.InvoiceCandidate {
	t.Helper()
	var out []*billingv1.InvoiceCandidate
	query.Set("page_size", "500")
	for {
		st, _, body := env.Do(http.MethodGet, "/v1/invoice-candidates?"+query.Encode(), nil, env.Bearer(billingRead))
		if st != http.StatusOK {
			t.Fatalf("GET /v1/invoice-candidates?%s: %d: %s", query.Encode(), st, body)
		}
		var resp billingv1.ListInvoiceCandidatesResponse
		decode(t, body, &resp)
		out = append(out, resp.GetCandidates()...)
		if resp.GetNextPageToken() == "" {
			return out
		}
		query.Set("page_token", resp.GetNextPageToken())
	}
}

func byProject(id string) url.Values { return url.Values{"project_id": {id}} }

func bySource(id string) url.Values { return url.Values{"source_id": {id}} }

// billingKpis reads GET /v1/billing/kpis.
func billingKpis(t testing.TB, env *harness.Env) *billingv1.GetBillingKpisResponse {
	t.Helper()
	st, _, body := env.Do(http.MethodGet, "/v1/billing/kpis", nil, env.Bearer(billingRead))
	if st != http.StatusOK {
		t.Fatalf("GET /v1/billing/kpis: %d: %s", st, body)
	}
	var resp billingv1.GetBillingKpisResponse
	decode(t, body, &resp)
	return &resp
}

// rat parses a decimal string (0 when empty).
func rat(s string) *big.Rat {
	if s == "" {
		return new(big.Rat)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic("not a decimal: " + s)
	}
	return r
}

// lineTotals sums the lines of entries per account, debit − credit, written with two decimals.
// It fails t when an entry does not balance or a line is not one-sided.
func lineTotals(t testing.TB, entries ...*billingv1.JournalEntry) map[string]string {
	t.Helper()
	sum := map[string]*big.Rat{}
	for _, e := range entries {
		dr, cr := new(big.Rat), new(big.Rat)
		for i, l := range e.GetLines() {
			d, c := rat(l.GetDebit().GetAmount()), rat(l.GetCredit().GetAmount())
			if (d.Sign() != 0) == (c.Sign() != 0) || d.Sign() < 0 || c.Sign() < 0 {
				t.Errorf("journal entry %s line %d (%s): debit %s credit %s; want exactly one positive side", e.GetJournalEntryId(), i,
					l.GetAccountCode(), l.GetDebit().GetAmount(), l.GetCredit().GetAmount())
			}
			dr.Add(dr, d)
			cr.Add(cr, c)
			if sum[l.GetAccountCode()] == nil {
				sum[l.GetAccountCode()] = new(big.Rat)
			}
			sum[l.GetAccountCode()].Add(sum[l.GetAccountCode()], new(big.Rat).Sub(d, c))
		}
		if dr.Cmp(cr) != 0 || dr.Sign() == 0 {
			t.Errorf("journal entry %s (%s %s) does not balance: debits %s, credits %s", e.GetJournalEntryId(), e.GetSourceType(),
				e.GetSourceId(), dr.FloatString(2), cr.FloatString(2))
		}
	}
	out := map[string]string{}
	for k, v := range sum {
		if v.Sign() != 0 {
			out[k] = v.FloatString(2)
		}
	}
	return out
}

// sameMap reports whether two account → amount maps are equal.
func sameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func sameDate(d *commonv1.Date, y, m, day int) bool {
	return d.GetYear() == int32(y) && d.GetMonth() == int32(m) && d.GetDay() == int32(day)
}

// closePeriod closes a period of a legal entity (billing:write) and waits until the time &
// expense service's replica has it closed. The close checklist wants the period's revenue
// recognition run first: it runs it.
func closePeriod(t testing.TB, env *harness.Env, leID, period string) {
	t.Helper()
	recognize := "/v1/legal-entities/" + leID + "/periods/" + period + ":recognize"
	if st, _, body := env.Do(http.MethodPost, recognize, map[string]any{}, env.Bearer(billingWrite)); st != http.StatusOK {
		t.Fatalf("POST %s: %d, want 200: %s", recognize, st, body)
	}
	path := "/v1/legal-entities/" + leID + "/periods/" + period + ":close"
	st, _, body := env.Do(http.MethodPost, path, map[string]any{}, env.Bearer(billingWrite))
	if st != http.StatusOK {
		t.Fatalf("POST %s: %d, want 200: %s", path, st, body)
	}
	var resp billingv1.ClosePeriodResponse
	decode(t, body, &resp)
	if resp.GetPeriod().GetStatus() != billingv1.PeriodStatus_PERIOD_STATUS_CLOSED || resp.GetPeriod().GetPeriod() != period {
		t.Fatalf("close %s: %v, want it CLOSED", period, resp.GetPeriod())
	}
	harness.Eventually(t, 10*time.Second, 20*time.Millisecond, func() error {
		if n := env.Count("timeexpense", `SELECT count(*) FROM periods WHERE legal_entity_id = lower($1) AND period = $2 AND status = 'CLOSED'`,
			leID, period); n != 1 {
			return fmt.Errorf("the time & expense service does not know %s as closed yet", period)
		}
		return nil
	})
}
