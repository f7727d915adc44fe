package pg

import (
	"hash/fnv"

	"github.com/pressly/goose/v3/lock"
)

// mustLocker returns a session advisory lock distinct per version table, so that two replicas
// starting at once apply migrations one after the other.
func mustLocker(table string) lock.SessionLocker {
	h := fnv.New64a()
	_, _ = h.Write([]byte("accrue-migrations-" + table))
	l, err := lock.NewPostgresSessionLocker(lock.WithLockID(int64(h.Sum64() >> 1)))
	if err != nil {
		panic(err)
	}
	return l
}
