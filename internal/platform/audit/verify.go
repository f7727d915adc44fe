package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The audit trail is a hash chain (platform migration 00006): each row stores prev_hash, the hash
// of the row before it, and hash, sha256 over its own fields and prev_hash. Verify recomputes it
// here, independently of the database function that extends it, so an edit made by someone able
// to bypass the append-only triggers, or to replace that function, still shows.

// Kinds of chain breaks.
const (
	// Edited: the row's fields no longer match its hash.
	Edited = "EDITED"
	// Missing: positions are absent from the chain (rows deleted).
	Missing = "MISSING"
	// Reordered: the row was chained after a row that now sits at another position.
	Reordered = "REORDERED"
	// Unlinked: the row's prev_hash matches no row: the row before it was changed and its hash
	// recomputed, or replaced.
	Unlinked = "UNLINKED"
	// Duplicate: two rows claim one position.
	Duplicate = "DUPLICATE"
	// HeadMismatch: the chain head (the position and hash of the last row written) does not
	// match the last row.
	HeadMismatch = "HEAD_MISMATCH"
	// AnchorMismatch: a position recorded earlier (see Anchor) no longer has its hash.
	AnchorMismatch = "ANCHOR_MISMATCH"
)

// maxProblems bounds a report; a chain broken in more places is reported as such.
const maxProblems = 100

// Problem is one break in the chain, at the row where it shows.
type Problem struct {
	Position int64  // position in the chain, from 1
	ID       int64  // audit_log id of the row there; 0 when no row is there
	Kind     string // Edited, Missing, ...
	Detail   string
}

func (p Problem) String() string {
	if p.ID == 0 {
		return fmt.Sprintf("position %d: %s: %s", p.Position, p.Kind, p.Detail)
	}
	return fmt.Sprintf("position %d (audit_log id %d): %s: %s", p.Position, p.ID, p.Kind, p.Detail)
}

// Anchor is a chain position and its hash recorded outside the database (from an earlier
// Report's head): rows removed from the end, with the head rewritten to match, only show against
// such a record.
type Anchor struct {
	Position int64
	Hash     []byte
}

// Report is the outcome of Verify.
type Report struct {
	Rows     int64  // rows checked
	HeadSeq  int64  // the chain head: position and hash of the last row written
	HeadHash []byte //
	Problems []Problem
	// Truncated: more than the Problems listed were found.
	Truncated bool
}

// OK reports whether the chain is intact.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// Head returns the chain head as an anchor to keep.
func (r Report) Head() Anchor { return Anchor{Position: r.HeadSeq, Hash: r.HeadHash} }

// String formats the anchor as position:hex, the form ParseAnchor reads.
func (a Anchor) String() string { return fmt.Sprintf("%d:%s", a.Position, hex.EncodeToString(a.Hash)) }

// ParseAnchor reads position:hex.
func ParseAnchor(s string) (Anchor, error) {
	var a Anchor
	var h string
	if _, err := fmt.Sscanf(s, "%d:%s", &a.Position, &h); err != nil || a.Position < 1 {
		return Anchor{}, fmt.Errorf("audit: anchor %q: want position:hash", s)
	}
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != sha256.Size {
		return Anchor{}, fmt.Errorf("audit: anchor %q: the hash is not 64 hex digits", s)
	}
	a.Hash = b
	return a, nil
}

// Beginner opens transactions: a pool or a connection.
type Beginner interface {
	BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
}

type chainRow struct {
	seq, id                                            int64
	at                                                 time.Time
	actor, action, etype, eid, reason, corrID, details string
	prevHash, hash                                     []byte
}

var genesis = make([]byte, sha256.Size)

// chainHash is the canonical hash of a row (version 1), the same as the database function
// audit_log_hash: the tag, the previous hash, the id and the time in microseconds (8 bytes
// big-endian each), then each text field as its byte length (4 bytes big-endian) and bytes.
func chainHash(prev []byte, r chainRow) []byte {
	b := make([]byte, 0, 128+len(r.details))
	b = append(b, "accrue.audit.v1"...)
	b = append(b, prev...)
	b = binary.BigEndian.AppendUint64(b, uint64(r.id))
	b = binary.BigEndian.AppendUint64(b, uint64(r.at.UnixMicro()))
	for _, f := range []string{r.actor, r.action, r.etype, r.eid, r.reason, r.corrID, r.details} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	sum := sha256.Sum256(b)
	return sum[:]
}

// Verify recomputes the audit chain of the database db is connected to, in one consistent
// snapshot, and reports every break (up to a hundred) at the row where it shows, and any anchor
// that no longer holds. It needs SELECT on audit_log and audit_chain_head (the owner, or a
// reader granted them).
func Verify(ctx context.Context, db Beginner, anchors ...Anchor) (Report, error) {
	var rep Report
	tx, err := db.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return rep, fmt.Errorf("audit: verify: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read-only
	if err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_chain_head`).Scan(&rep.HeadSeq, &rep.HeadHash); err != nil {
		return rep, fmt.Errorf("audit: verify: chain head: %w", err)
	}
	add := func(p Problem) {
		if len(rep.Problems) == maxProblems {
			rep.Truncated = true
			return
		}
		rep.Problems = append(rep.Problems, p)
	}
	rows, err := tx.Query(ctx, `SELECT chain_seq, id, occurred_at, actor, action, entity_type, entity_id, reason,
		correlation_id, details::text, prev_hash, hash FROM audit_log ORDER BY chain_seq, id`)
	if err != nil {
		return rep, fmt.Errorf("audit: verify: %w", err)
	}
	var (
		last     chainRow // the previous row (seq 0: none yet)
		prevHash = genesis
		unlinked []int // indexes of problems whose predecessor is looked up below
	)
	for rows.Next() {
		var r chainRow
		if err := rows.Scan(&r.seq, &r.id, &r.at, &r.actor, &r.action, &r.etype, &r.eid, &r.reason, &r.corrID,
			&r.details, &r.prevHash, &r.hash); err != nil {
			rows.Close()
			return rep, fmt.Errorf("audit: verify: %w", err)
		}
		rep.Rows++
		gap := false
		switch want := last.seq + 1; {
		case r.seq > want:
			gap = true
			add(Problem{Position: want, Kind: Missing, Detail: fmt.Sprintf("%s gone: the chain jumps from %s to position %d (id %d)",
				positions(want, r.seq-1), describe(last), r.seq, r.id)})
		case r.seq < want:
			add(Problem{Position: r.seq, ID: r.id, Kind: Duplicate, Detail: fmt.Sprintf("position %d is also held by id %d", r.seq, last.id)})
		}
		if !bytes.Equal(chainHash(r.prevHash, r), r.hash) {
			add(Problem{Position: r.seq, ID: r.id, Kind: Edited, Detail: fmt.Sprintf(
				"its fields no longer match its hash (now: %s %s/%s by %s at %s)", r.action, r.etype, r.eid, r.actor,
				r.at.UTC().Format(time.RFC3339Nano))})
		}
		if !gap && !bytes.Equal(r.prevHash, prevHash) {
			unlinked = append(unlinked, len(rep.Problems))
			add(Problem{Position: r.seq, ID: r.id, Kind: Unlinked, Detail: hex.EncodeToString(r.prevHash)})
		}
		last, prevHash = r, r.hash
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("audit: verify: %w", err)
	}
	// A broken link: if the row's predecessor is elsewhere in the chain, the rows were
	// reordered; if it is nowhere, the row before was rewritten and re-hashed.
	for _, i := range unlinked {
		if i >= len(rep.Problems) {
			break
		}
		p := &rep.Problems[i]
		want, _ := hex.DecodeString(p.Detail)
		var seq, id int64
		err := tx.QueryRow(ctx, `SELECT chain_seq, id FROM audit_log WHERE hash = $1 ORDER BY chain_seq LIMIT 1`, want).Scan(&seq, &id)
		switch {
		case err == nil:
			p.Kind, p.Detail = Reordered, fmt.Sprintf("it was chained after id %d, which is now at position %d", id, seq)
		case err == pgx.ErrNoRows:
			p.Detail = fmt.Sprintf("the row it was chained after is gone: the row before it (position %d) was changed and re-hashed, or replaced",
				p.Position-1)
		default:
			return rep, fmt.Errorf("audit: verify: %w", err)
		}
	}
	switch {
	case rep.HeadSeq > last.seq:
		add(Problem{Position: last.seq + 1, Kind: Missing, Detail: fmt.Sprintf(
			"%s gone from the end: the chain head records %d rows, the last is %s",
			positions(last.seq+1, rep.HeadSeq), rep.HeadSeq, describe(last))})
	case rep.HeadSeq != last.seq || !bytes.Equal(rep.HeadHash, prevHash):
		add(Problem{Position: rep.HeadSeq, Kind: HeadMismatch, Detail: fmt.Sprintf(
			"the chain head (position %d) does not match the last row, %s", rep.HeadSeq, describe(last))})
	}
	for _, a := range anchors {
		var h []byte
		err := tx.QueryRow(ctx, `SELECT hash FROM audit_log WHERE chain_seq = $1`, a.Position).Scan(&h)
		switch {
		case err == pgx.ErrNoRows:
			add(Problem{Position: a.Position, Kind: AnchorMismatch, Detail: "the recorded position is gone (rows removed from the end)"})
		case err != nil:
			return rep, fmt.Errorf("audit: verify: %w", err)
		case !bytes.Equal(h, a.Hash):
			add(Problem{Position: a.Position, Kind: AnchorMismatch, Detail: "the row there no longer has the recorded hash"})
		}
	}
	return rep, nil
}

func describe(r chainRow) string {
	if r.seq == 0 {
		return "the start"
	}
	return fmt.Sprintf("position %d (id %d)", r.seq, r.id)
}

func positions(from, to int64) string {
	if from == to {
		return fmt.Sprintf("position %d is", from)
	}
	return fmt.Sprintf("positions %d to %d are", from, to)
}
