package pg_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/pgtest"
)

var (
	conversionLock = pg.NewLock("pgtest.conversion")
	otherLock      = pg.NewLock("pgtest.other")
	sharedLock     = pg.NewLock("pgtest.shared")
)

func TestLockSerialisesTransactionsOnTheSameID(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pg.NewDB(pgtest.New(t, nil).Pool)

	held := make(chan struct{})
	release := make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- db.InTx(ctx, func(ctx context.Context) error {
			if err := conversionLock.Acquire(ctx, db.Q(ctx), "deal-2", "deal-1", "deal-2"); err != nil {
				return err
			}
			close(held)
			<-release
			return nil
		})
	}()
	<-held

	// While the first transaction holds deal-1 and deal-2: those ids are taken, others free, and
	// another lock class never collides with this one.
	err := db.InTx(ctx, func(ctx context.Context) error {
		for id, want := range map[string]bool{"deal-1": false, "deal-2": false, "deal-3": true} {
			got, err := conversionLock.TryAcquire(ctx, db.Q(ctx), id)
			if err != nil || got != want {
				t.Errorf("TryAcquire(%s) while held elsewhere = %v, %v; want %v", id, got, err, want)
			}
		}
		if got, err := otherLock.TryAcquire(ctx, db.Q(ctx), "deal-1"); err != nil || !got {
			t.Errorf("another lock class on deal-1 = %v, %v; want taken", got, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// A second Acquire of deal-1 waits until the first transaction ends.
	second := make(chan time.Time, 1)
	go func() {
		_ = db.InTx(ctx, func(ctx context.Context) error {
			if err := conversionLock.Acquire(ctx, db.Q(ctx), "deal-1"); err != nil {
				t.Errorf("second Acquire: %v", err)
			}
			second <- time.Now()
			return nil
		})
	}()
	select {
	case <-second:
		t.Fatal("the second transaction acquired deal-1 while the first held it")
	case <-time.After(200 * time.Millisecond):
	}
	released := time.Now()
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if at := <-second; at.Before(released) {
		t.Fatalf("second Acquire returned at %v, before the first transaction ended at %v", at, released)
	}
}

func TestNewLockRefusesADuplicateName(t *testing.T) {
	t.Parallel()
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(r.(string), "pgtest.conversion") {
			t.Fatalf("NewLock of a declared name: recovered %v, want a panic naming it", r)
		}
	}()
	pg.NewLock("pgtest.conversion")
}

func TestUndeclaredLockPanics(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Fatal("Acquire on a zero Lock did not panic")
		}
	}()
	var l pg.Lock
	_ = l.Acquire(context.Background(), nil, "x")
}

// Shared holders of an id do not exclude each other; they exclude an exclusive holder.
func TestSharedLockExcludesOnlyExclusiveHolders(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	db := pg.NewDB(pgtest.New(t, nil).Pool)
	held := make(chan struct{})
	release := make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- db.InTx(ctx, func(ctx context.Context) error {
			if err := sharedLock.AcquireShared(ctx, db.Q(ctx), "card-1"); err != nil {
				return err
			}
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	err := db.InTx(ctx, func(ctx context.Context) error {
		if err := sharedLock.AcquireShared(ctx, db.Q(ctx), "card-1", "card-2"); err != nil {
			t.Errorf("a second shared holder of card-1: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.InTx(ctx, func(ctx context.Context) error {
		for id, want := range map[string]bool{"card-1": false, "card-2": true} {
			if got, err := sharedLock.TryAcquire(ctx, db.Q(ctx), id); err != nil || got != want {
				t.Errorf("exclusive TryAcquire(%s) while card-1 is held shared = %v, %v; want %v", id, got, err, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
}
