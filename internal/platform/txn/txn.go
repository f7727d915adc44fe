// Package txn declares what every service's use cases need from their store besides their own
// aggregates: transactions, and the platform tables written inside them (outbox, audit,
// exceptions). An app package embeds Store in its own store interface; pgstore.Base implements
// it. It imports no pgx, so use cases stay free of the database driver.
package txn

import (
	"context"

	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/exceptions"
	"github.com/accrue/accrue/internal/platform/outbox"
)

// Store is the transactional part of a service's store. Every method runs in the transaction
// ctx carries, when there is one.
type Store interface {
	// InTx runs fn in a transaction carried by the ctx it passes fn, joining the one ctx already
	// carries. A fresh transaction is retried on serialization failures, so fn must have no
	// effect outside it.
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	// InTransaction reports whether ctx carries a transaction (a use case's, or the caller's:
	// the idempotency interceptor runs a call in one). A write that failed in it has aborted it.
	InTransaction(ctx context.Context) bool
	// Publish writes events to the outbox; Audit writes audit records.
	Publish(ctx context.Context, events ...outbox.Event) error
	Audit(ctx context.Context, records ...audit.Record) error
	// RecordException records a business exception (or bumps the open one with its dedupe key)
	// and returns its id; ResolveException resolves the open one with dedupeKey, if any.
	RecordException(ctx context.Context, n exceptions.New) (string, error)
	ResolveException(ctx context.Context, dedupeKey, by, note string) (bool, error)
}
