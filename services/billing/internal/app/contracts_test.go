package app_test

import (
	"errors"
	"testing"

	"github.com/accrue/accrue/services/billing/internal/app"
	"github.com/accrue/accrue/services/billing/internal/billingtest"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/ledger"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
)

var opp = contract.ExternalRef{System: "salesforce", ObjectType: "Opportunity", ExternalID: "006A"}

// The source system's versions decide: newer terms amend, the same terms change nothing, older
// versions are ignored, and a version reused with other terms is refused. Every version is kept.
func TestUpsertFollowsTheSourceVersion(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	up := func(version int64, consultantRate string) (contract.Contract, contract.Outcome, error) {
		return e.UC.UpsertContract(e.Ctx, opp, version, e.Terms(billingtest.Rate("CONSULTANT", consultantRate, "2026-01-01", "")), false)
	}
	steps := []struct {
		sourceVersion int64
		rate          string
		outcome       contract.Outcome
		version       int64
		currentRate   string
	}{
		{10, "150.00", contract.Created, 1, "150.00 USD"},
		{10, "150", contract.Unchanged, 1, "150.00 USD"},
		{20, "160.00", contract.Amended, 2, "160.00 USD"},
		{15, "170.00", contract.IgnoredStale, 2, "160.00 USD"},
	}
	var id string
	for _, s := range steps {
		c, out, err := up(s.sourceVersion, s.rate)
		if err != nil {
			t.Fatalf("source version %d: %v", s.sourceVersion, err)
		}
		if out != s.outcome || c.Version != s.version || c.Lines[0].RateCard[0].Rate.String() != s.currentRate {
			t.Fatalf("source version %d: outcome %d version %d rate %s, want %d, %d, %s", s.sourceVersion, out, c.Version,
				c.Lines[0].RateCard[0].Rate, s.outcome, s.version, s.currentRate)
		}
		id = c.ID
	}
	_, _, err := up(20, "175.00")
	wantReason(t, err, "SOURCE_VERSION_REUSED")
	versions, err := e.UC.ListContractVersions(e.Ctx, id)
	if err != nil || len(versions) != 2 {
		t.Fatalf("versions %d (%v), want 2", len(versions), err)
	}
	if versions[1].ChangeReason != "amended from salesforce version 20" || versions[1].SourceVersion != 20 {
		t.Fatalf("version 2: reason %q source version %d", versions[1].ChangeReason, versions[1].SourceVersion)
	}
}

// An amendment names the version it amends; a stale one is refused, identical terms keep the
// version, and the history is never overwritten.
func TestAmendmentNeedsTheCurrentVersion(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	c, _, err := e.UC.UpsertContract(e.Ctx, opp, 1, e.Terms(billingtest.Rate("CONSULTANT", "150.00", "2026-01-01", "")), false)
	if err != nil {
		t.Fatal(err)
	}
	raised := e.Terms(billingtest.Rate("CONSULTANT", "155.00", "2026-01-01", ""))
	amended, err := e.UC.AmendContract(e.Ctx, c.ID, 1, "rate fix", raised)
	if err != nil || amended.Version != 2 || amended.ChangeReason != "rate fix" || !amended.CreatedAt.Equal(c.CreatedAt) {
		t.Fatalf("amend: version %d reason %q (%v)", amended.Version, amended.ChangeReason, err)
	}
	_, err = e.UC.AmendContract(e.Ctx, c.ID, 1, "late edit", e.Terms(billingtest.Rate("CONSULTANT", "140.00", "2026-01-01", "")))
	if !errors.Is(err, contract.ErrVersionConflict) {
		t.Fatalf("amending version 1 of a version-2 contract: %v, want VERSION_CONFLICT", err)
	}
	same, err := e.UC.AmendContract(e.Ctx, c.ID, 2, "again", raised)
	if err != nil || same.Version != 2 {
		t.Fatalf("identical terms: version %d (%v), want 2 unchanged", same.Version, err)
	}
	_, err = e.UC.AmendContract(e.Ctx, "01a22300-0000-7000-8000-0000000000ff", 1, "x", raised)
	if !errors.Is(err, contract.ErrNotFound) {
		t.Fatalf("unknown contract: %v", err)
	}
	versions, err := e.UC.ListContractVersions(e.Ctx, c.ID)
	if err != nil || len(versions) != 2 || versions[0].Lines[0].RateCard[0].Rate.String() != "150.00 USD" {
		t.Fatalf("history %+v (%v), want version 1 still at 150.00", versions, err)
	}
	current, err := e.UC.GetContract(e.Ctx, c.ID)
	if err != nil || current.Version != 2 || current.Lines[0].RateCard[0].Rate.String() != "155.00 USD" {
		t.Fatalf("current %+v (%v)", current, err)
	}
}

// A rate card whose periods overlap for one role is refused, on creation and on amendment, and
// nothing is written.
func TestRateCardOverlapIsRefused(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	overlap := e.Terms(billingtest.Rate("CONSULTANT", "150.00", "2026-01-01", ""), billingtest.Rate("CONSULTANT", "160.00", "2026-06-01", ""))
	_, _, err := e.UC.UpsertContract(e.Ctx, opp, 1, overlap, false)
	wantReason(t, err, contract.ReasonRateCardOverlap)
	_, _, err = e.UC.UpsertContract(e.Ctx, opp, 1, overlap, true) // validate only
	wantReason(t, err, contract.ReasonRateCardOverlap)
	c, out, err := e.UC.UpsertContract(e.Ctx, opp, 1, e.Terms(billingtest.Rate("CONSULTANT", "150.00", "2026-01-01", "2026-05-31"),
		billingtest.Rate("CONSULTANT", "160.00", "2026-06-01", "")), false)
	if err != nil || out != contract.Created || c.Version != 1 {
		t.Fatalf("adjacent periods: %d %v", out, err)
	}
	_, err = e.UC.AmendContract(e.Ctx, c.ID, 1, "overlap", overlap)
	wantReason(t, err, contract.ReasonRateCardOverlap)
	if versions, _ := e.UC.ListContractVersions(e.Ctx, c.ID); len(versions) != 1 {
		t.Fatalf("a refused amendment wrote a version: %d versions", len(versions))
	}
}

// A contract needs a known legal entity; it may be in another currency than the entity's books
// (EUR under the USD entity), and an amendment cannot change its currency.
func TestContractsNeedAKnownLegalEntityAnyCurrency(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	unknown := e.Terms(billingtest.StandardCard()...)
	unknown.LegalEntityID = "01a22300-0000-7000-8000-0000000000ee"
	_, _, err := e.UC.UpsertContract(e.Ctx, opp, 1, unknown, false)
	wantReason(t, err, app.ReasonUnknownLegalEntity)
	eurTerms := e.Terms()
	eurTerms.Currency = "EUR"
	eurTerms.Lines[0].Amount = billingtest.EUR("100000.00")
	eurTerms.Lines[0].RateCard = []contract.RateEntry{{Role: "CONSULTANT", Rate: billingtest.EUR("50.00"), From: billingtest.Day("2026-01-01")}}
	c, _, err := e.UC.UpsertContract(e.Ctx, opp, 1, eurTerms, false)
	if err != nil || c.Terms.Currency != "EUR" {
		t.Fatalf("EUR contract of the USD entity: %+v %v", c.Terms.Currency, err)
	}
	usdTerms := e.Terms(billingtest.StandardCard()...)
	_, err = e.UC.AmendContract(e.Ctx, c.ID, 1, "to USD", usdTerms)
	wantReason(t, err, contract.ReasonCurrencyMismatch)
	if _, err := e.UC.GetContract(e.Ctx, "01a22300-0000-7000-8000-0000000000ff"); !errors.Is(err, contract.ErrNotFound) {
		t.Fatalf("get unknown: %v", err)
	}
}

// A legal entity is created once per code: the same content returns it, other content is refused.
func TestLegalEntityIsCreatedOncePerCode(t *testing.T) {
	e := newEnv(t, legalentity.Reject)
	again, created, err := e.UC.CreateLegalEntity(e.Ctx, e.LE.Details)
	if err != nil || created || again.ID != e.LE.ID {
		t.Fatalf("same content: %s created %v (%v), want %s", again.ID, created, err, e.LE.ID)
	}
	other := e.LE.Details
	other.Policy = legalentity.RollForward
	_, _, err = e.UC.CreateLegalEntity(e.Ctx, other)
	if !errors.Is(err, legalentity.ErrCodeConflict) {
		t.Fatalf("other content: %v, want LEGAL_ENTITY_CODE_EXISTS", err)
	}
	accounts, err := e.UC.ListAccounts(e.Ctx, e.LE.ID)
	if err != nil || len(accounts) != len(ledger.DefaultChart) {
		t.Fatalf("chart of accounts: %d (%v), want the %d of the default chart", len(accounts), err, len(ledger.DefaultChart))
	}
}
