package paging

// DefaultSize is the page size of a list request that names none.
const DefaultSize = 50

// Request is a decoded list request: the position to continue after and the page size.
type Request struct {
	AfterID  string
	AfterKey string
	Size     int
}

// Fetch is how many rows a store should read for the page: one more than Size, so Page can tell
// whether another page follows.
func (r Request) Fetch() int { return r.Size + 1 }

// ByID decodes a list request whose token holds a canonical id (see DecodeID).
func ByID(pageSize int32, token string) (Request, error) {
	id, key, err := DecodeID(token)
	return Request{AfterID: id, AfterKey: key, Size: size(pageSize)}, err
}

// ByKey decodes a list request whose token may hold any id and key (see Decode).
func ByKey(pageSize int32, token string) (Request, error) {
	id, key, err := Decode(token)
	return Request{AfterID: id, AfterKey: key, Size: size(pageSize)}, err
}

func size(n int32) int {
	if n <= 0 {
		return DefaultSize
	}
	return int(n)
}

// Page trims rows (read with r.Fetch()) to the page and returns the token of the next page, ""
// on the last one. pos gives a row's position: its id and secondary key.
func Page[T any](r Request, rows []T, pos func(T) (id, key string)) ([]T, string) {
	if len(rows) <= r.Size {
		return rows, ""
	}
	rows = rows[:r.Size]
	id, key := pos(rows[len(rows)-1])
	return rows, Encode(id, key)
}
