package audit_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/correlation"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/pgtest"
)

// writeN writes n records, one statement each, with ids 1..n.
func writeN(t *testing.T, ctx context.Context, db *pgtest.DB, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		if err := audit.Write(ctx, db.Pool, audit.Record{Action: "invoice.posted", EntityType: "invoice",
			EntityID: fmt.Sprintf("inv-%d", i), Reason: "month end"}); err != nil {
			t.Fatal(err)
		}
	}
}

// asOwner runs sql as the table owner with the append-only trigger off, as someone able to
// bypass it would.
func asOwner(t *testing.T, ctx context.Context, db *pgtest.DB, sql ...string) {
	t.Helper()
	err := pg.InTx(ctx, db.Pool, func(ctx context.Context, tx pgx.Tx) error {
		for _, q := range append(append([]string{`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update`}, sql...),
			`ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update`) {
			if _, err := tx.Exec(ctx, q); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func verify(t *testing.T, ctx context.Context, db *pgtest.DB, anchors ...audit.Anchor) audit.Report {
	t.Helper()
	rep, err := audit.Verify(ctx, db.Pool, anchors...)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// wantProblems checks the report lists exactly these (kind, position, id) breaks, in order.
func wantProblems(t *testing.T, rep audit.Report, want ...audit.Problem) {
	t.Helper()
	if len(rep.Problems) != len(want) {
		t.Fatalf("problems = %v, want %d: %v", rep.Problems, len(want), want)
	}
	for i, w := range want {
		if p := rep.Problems[i]; p.Kind != w.Kind || p.Position != w.Position || p.ID != w.ID {
			t.Errorf("problem %d = %v; want %s at position %d (id %d)", i, p, w.Kind, w.Position, w.ID)
		}
	}
}

func TestChainCoversEveryWriteInCommitOrder(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, nil)
	actx := correlation.With(auth.WithPrincipal(ctx, auth.Principal{Subject: "zoë-финансы"}), "corr-1")

	// Three paths at once: a transaction, a multi-row statement on the pool, and a one-round-trip
	// batch that also writes another table.
	const writers, each = 6, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				rec := audit.Record{Action: "rate.changed", EntityType: "resource", EntityID: fmt.Sprintf("r-%d-%d", w, i),
					Reason: "", Details: map[string]any{"b": 2, "a": []any{"x", 1.5}, "note": "naïve"}}
				switch w % 3 {
				case 0:
					errs <- pg.InTx(actx, db.Pool, func(ctx context.Context, tx pgx.Tx) error { return audit.Write(ctx, tx, rec) })
				case 1:
					errs <- audit.WriteAll(actx, db.Pool, rec, rec)
				default:
					var b pg.Batch
					b.Queue(`INSERT INTO idempotency_keys (scope, key, fingerprint, response) VALUES ('s', $1, '', '')`, rec.EntityID)
					if err := audit.Queue(actx, &b, rec); err != nil {
						errs <- err
						continue
					}
					errs <- b.Run(actx, db.Pool)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	want := int64(writers/3*each*1 + writers/3*each*2 + writers/3*each*1)
	rep := verify(t, ctx, db)
	if !rep.OK() || rep.Rows != want || rep.HeadSeq != want {
		t.Fatalf("report = %+v; want %d rows, intact", rep, want)
	}
	// Positions are 1..n without gaps whatever order the ids were drawn in.
	var minSeq, maxSeq, n int64
	if err := db.Pool.QueryRow(ctx, `SELECT min(chain_seq), max(chain_seq), count(DISTINCT chain_seq) FROM audit_log`).Scan(&minSeq, &maxSeq, &n); err != nil {
		t.Fatal(err)
	}
	if minSeq != 1 || maxSeq != want || n != want {
		t.Fatalf("positions %d..%d (%d distinct), want 1..%d", minSeq, maxSeq, n, want)
	}
}

func TestVerifyNamesAnEditedRow(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, nil)
	writeN(t, ctx, db, 8)
	if rep := verify(t, ctx, db); !rep.OK() || rep.Rows != 8 {
		t.Fatalf("untouched chain: %+v", rep)
	}
	asOwner(t, ctx, db, `UPDATE audit_log SET reason = 'typo' WHERE id = 3`)
	rep := verify(t, ctx, db)
	wantProblems(t, rep, audit.Problem{Kind: audit.Edited, Position: 3, ID: 3})
	if s := rep.Problems[0].String(); !strings.Contains(s, "position 3 (audit_log id 3): EDITED") {
		t.Errorf("problem reads %q", s)
	}

	// Every field is covered: the time, the actor, the details, ... (one row each).
	want := []audit.Problem{{Kind: audit.Edited, Position: 3, ID: 3}}
	for i, set := range []string{"occurred_at = occurred_at + interval '1 microsecond'", "actor = 'mallory'",
		`details = '{"x": 1}'`, "correlation_id = 'other'", "entity_id = 'inv-x'"} {
		id := int64(i + 4)
		asOwner(t, ctx, db, fmt.Sprintf(`UPDATE audit_log SET %s WHERE id = %d`, set, id))
		want = append(want, audit.Problem{Kind: audit.Edited, Position: id, ID: id})
	}
	wantProblems(t, verify(t, ctx, db), want...)
}

func TestVerifyNamesAnEditedRowWhoseHashWasRecomputed(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, nil)
	writeN(t, ctx, db, 5)
	asOwner(t, ctx, db, `UPDATE audit_log SET reason = 'typo',
		hash = audit_log_hash(prev_hash, id, occurred_at, actor, action, entity_type, entity_id, 'typo', correlation_id, details)
		WHERE id = 3`)
	rep := verify(t, ctx, db)
	wantProblems(t, rep, audit.Problem{Kind: audit.Unlinked, Position: 4, ID: 4})
	if !strings.Contains(rep.Problems[0].Detail, "position 3") {
		t.Errorf("detail %q does not point at the rewritten row", rep.Problems[0].Detail)
	}
}

func TestVerifyNamesDeletedRows(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, nil)
	writeN(t, ctx, db, 5)
	asOwner(t, ctx, db, `DELETE FROM audit_log WHERE id = 3`)
	rep := verify(t, ctx, db)
	wantProblems(t, rep, audit.Problem{Kind: audit.Missing, Position: 3})
	if d := rep.Problems[0].Detail; !strings.Contains(d, "position 2 (id 2) to position 4 (id 4)") {
		t.Errorf("detail %q does not name the rows around the gap", d)
	}

	// The last row: the chain head still counts it.
	asOwner(t, ctx, db, `DELETE FROM audit_log WHERE id = 5`)
	wantProblems(t, verify(t, ctx, db), audit.Problem{Kind: audit.Missing, Position: 3}, audit.Problem{Kind: audit.Missing, Position: 5})
}

func TestVerifyNamesReorderedRows(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, nil)
	writeN(t, ctx, db, 5)
	asOwner(t, ctx, db,
		`UPDATE audit_log SET chain_seq = -1 WHERE id = 2`,
		`UPDATE audit_log SET chain_seq = 2 WHERE id = 3`,
		`UPDATE audit_log SET chain_seq = 3 WHERE id = 2`)
	rep := verify(t, ctx, db)
	wantProblems(t, rep,
		audit.Problem{Kind: audit.Reordered, Position: 2, ID: 3},
		audit.Problem{Kind: audit.Reordered, Position: 3, ID: 2},
		audit.Problem{Kind: audit.Reordered, Position: 4, ID: 4})
	if d := rep.Problems[0].Detail; d != "it was chained after id 2, which is now at position 3" {
		t.Errorf("detail = %q", d)
	}
}

func TestAnchorCatchesRowsRemovedFromTheEndWithTheHead(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pgtest.New(t, nil)
	writeN(t, ctx, db, 4)
	anchor := verify(t, ctx, db).Head()
	parsed, err := audit.ParseAnchor(anchor.String())
	if err != nil || parsed.Position != 4 {
		t.Fatalf("ParseAnchor(%s) = %+v, %v", anchor, parsed, err)
	}
	// Remove the last row and rewind the head to the row before: the chain itself looks whole.
	asOwner(t, ctx, db, `DELETE FROM audit_log WHERE id = 4`,
		`UPDATE audit_chain_head SET seq = 3, hash = (SELECT hash FROM audit_log WHERE chain_seq = 3)`)
	if rep := verify(t, ctx, db); !rep.OK() {
		t.Fatalf("without the anchor: %v", rep.Problems)
	}
	wantProblems(t, verify(t, ctx, db, parsed), audit.Problem{Kind: audit.AnchorMismatch, Position: 4})

	// An anchor on a row that is still there and unchanged holds.
	if rep := verify(t, ctx, db, audit.Anchor{Position: 3, Hash: verify(t, ctx, db).HeadHash}); !rep.OK() {
		t.Fatalf("a true anchor: %v", rep.Problems)
	}
	for _, bad := range []string{"", "4", "x:ab", "0:" + strings.Repeat("0", 64), "4:abcd"} {
		if _, err := audit.ParseAnchor(bad); err == nil {
			t.Errorf("ParseAnchor(%q) accepted", bad)
		}
	}
}
