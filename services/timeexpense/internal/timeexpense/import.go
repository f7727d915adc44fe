package timeexpense

import (
	"errors"

	"github.com/accrue/accrue/internal/platform/fault"
)

// ErrExternalRefTaken says a concurrent writer stored one of the external references a bulk
// write was storing (the unique index refused the write). It is no caller's mistake: the writer
// runs again and then sees the reference stored.
var ErrExternalRefTaken = errors.New("timeexpense: an external reference was stored by a concurrent writer")

// ImportItem is one item of an import: its input, or why it could not be read.
type ImportItem struct {
	Input Input
	// Err is set when the transport could not turn the item into an input (e.g. an impossible
	// date); the item is reported REJECTED with its reason.
	Err error
}

// ImportOutcome says what happened to one item.
type ImportOutcome int

const (
	ImportAccepted ImportOutcome = iota + 1
	ImportDuplicate
	ImportRejected
)

// ImportResult is the outcome of one item.
type ImportResult struct {
	Index      int
	ExternalID string
	Outcome    ImportOutcome
	EntryID    string
	Reason     string
	Message    string
}

// Reject reports the item REJECTED for err: its reason (INVALID_ITEM when err has none) and
// the message a caller may see.
func (r *ImportResult) Reject(err error) {
	r.Outcome, r.Reason, r.Message = ImportRejected, fault.ReasonOf(err), err.Error()
	if fe, ok := fault.As(err); ok {
		r.Message = fe.Message
	}
	if r.Reason == "" {
		r.Reason = "INVALID_ITEM"
	}
}

// ImportSummary is the outcome of an import, results in request order.
type ImportSummary struct {
	Results                        []ImportResult
	Accepted, Duplicates, Rejected int
	// Events is the number of time_entries.approved events published.
	Events int
}

// Tally counts the results' outcomes.
func (s *ImportSummary) Tally() {
	s.Accepted, s.Duplicates, s.Rejected = 0, 0, 0
	for _, r := range s.Results {
		switch r.Outcome {
		case ImportAccepted:
			s.Accepted++
		case ImportDuplicate:
			s.Duplicates++
		default:
			s.Rejected++
		}
	}
}
