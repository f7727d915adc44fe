package store

import (
	"context"
	"fmt"
	"strings"

	te "github.com/accrue/accrue/services/timeexpense/internal/timeexpense"
)

// rankSQL returns the SQL rank of a posting status column (te.PostingStatus.Rank).
func rankSQL(col string) string {
	var b strings.Builder
	b.WriteString("CASE " + col)
	for _, s := range te.RankedStatuses() {
		fmt.Fprintf(&b, " WHEN '%s' THEN %d", s, s.Rank())
	}
	b.WriteString(" ELSE 0 END")
	return b.String()
}

var applyPostingsSQL = `WITH a AS (
		SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[]) AS a(id, status, reason)
	), t AS (
		SELECT a.id, a.status, a.reason FROM a
		UNION ALL
		-- A posted reversal cancels its original.
		SELECT e.reverses_entry_id, a.status, a.reason FROM a JOIN time_entries e ON e.id = a.id
		WHERE a.status = 'REVERSED' AND e.reverses_entry_id IS NOT NULL
	), d AS (
		SELECT DISTINCT ON (id) id, status, reason FROM t ORDER BY id, ` + rankSQL("status") + ` DESC
	)
	UPDATE time_entries e SET posting_status = d.status, posting_reason = d.reason
	FROM d WHERE e.id = d.id AND (` + rankSQL("d.status") + ` > ` + rankSQL("e.posting_status") + ` OR d.status = e.posting_status)`

// ApplyPostings applies the ledger's answers (one per entry, see te.Settle) in one statement; an
// answer that ranks below the entry's status (te.PostingStatus.Supersedes) changes nothing. It
// returns the rows changed.
func (s *Store) ApplyPostings(ctx context.Context, answers []te.PostingAnswer) (int64, error) {
	if len(answers) == 0 {
		return 0, nil
	}
	ids, statuses, reasons := make([]string, len(answers)), make([]string, len(answers)), make([]string, len(answers))
	for i, a := range answers {
		ids[i], statuses[i], reasons[i] = a.EntryID, string(a.Status), a.Reason
	}
	tag, err := s.Q(ctx).Exec(ctx, applyPostingsSQL, ids, statuses, reasons)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}
