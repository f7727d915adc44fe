// Package idempotency makes mutating RPCs safe to retry. A caller sends an Idempotency-Key (REST
// header, gRPC metadata "idempotency-key"); the key, scoped to the caller's client id and the RPC,
// is stored with a SHA-256 fingerprint of the request and the response, in the same transaction as
// the effect (the handler runs inside that transaction: pg.InTx joins it).
//
//   - same key, same request  → the stored response, and nothing is executed again;
//   - same key, other request → FAILED_PRECONDITION / IDEMPOTENCY_KEY_REUSED (REST 422);
//   - same key while the first request is still running → ABORTED / IDEMPOTENCY_KEY_IN_USE (409).
//
// A request that fails writes nothing, key included, so it can be retried with the same key.
package idempotency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/rpcspec"
)

// MetadataKey is the gRPC metadata key (the REST header is Idempotency-Key). Its value is read
// by ParseKey: a quoted sf-string as the draft says, or a legacy bare key.
const MetadataKey = "idempotency-key"

// ReplayedHeader is set on responses replayed from a stored key.
const ReplayedHeader = "idempotent-replayed"

// Reasons.
const (
	ReasonReused  = "IDEMPOTENCY_KEY_REUSED"
	ReasonInUse   = "IDEMPOTENCY_KEY_IN_USE"
	ReasonInvalid = "IDEMPOTENCY_KEY_INVALID"
)

// UnaryServerInterceptor applies idempotency keys to the RPCs the contract marks idempotent.
// It must run after authentication (the key is scoped to the caller).
func UnaryServerInterceptor(pool *pgxpool.Pool) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		// A key that is present is parsed on every RPC, as the gateway parses the header on
		// every route, so both refuse the same malformed keys; only idempotent RPCs use it.
		key, present, err := ParseKey(metadata.ValueFromIncomingContext(ctx, MetadataKey))
		if err != nil {
			return nil, err
		}
		if !present || !rpcspec.Lookup(info.FullMethod).Idempotent {
			return handler(ctx, req)
		}
		msg, ok := req.(proto.Message)
		if !ok {
			return handler(ctx, req)
		}
		client := "anonymous"
		if p, ok := auth.FromContext(ctx); ok {
			client = p.ClientID
		}
		return Do(ctx, pool, client+" "+info.FullMethod, key, msg, func(ctx context.Context) (proto.Message, error) {
			resp, err := handler(ctx, req)
			if err != nil {
				return nil, err
			}
			return resp.(proto.Message), nil
		})
	}
}

// Fingerprint is the SHA-256 of the deterministic encoding of req.
func Fingerprint(req proto.Message) ([]byte, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(req)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	return sum[:], nil
}

// Do runs fn at most once per (scope, key) and request fingerprint, in one transaction that also
// stores the response. fn receives a context carrying that transaction (pg.InTx joins it).
// A connection lost on the way (COMMIT included) is UNAVAILABLE / DATABASE_UNAVAILABLE: the
// caller retries with the same key, which returns the stored response if the commit went through.
func Do(ctx context.Context, pool *pgxpool.Pool, scope, key string, req proto.Message, fn func(ctx context.Context) (proto.Message, error)) (proto.Message, error) {
	resp, err := do(ctx, pool, scope, key, req, fn)
	return resp, pg.Unavailable(err)
}

func do(ctx context.Context, pool *pgxpool.Pool, scope, key string, req proto.Message, fn func(ctx context.Context) (proto.Message, error)) (proto.Message, error) {
	fp, err := Fingerprint(req)
	if err != nil {
		return nil, err
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return nil, fault.New(fault.Unavailable, pg.ReasonDatabaseUnavailable, "the database is unavailable").Wrap(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck

	var locked bool
	if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(hashtextextended($1, 7270))`, scope+"\n"+key).Scan(&locked); err != nil {
		return nil, err
	}
	if !locked {
		return nil, fault.New(fault.Conflict, ReasonInUse, "a request with this idempotency key is still in progress; retry later")
	}
	var storedFP, stored []byte
	err = tx.QueryRow(ctx, `SELECT fingerprint, response FROM idempotency_keys WHERE scope = $1 AND key = $2`, scope, key).Scan(&storedFP, &stored)
	switch {
	case err == nil:
		if !bytes.Equal(storedFP, fp) {
			return nil, fault.New(fault.FailedPrecondition, ReasonReused, "this idempotency key was already used with a different request")
		}
		var a anypb.Any
		if err := proto.Unmarshal(stored, &a); err != nil {
			return nil, fmt.Errorf("idempotency: stored response: %w", err)
		}
		resp, err := a.UnmarshalNew()
		if err != nil {
			return nil, fmt.Errorf("idempotency: stored response: %w", err)
		}
		_ = grpc.SetHeader(ctx, metadata.Pairs(ReplayedHeader, "true"))
		return resp, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return nil, err
	}

	resp, err := fn(pg.WithTx(ctx, tx))
	if err != nil {
		return nil, err
	}
	a, err := anypb.New(resp)
	if err != nil {
		return nil, err
	}
	b, err := proto.Marshal(a)
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (scope, key, fingerprint, response) VALUES ($1, $2, $3, $4)`, scope, key, fp, b); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	return resp, nil
}

// Sweep deletes keys older than ttl. Run it periodically (see Sweeper).
func Sweep(ctx context.Context, pool *pgxpool.Pool, ttl time.Duration) (int64, error) {
	tag, err := pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1)`, ttl.Seconds())
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}
