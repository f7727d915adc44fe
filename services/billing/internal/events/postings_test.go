package events_test

import (
	"context"
	"fmt"
	"github.com/accrue/accrue/internal/platform/civil/civilpb"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	commonv1 "github.com/accrue/accrue/gen/go/accrue/common/v1"
	resourcev1 "github.com/accrue/accrue/gen/go/accrue/resource/v1"
	timeexpensev1 "github.com/accrue/accrue/gen/go/accrue/timeexpense/v1"
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/outbox"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/pgtest"
	"github.com/accrue/accrue/internal/platform/redistest"
	"github.com/accrue/accrue/internal/platform/redisx"
	"github.com/accrue/accrue/internal/platform/stream"
	"github.com/accrue/accrue/internal/platform/streamtest"
	"github.com/accrue/accrue/services/billing/internal/app"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/events"
	"github.com/accrue/accrue/services/billing/internal/legalentity"
	"github.com/accrue/accrue/services/billing/internal/store"
	"github.com/accrue/accrue/services/billing/internal/wire"
)

// Fixture ids.
var (
	projectID = "01a22200-0000-7000-8000-000000000001"
	taskBill  = "01a22200-0000-7000-8000-000000000011"
	taskPM    = "01a22200-0000-7000-8000-000000000012"
	consult   = "01a22200-0000-7000-8000-000000000021" // cost 20.00/h, role CONSULTANT (bill 50.00)
	architect = "01a22200-0000-7000-8000-000000000022" // cost 70.00/h, role ARCHITECT (bill 90.00)
	newcomer  = "01a22200-0000-7000-8000-000000000023" // no cost rate yet
)

type fixture struct {
	pool *pgxpool.Pool
	url  string
	uc   *app.Service
	le   string
	log  *slog.Logger
}

// setup makes a billing database with a USD legal entity (policy given), a contract with a T&M
// line (rates 50.00 consultant, 90.00 architect, expense markup 10 %), a project on it with a
// billable and a non-billable task, and cost rates for two resources.
func setup(t *testing.T, policy legalentity.ClosedPeriodPolicy) fixture {
	t.Helper()
	db := pgtest.New(t, store.Migrations())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	uc := app.New(db.Pool, outbox.Writer{Producer: "billing"}, exceptions.NewQueue(db.Pool, log), log)
	ctx := context.Background()
	le, _, err := uc.CreateLegalEntity(ctx, legalentity.Details{Code: "US01", Name: "US", FunctionalCurrency: "USD", CountryCode: "US", Policy: policy})
	if err != nil {
		t.Fatal(err)
	}
	usd := func(s string) *commonv1.Money { return &commonv1.Money{Amount: s, CurrencyCode: "USD"} }
	from := &commonv1.Date{Year: 2026, Month: 1, Day: 1}
	terms, err := wire.Terms(&billingv1.ContractInput{CustomerId: uuid.NewString(), LegalEntityId: le.ID, Name: "T&M", CurrencyCode: "USD",
		StartDate: from, EndDate: &commonv1.Date{Year: 2026, Month: 12, Day: 31},
		Lines: []*billingv1.ContractLine{{LineKey: "L1", ServiceLine: "IMPLEMENTATION", Amount: usd("100000.00"),
			BillingMethod: billingv1.BillingMethod_BILLING_METHOD_TIME_AND_MATERIALS, RevenueMethod: billingv1.RevenueMethod_REVENUE_METHOD_AS_DELIVERED,
			ExpenseMarkupPercent: "10",
			RateCard: []*billingv1.RateCardEntry{{Role: "CONSULTANT", BillRate: usd("50.00"), EffectiveFrom: from},
				{Role: "ARCHITECT", BillRate: usd("90.00"), EffectiveFrom: from}}}}})
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := uc.UpsertContract(ctx, contract.ExternalRef{System: "crm", ObjectType: "Opportunity", ExternalID: "O1"}, 1, terms, false)
	if err != nil {
		t.Fatal(err)
	}
	err = pg.InTx(ctx, db.Pool, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := store.ApplyProjectReplica(ctx, tx, projectID, le.ID, c.ID, "PROJECT_STATUS_ACTIVE", 2,
			[]string{taskBill, taskPM}, []bool{true, false}, []string{"L1", "L1"}); err != nil {
			return err
		}
		for id, r := range map[string][2]string{consult: {"CONSULTANT", "20.00"}, architect: {"ARCHITECT", "70.00"}} {
			rate, _ := civil.Parse("2026-01-01")
			if _, err := store.ApplyCostRates(ctx, tx, id, r[0], 1, []store.ReplicaRate{{Rate: decimalOf(r[1]), Currency: "USD", From: rate}}); err != nil {
				return err
			}
		}
		return store.SetRole(ctx, tx, newcomer, "CONSULTANT")
	})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{pool: db.Pool, url: db.URL, uc: uc, le: le.ID, log: log}
}

func entry(id, resource, task, date, hours string, billable bool) *timeexpensev1.TimeEntry {
	d, _ := civil.Parse(date)
	return &timeexpensev1.TimeEntry{EntryId: id, Kind: timeexpensev1.EntryKind_ENTRY_KIND_TIME, ResourceId: resource, ProjectId: projectID,
		TaskId: task, WorkDate: civilpb.To(d), Hours: hours, Billable: billable, Version: 1}
}

func envelope(t testing.TB, evType string, payload proto.Message) *commonv1.EventEnvelope {
	a, err := anypb.New(payload)
	if err != nil {
		t.Fatal(err)
	}
	return &commonv1.EventEnvelope{EventId: uuid.Must(uuid.NewV7()).String(), Type: evType, Payload: a}
}

// apply runs a handler on envelopes in one transaction, the way the consumer does.
func apply(t *testing.T, f fixture, h stream.Handler, envs ...*commonv1.EventEnvelope) {
	t.Helper()
	if err := streamtest.Apply(context.Background(), f.pool, h, envs...); err != nil {
		t.Fatal(err)
	}
}

func scalar[T any](t *testing.T, f fixture, sql string, args ...any) T {
	t.Helper()
	var v T
	if err := f.pool.QueryRow(context.Background(), sql, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

// account returns debits − credits of an account over every journal line, as text.
func account(t *testing.T, f fixture, code string) string {
	return scalar[string](t, f, `SELECT COALESCE(sum(debit) - sum(credit), 0)::numeric(18,2)::text FROM journal_lines WHERE account_code = $1`, code)
}

func TestPostingFiguresBalanceAndCandidates(t *testing.T) {
	t.Parallel()
	f := setup(t, legalentity.Reject)
	exp := &timeexpensev1.TimeEntry{EntryId: "X-1", Kind: timeexpensev1.EntryKind_ENTRY_KIND_EXPENSE, ResourceId: consult, ProjectId: projectID,
		TaskId: taskBill, WorkDate: &commonv1.Date{Year: 2026, Month: 6, Day: 11}, Amount: &commonv1.Money{Amount: "120.00", CurrencyCode: "USD"},
		Billable: true, Version: 1}
	apply(t, f, events.Postings(f.uc), envelope(t, "time_entries.approved", &timeexpensev1.EntriesApproved{Entries: []*timeexpensev1.TimeEntry{
		entry("T-1", consult, taskBill, "2026-06-10", "2", true),      // cost 2 × 20 = 40.00, WIP 2 × 50 = 100.00
		entry("T-2", architect, taskBill, "2026-06-10", "10.5", true), // cost 10.5 × 70 = 735.00, WIP 10.5 × 90 = 945.00
		entry("T-3", consult, taskPM, "2026-06-10", "3", false),       // cost only: 3 × 20 = 60.00
		exp, // expense 120.00, candidate 120.00 × 1.10 = 132.00
	}}))
	for code, want := range map[string]string{
		"5000": "835.00",   // labor cost 40 + 735 + 60
		"2150": "-835.00",  // labor cost clearing
		"1200": "1177.00",  // WIP 100 + 945 + 132
		"4000": "-1045.00", // service revenue 100 + 945
		"4100": "-132.00",  // rebilled expense
		"5100": "120.00",   // expense cost
		"2100": "-120.00",  // reimbursements payable
	} {
		if got := account(t, f, code); got != want {
			t.Errorf("account %s = %s, want %s", code, got, want)
		}
	}
	if unbalanced := scalar[int](t, f, `SELECT count(*) FROM (SELECT entry_id FROM journal_lines GROUP BY entry_id HAVING sum(debit) <> sum(credit)) x`); unbalanced != 0 {
		t.Fatalf("%d journal entries do not balance", unbalanced)
	}
	tb, _, err := f.uc.TrialBalance(context.Background(), f.le, "2026-06")
	if err != nil {
		t.Fatal(err)
	}
	dr, cr := decimalOf("0"), decimalOf("0")
	for _, l := range tb {
		dr, cr = dr.Add(l.Debit), cr.Add(l.Credit)
	}
	if !dr.Equal(cr) || dr.StringFixed(2) != "2132.00" {
		t.Fatalf("trial balance debits %s credits %s, want equal at 2132.00", dr, cr)
	}
	for src, want := range map[string]string{"T-1": "100.00", "T-2": "945.00", "X-1": "132.00"} {
		if got := scalar[string](t, f, `SELECT amount::numeric(18,2)::text FROM invoice_candidates WHERE source_id = $1`, src); got != want {
			t.Errorf("candidate of %s = %s, want %s", src, got, want)
		}
	}
	if n := scalar[int](t, f, `SELECT count(*) FROM invoice_candidates WHERE source_id = 'T-3'`); n != 0 {
		t.Errorf("non-billable time made %d candidates", n)
	}
	if n := scalar[int](t, f, `SELECT count(*) FROM outbox WHERE event_type = 'postings.recorded'`); n != 1 {
		t.Errorf("postings.recorded events = %d, want 1 for the batch", n)
	}
}

func TestDuplicatesPostOnce(t *testing.T) {
	t.Parallel()
	f := setup(t, legalentity.Reject)
	e := envelope(t, "time_entries.approved", &timeexpensev1.EntriesApproved{Entries: []*timeexpensev1.TimeEntry{
		entry("T-10", consult, taskBill, "2026-06-10", "2", true)}})
	// The same envelope delivered five times (a redelivery applies it again only without the
	// inbox; PostBatch is the guard behind it), then the same entry inside another event.
	for i := 0; i < 5; i++ {
		apply(t, f, events.Postings(f.uc), e)
	}
	apply(t, f, events.Postings(f.uc), envelope(t, "time_entries.approved", &timeexpensev1.EntriesApproved{Entries: []*timeexpensev1.TimeEntry{
		entry("T-10", consult, taskBill, "2026-06-10", "2", true), entry("T-10", consult, taskBill, "2026-06-10", "2", true)}}))
	if n := scalar[int](t, f, `SELECT count(*) FROM journal_entries WHERE source_id = 'T-10'`); n != 1 {
		t.Fatalf("journal entries for T-10 = %d, want 1", n)
	}
	if got := account(t, f, "1200"); got != "100.00" {
		t.Fatalf("WIP = %s, want 100.00", got)
	}
}

func TestClosedPeriodRejectsOrRollsForward(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reject := setup(t, legalentity.Reject)
	if _, err := reject.uc.SetPeriod(ctx, reject.le, "2026-05", true); err != nil {
		t.Fatal(err)
	}
	apply(t, reject, events.Postings(reject.uc), envelope(t, "time_entries.approved", &timeexpensev1.EntriesApproved{Entries: []*timeexpensev1.TimeEntry{
		entry("T-20", consult, taskBill, "2026-05-29", "4", true)}}))
	if got := scalar[string](t, reject, `SELECT outcome FROM posting_results WHERE source_id = 'T-20'`); got != "REJECTED_CLOSED_PERIOD" {
		t.Fatalf("outcome = %s", got)
	}
	if n := scalar[int](t, reject, `SELECT count(*) FROM journal_entries`); n != 0 {
		t.Fatalf("a rejected posting wrote %d journal entries", n)
	}
	k, err := reject.uc.KPIs(ctx)
	if err != nil || k.EntriesRejectedClosedPeriod != 1 || k.TimesheetsRejectedClosedPeriod != 1 {
		t.Fatalf("KPIs %+v %v, want 1 entry in 1 timesheet", k, err)
	}

	roll := setup(t, legalentity.RollForward)
	if _, err := roll.uc.SetPeriod(ctx, roll.le, "2026-05", true); err != nil {
		t.Fatal(err)
	}
	apply(t, roll, events.Postings(roll.uc), envelope(t, "time_entries.approved", &timeexpensev1.EntriesApproved{Entries: []*timeexpensev1.TimeEntry{
		entry("T-21", consult, taskBill, "2026-05-29", "4", true)}}))
	if got := scalar[string](t, roll, `SELECT posting_date::text || ' ' || source_date::text FROM journal_entries WHERE source_id = 'T-21'`); got != "2026-06-01 2026-05-29" {
		t.Fatalf("rolled-forward entry dated %s, want posting 2026-06-01 keeping source 2026-05-29", got)
	}
}

func TestParkedUntilTheCostRateArrives(t *testing.T) {
	t.Parallel()
	f := setup(t, legalentity.Reject)
	ctx := context.Background()
	apply(t, f, events.Postings(f.uc), envelope(t, "time_entries.approved", &timeexpensev1.EntriesApproved{Entries: []*timeexpensev1.TimeEntry{
		entry("T-30", newcomer, taskBill, "2026-06-10", "2", true), entry("T-31", newcomer, taskBill, "2026-06-11", "3", true)}}))
	if n := scalar[int](t, f, `SELECT count(*) FROM parked_postings`); n != 2 {
		t.Fatalf("parked = %d, want 2", n)
	}
	open, err := exceptions.NewQueue(f.pool, f.log).CountOpen(ctx, app.KindParked, "RATE_MISSING_FOR_DATE")
	if err != nil || open != 1 {
		t.Fatalf("open parked exceptions = %d (%v), want 1 for the resource", open, err)
	}
	rate := &resourcev1.CostRate{Rate: &commonv1.Money{Amount: "25.00", CurrencyCode: "USD"}, EffectiveFrom: &commonv1.Date{Year: 2026, Month: 1, Day: 1}}
	apply(t, f, events.Resources(f.uc), envelope(t, "cost_rate.changed", &resourcev1.CostRateChanged{ResourceId: newcomer, RatesVersion: 1,
		Role: "CONSULTANT", Current: []*resourcev1.CostRate{rate}}))
	if n := scalar[int](t, f, `SELECT count(*) FROM parked_postings`); n != 0 {
		t.Fatalf("still parked = %d after the rate arrived", n)
	}
	if got := account(t, f, "5000"); got != "125.00" { // 5 h × 25.00
		t.Fatalf("labor cost = %s, want 125.00", got)
	}
	if got := account(t, f, "1200"); got != "250.00" { // 5 h × 50.00
		t.Fatalf("WIP = %s, want 250.00", got)
	}
	if open, _ := exceptions.NewQueue(f.pool, f.log).CountOpen(ctx, app.KindParked, ""); open != 0 {
		t.Fatalf("open parked exceptions = %d, want 0", open)
	}
}

func TestCorrectionReversesTheOriginal(t *testing.T) {
	t.Parallel()
	f := setup(t, legalentity.Reject)
	apply(t, f, events.Postings(f.uc), envelope(t, "time_entries.approved", &timeexpensev1.EntriesApproved{Entries: []*timeexpensev1.TimeEntry{
		entry("T-40", consult, taskBill, "2026-06-10", "8", true)}}))
	rev := entry("T-40-R", consult, taskBill, "2026-06-10", "-8", true)
	rev.ReversesEntryId = "T-40"
	apply(t, f, events.Postings(f.uc),
		envelope(t, "time_entries.reversed", &timeexpensev1.EntriesReversed{Entries: []*timeexpensev1.TimeEntry{rev}}),
		envelope(t, "time_entries.approved", &timeexpensev1.EntriesApproved{Entries: []*timeexpensev1.TimeEntry{
			entry("T-41", consult, taskBill, "2026-06-10", "6", true)}}))
	if got := account(t, f, "1200"); got != "300.00" { // 8 × 50 − 8 × 50 + 6 × 50
		t.Fatalf("WIP = %s, want 300.00", got)
	}
	if got := scalar[string](t, f, `SELECT status FROM invoice_candidates WHERE source_id = 'T-40'`); got != "REVERSED" {
		t.Fatalf("original candidate = %s", got)
	}
	if n := scalar[int](t, f, `SELECT count(*) FROM journal_entries WHERE reverses_id IS NOT NULL`); n != 1 {
		t.Fatalf("reversal entries = %d", n)
	}
}

func decimalOf(s string) decimalT { return mustDecimal(s) }

// --- kill -9 of the posting consumer --------------------------------------------------------

const (
	childEnv   = "BILLING_POSTING_CHILD"
	childDB    = "BILLING_POSTING_DB"
	childPfx   = "BILLING_POSTING_PREFIX"
	childKill  = "BILLING_POSTING_KILL"
	childGroup = "billing"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(runChild())
	}
	os.Exit(m.Run())
}

// runChild consumes the posting stream with the real handler until nothing is left, killing
// itself with SIGKILL after the first commit (before XACK) or inside the handler when asked.
func runChild() int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := pg.Connect(ctx, os.Getenv(childDB), 4)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	rdb, err := redisx.Connect(ctx, redistest.Addr())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	queue := exceptions.NewQueue(pool, log)
	uc := app.New(pool, outbox.Writer{Producer: "billing"}, queue, log)
	die := func() { _ = syscall.Kill(os.Getpid(), syscall.SIGKILL) }
	cfg := stream.Config{Stream: timeexpensev1.EventStream, Types: timeexpensev1.EventTypes, Group: childGroup, Consumer: "poster-1", StreamPrefix: os.Getenv(childPfx),
		BatchSize: 2, Block: 50 * time.Millisecond, ClaimMinIdle: time.Hour, ClaimInterval: time.Hour}
	h := events.Postings(uc)
	switch os.Getenv(childKill) {
	case "after_commit":
		cfg.AfterCommit = func([]string) { die() }
	case "in_handler":
		inner := h
		h = func(ctx context.Context, msgs []stream.Message) error {
			if err := inner(ctx, msgs); err != nil {
				return err
			}
			die()
			return nil
		}
	}
	c, err := stream.NewConsumer(cfg, rdb, pool, queue, h, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	cctx, stop := context.WithCancel(ctx)
	go func() {
		for cctx.Err() == nil {
			time.Sleep(100 * time.Millisecond)
			info, err := rdb.XInfoGroups(cctx, os.Getenv(childPfx)+events.TimeExpenseStream).Result()
			if err == nil && len(info) == 1 && info[0].Pending == 0 && info[0].Lag == 0 {
				stop()
			}
		}
	}()
	if err := c.Run(cctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	return 0
}

func runPoster(t *testing.T, f fixture, prefix, kill string) error {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", childDB+"="+f.url, childPfx+"="+prefix, childKill+"="+kill)
	cmd.Stderr = os.Stderr
	return cmd.Run()
}

func TestPostsExactlyOnceAcrossKills(t *testing.T) {
	for _, kill := range []string{"after_commit", "in_handler"} {
		t.Run(kill, func(t *testing.T) {
			f := setup(t, legalentity.Reject)
			rdb, prefix := redistest.New(t)
			ctx := context.Background()
			if err := rdb.XGroupCreateMkStream(ctx, prefix+events.TimeExpenseStream, childGroup, "0").Err(); err != nil {
				t.Fatal(err)
			}
			// Four events of 25 entries each; event 2 is also delivered a second time.
			var envs []*commonv1.EventEnvelope
			for e := 0; e < 4; e++ {
				var list []*timeexpensev1.TimeEntry
				for i := 0; i < 25; i++ {
					list = append(list, entry(fmt.Sprintf("K-%d-%d", e, i), consult, taskBill, "2026-06-10", "1", true))
				}
				envs = append(envs, envelope(t, "time_entries.approved", &timeexpensev1.EntriesApproved{Entries: list}))
			}
			envs = append(envs, envs[2])
			for _, env := range envs {
				b, _ := proto.Marshal(env)
				if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: prefix + events.TimeExpenseStream,
					Values: []any{"event_id", env.GetEventId(), "type", env.GetType(), "envelope", b}}).Err(); err != nil {
					t.Fatal(err)
				}
			}
			err := runPoster(t, f, prefix, kill)
			var exit *exec.ExitError
			if !asExit(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("the poster should have died of SIGKILL, got %v", err)
			}
			if err := runPoster(t, f, prefix, ""); err != nil {
				t.Fatalf("restart: %v", err)
			}
			if n := scalar[int](t, f, `SELECT count(*) FROM journal_entries`); n != 100 {
				t.Fatalf("journal entries = %d, want 100 (each entry exactly once)", n)
			}
			if got := account(t, f, "1200"); got != "5000.00" { // 100 h × 50.00
				t.Fatalf("WIP = %s, want 5000.00", got)
			}
			p, err := rdb.XPending(ctx, prefix+events.TimeExpenseStream, childGroup).Result()
			if err != nil || p.Count != 0 {
				t.Fatalf("pending after restart = %v (%v)", p, err)
			}
		})
	}
}
