package grpcapi_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	billingv1 "github.com/accrue/accrue/gen/go/accrue/billing/v1"
	"github.com/accrue/accrue/internal/platform/servicetest"
	"github.com/accrue/accrue/services/billing/internal/app"
	"github.com/accrue/accrue/services/billing/internal/grpcapi"
	"github.com/accrue/accrue/services/billing/internal/store"
)

var exportScope = []string{"journal:export", "billing:write", "billing:read"}

type exportClients struct {
	clients
	x billingv1.JournalExportServiceClient
}

func startExport(t testing.TB) (*servicetest.Env, exportClients) {
	env := servicetest.New(t, "billing", store.Migrations(), func(e *servicetest.Env) {
		s := grpcapi.New(app.New(store.New(e.DB.Pool, e.Outbox, e.Queue), e.Queue, e.Log))
		billingv1.RegisterLegalEntityServiceServer(e.Server, s)
		billingv1.RegisterContractServiceServer(e.Server, s)
		billingv1.RegisterJournalExportServiceServer(e.Server, grpcapi.NewJournalExport(s))
	})
	return env, exportClients{clients{billingv1.NewLegalEntityServiceClient(env.Conn), billingv1.NewContractServiceClient(env.Conn)},
		billingv1.NewJournalExportServiceClient(env.Conn)}
}

func entity(t testing.TB, env *servicetest.Env, cl exportClients, code, currency string) string {
	resp, err := cl.le.CreateLegalEntity(env.Ctx(exportScope), &billingv1.CreateLegalEntityRequest{LegalEntity: &billingv1.LegalEntityInput{
		Code: code, Name: "Accrue " + code, FunctionalCurrency: currency, CountryCode: "US",
		ClosedPeriodPolicy: billingv1.ClosedPeriodPolicy_CLOSED_PERIOD_POLICY_REJECT}})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetLegalEntity().GetLegalEntityId()
}

// postEntries writes n balanced two-line entries (labor cost against labor cost clearing) of a
// legal entity in one transaction of q, the way posting writes them (the export's position
// columns take their defaults). run names the sources.
func postEntries(t testing.TB, ctx context.Context, q interface {
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
}, le, run string, n int) {
	t.Helper()
	if _, err := q.Exec(ctx, `INSERT INTO journal_entries (id, legal_entity_id, currency_code, posting_date, source_date, source_type,
			source_id, source_version, description, correlation_id)
		SELECT md5($2 || i)::uuid, $1::uuid, 'USD', DATE '2026-12-01' + (i % 28), DATE '2026-12-01' + (i % 28), 'time_entry',
			$2 || '-' || i, 1, 'consulting', 'corr-' || $2 || '-' || i
		FROM generate_series(1, $3::int) i`, le, run, n); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Exec(ctx, `INSERT INTO journal_lines (entry_id, line_no, legal_entity_id, account_code, debit, credit,
			txn_currency, txn_amount, fx_rate, rate_date)
		SELECT md5($2 || i)::uuid, n, $1::uuid, CASE n WHEN 1 THEN '5000' ELSE '2150' END,
			CASE n WHEN 1 THEN a ELSE 0 END, CASE n WHEN 2 THEN a ELSE 0 END, 'USD', CASE n WHEN 1 THEN a ELSE -a END, 1,
			DATE '2026-12-01'
		FROM generate_series(1, $3::int) i CROSS JOIN generate_series(1, 2) n CROSS JOIN LATERAL (SELECT (i % 97 + 1) * 12.5 AS a) x
		ORDER BY i, n`, le, run, n); err != nil {
		t.Fatal(err)
	}
}

// waitExportable waits until every line of the legal entity is below the export's watermark
// (transactions of other databases on the shared cluster can hold it back for a moment).
func waitExportable(t testing.TB, pool *pgxpool.Pool, le string) {
	t.Helper()
	for range 600 {
		var below bool
		if err := pool.QueryRow(context.Background(), `SELECT NOT EXISTS (SELECT 1 FROM journal_lines WHERE legal_entity_id = $1::uuid
			AND export_xact >= pg_snapshot_xmin(pg_current_snapshot()))`, le).Scan(&below); err != nil {
			t.Fatal(err)
		}
		if below {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("the export watermark never passed the lines written")
}

// export runs an export to the end and returns its bytes, the last chunk's cursor and the lines.
func export(t testing.TB, ctx context.Context, cl exportClients, req *billingv1.ExportJournalRequest) ([]byte, string, int64, error) {
	t.Helper()
	stream, err := cl.x.ExportJournal(ctx, req)
	if err != nil {
		return nil, "", 0, err
	}
	var out bytes.Buffer
	var cursor string
	var lines int64
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return out.Bytes(), cursor, lines, nil
		}
		if err != nil {
			return nil, "", 0, err
		}
		out.Write(m.GetData())
		lines += m.GetLines()
		if m.GetCursor() != "" {
			cursor = m.GetCursor()
		}
	}
}

func mustExport(t testing.TB, ctx context.Context, cl exportClients, req *billingv1.ExportJournalRequest) ([]byte, string, int64) {
	t.Helper()
	b, c, n, err := export(t, ctx, cl, req)
	if err != nil {
		t.Fatal(err)
	}
	return b, c, n
}

func grpcCode(err error) codes.Code { return status.Code(err) }
