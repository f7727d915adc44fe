package pg

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
)

// Lock is a named class of transaction-scoped advisory locks. Each service declares its locks
// once, by name, with NewLock; the name (hashed) is the lock's first key and the locked id's hash
// its second, so two classes never collide however their ids look.
type Lock struct {
	name  string
	class int32
}

var (
	locksMu sync.Mutex
	locks   = map[int32]string{}
)

// NewLock declares the lock class name ("project.conversion"). It panics when name, or its hash,
// is already declared: two call sites sharing a class by accident would serialise each other.
func NewLock(name string) Lock {
	h := fnv.New32a()
	_, _ = h.Write([]byte(name))
	class := int32(h.Sum32() >> 1)
	locksMu.Lock()
	defer locksMu.Unlock()
	if other, dup := locks[class]; dup {
		panic(fmt.Sprintf("pg: lock %q collides with %q", name, other))
	}
	locks[class] = name
	return Lock{name: name, class: class}
}

// Name is the name the lock was declared with.
func (l Lock) Name() string { return l.name }

// Acquire takes the lock for each id until the transaction q belongs to ends, in a stable order
// (so two transactions locking overlapping sets cannot deadlock). q must be a transaction.
func (l Lock) Acquire(ctx context.Context, q Querier, ids ...string) error {
	return l.acquire(ctx, q, "pg_advisory_xact_lock", ids)
}

// AcquireShared takes the lock for each id in shared mode until the transaction q belongs to
// ends: shared holders do not wait for each other, Acquire (exclusive) waits for them all and
// they wait for it. Costs no write (unlike a row lock), so readers of a rarely changed row can
// take it on a hot path. q must be a transaction.
func (l Lock) AcquireShared(ctx context.Context, q Querier, ids ...string) error {
	return l.acquire(ctx, q, "pg_advisory_xact_lock_shared", ids)
}

func (l Lock) acquire(ctx context.Context, q Querier, fn string, ids []string) error {
	if l.name == "" {
		panic("pg: Acquire on an undeclared Lock (use NewLock)")
	}
	if len(ids) == 0 {
		return nil
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	_, err := q.Exec(ctx, `SELECT `+fn+`($1, h)
		FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest($2::text[]) AS k ORDER BY 1) AS s`, l.class, ids)
	if err != nil {
		return fmt.Errorf("pg: lock %s: %w", l.name, err)
	}
	return nil
}

// TryAcquire takes the lock for id if no other transaction holds it and reports whether it did.
func (l Lock) TryAcquire(ctx context.Context, q Querier, id string) (bool, error) {
	if l.name == "" {
		panic("pg: TryAcquire on an undeclared Lock (use NewLock)")
	}
	var ok bool
	if err := q.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1, hashtext($2))`, l.class, id).Scan(&ok); err != nil {
		return false, fmt.Errorf("pg: lock %s: %w", l.name, err)
	}
	return ok, nil
}
