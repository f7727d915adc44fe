package outbox

import (
	"fmt"
	"strconv"
	"strings"
)

// entryID is a Redis stream entry id, <ms>-<seq>.
type entryID struct{ ms, seq int64 }

func parseID(s string) (entryID, error) {
	ms, seq, ok := strings.Cut(s, "-")
	if !ok {
		return entryID{}, fmt.Errorf("outbox: stream entry id %q", s)
	}
	m, err1 := strconv.ParseInt(ms, 10, 64)
	q, err2 := strconv.ParseInt(seq, 10, 64)
	if err1 != nil || err2 != nil {
		return entryID{}, fmt.Errorf("outbox: stream entry id %q", s)
	}
	return entryID{m, q}, nil
}

func (a entryID) less(b entryID) bool { return a.ms < b.ms || (a.ms == b.ms && a.seq < b.seq) }

func (a entryID) String() string { return fmt.Sprintf("%d-%d", a.ms, a.seq) }

// nextID returns the smallest stream id greater than id.
func nextID(id string) string {
	ms, seq, ok := strings.Cut(id, "-")
	if !ok {
		return id
	}
	n, err := strconv.ParseUint(seq, 10, 64)
	if err != nil {
		return id
	}
	return ms + "-" + strconv.FormatUint(n+1, 10)
}

// lessID compares two stream ids numerically.
func lessID(a, b string) bool {
	am, as, _ := strings.Cut(a, "-")
	bm, bs, _ := strings.Cut(b, "-")
	ami, _ := strconv.ParseUint(am, 10, 64)
	bmi, _ := strconv.ParseUint(bm, 10, 64)
	if ami != bmi {
		return ami < bmi
	}
	asi, _ := strconv.ParseUint(as, 10, 64)
	bsi, _ := strconv.ParseUint(bs, 10, 64)
	return asi < bsi
}
