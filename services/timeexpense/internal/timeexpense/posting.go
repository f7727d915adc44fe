package timeexpense

// PostingStatus says what the ledger did with an entry.
type PostingStatus string

const (
	PostingNotApproved          PostingStatus = "NOT_APPROVED"
	PostingPending              PostingStatus = "PENDING"
	PostingPosted               PostingStatus = "POSTED"
	PostingRejectedClosedPeriod PostingStatus = "REJECTED_CLOSED_PERIOD"
	PostingParkedRateMissing    PostingStatus = "PARKED_RATE_MISSING"
	PostingReversed             PostingStatus = "REVERSED"
)

// Rank orders posting statuses by how settled they are. The ledger's answers arrive out of order;
// an answer is applied only when it ranks at least as high as the entry's status, so a parked
// entry may become POSTED but a late PARKED never overwrites a final status; POSTED and
// REJECTED_CLOSED_PERIOD are final (neither replaces the other), and REVERSED (a correction
// cancelled the entry) replaces any of them.
func (p PostingStatus) Rank() int {
	switch p {
	case PostingParkedRateMissing:
		return 1
	case PostingPosted, PostingRejectedClosedPeriod:
		return 2
	case PostingReversed:
		return 3
	}
	return 0
}

// Final reports whether no later answer but a reversal changes the status.
func (p PostingStatus) Final() bool { return p.Rank() >= 2 }

// Supersedes reports whether the answer next replaces the status cur.
func (next PostingStatus) Supersedes(cur PostingStatus) bool {
	return next.Rank() > cur.Rank() || (next == cur && next != PostingNotApproved)
}

// RankedStatuses lists every status that ranks above zero, for stores that apply answers in bulk.
func RankedStatuses() []PostingStatus {
	return []PostingStatus{PostingParkedRateMissing, PostingPosted, PostingRejectedClosedPeriod, PostingReversed}
}

// PostingAnswer is the ledger's answer for one entry.
type PostingAnswer struct {
	EntryID string
	Status  PostingStatus
	Reason  string
}

// Settle reduces a batch of answers to one per entry: the highest-ranking, the latest among
// equals (answers are given in arrival order).
func Settle(answers []PostingAnswer) []PostingAnswer {
	idx := make(map[string]int, len(answers))
	out := make([]PostingAnswer, 0, len(answers))
	for _, a := range answers {
		i, ok := idx[a.EntryID]
		if !ok {
			idx[a.EntryID] = len(out)
			out = append(out, a)
			continue
		}
		if a.Status.Rank() >= out[i].Status.Rank() {
			out[i] = a
		}
	}
	return out
}
