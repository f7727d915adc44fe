package service

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/accrue/accrue/internal/platform/config"
	"github.com/accrue/accrue/internal/platform/pg"
	"github.com/accrue/accrue/internal/platform/stream"
)

// OutboxRetention is how long published events stay in the outbox for replay.
const OutboxRetention = 7 * 24 * time.Hour

// inboxPruneBatch is how many inbox rows one DELETE removes.
const inboxPruneBatch = 5000

// Limits are the database roles, the limits on statements and gRPC connections, and the
// retention of the consumers' records, read with the rest of Config.
type Limits struct {
	// MigrateDatabaseURL (ACCRUE_MIGRATE_DATABASE_URL) connects as the database's owner, who
	// applies the migrations and then grants the run-time role of DatabaseURL what it needs
	// (pg.GrantApp). Empty: DatabaseURL does both, or only checks that none is pending when its
	// role may not migrate (migrations then run elsewhere, e.g. `<svc> migrate` as the owner).
	MigrateDatabaseURL string
	// Limits of every statement on the run-time pool (0 = the server's):
	// ACCRUE_DB_STATEMENT_TIMEOUT (30s), ACCRUE_DB_LOCK_TIMEOUT (10s).
	DBStatementTimeout, DBLockTimeout time.Duration
	// gRPC server limits (see grpcx.ServerConfig): ACCRUE_GRPC_MAX_CONCURRENT_STREAMS (1000),
	// ACCRUE_GRPC_KEEPALIVE_MIN_TIME (10s), ACCRUE_GRPC_KEEPALIVE_TIME (1m),
	// ACCRUE_GRPC_KEEPALIVE_TIMEOUT (20s).
	GRPCMaxConcurrentStreams                                      int
	GRPCKeepaliveMinTime, GRPCKeepaliveTime, GRPCKeepaliveTimeout time.Duration
	// InboxRetention (ACCRUE_INBOX_RETENTION) is how long consumers remember the events they
	// applied; at least OutboxRetention, so an event still replayable is still recognised.
	InboxRetention time.Duration
	// DeadLetterMaxLen (ACCRUE_DEAD_LETTER_MAX_LEN, 10000) caps each dead-letter stream.
	DeadLetterMaxLen int
}

func loadLimits(r *config.Reader) Limits {
	l := Limits{
		MigrateDatabaseURL:       r.String("ACCRUE_MIGRATE_DATABASE_URL", ""),
		DBStatementTimeout:       r.Duration("ACCRUE_DB_STATEMENT_TIMEOUT", 30*time.Second),
		DBLockTimeout:            r.Duration("ACCRUE_DB_LOCK_TIMEOUT", 10*time.Second),
		GRPCMaxConcurrentStreams: r.Int("ACCRUE_GRPC_MAX_CONCURRENT_STREAMS", 1000),
		GRPCKeepaliveMinTime:     r.Duration("ACCRUE_GRPC_KEEPALIVE_MIN_TIME", 10*time.Second),
		GRPCKeepaliveTime:        r.Duration("ACCRUE_GRPC_KEEPALIVE_TIME", time.Minute),
		GRPCKeepaliveTimeout:     r.Duration("ACCRUE_GRPC_KEEPALIVE_TIMEOUT", 20*time.Second),
		InboxRetention:           r.Duration("ACCRUE_INBOX_RETENTION", OutboxRetention),
		DeadLetterMaxLen:         r.Int("ACCRUE_DEAD_LETTER_MAX_LEN", 10000),
	}
	l.validate(r)
	return l
}

func (c Limits) validate(r *config.Reader) {
	if c.InboxRetention < OutboxRetention {
		r.Fail(fmt.Errorf("ACCRUE_INBOX_RETENTION (%s) must be at least the outbox retention (%s): an event replayed from the outbox would otherwise be applied again",
			c.InboxRetention, OutboxRetention))
	}
	if c.GRPCMaxConcurrentStreams < 1 {
		r.Fail(errors.New("ACCRUE_GRPC_MAX_CONCURRENT_STREAMS must be at least 1"))
	}
	if c.DeadLetterMaxLen < 1 {
		r.Fail(errors.New("ACCRUE_DEAD_LETTER_MAX_LEN must be at least 1"))
	}
	if c.DBStatementTimeout < 0 || c.DBLockTimeout < 0 {
		r.Fail(errors.New("ACCRUE_DB_STATEMENT_TIMEOUT and ACCRUE_DB_LOCK_TIMEOUT cannot be negative (0 turns them off)"))
	}
	if c.MigrateDatabaseURL != "" {
		if _, err := pg.RoleOf(c.MigrateDatabaseURL); err != nil {
			r.Fail(fmt.Errorf("ACCRUE_MIGRATE_DATABASE_URL: %w", err))
		}
	}
	if c.GRPCKeepaliveMinTime <= 0 || c.GRPCKeepaliveTime <= 0 || c.GRPCKeepaliveTimeout <= 0 {
		r.Fail(errors.New("ACCRUE_GRPC_KEEPALIVE_MIN_TIME, ACCRUE_GRPC_KEEPALIVE_TIME and ACCRUE_GRPC_KEEPALIVE_TIMEOUT must be positive"))
	}
}

// AppRole returns the run-time role the migrations grant: the user of DatabaseURL when
// MigrateDatabaseURL connects as another one, "" when there is a single role.
func (c Config) AppRole() (string, error) {
	if c.MigrateDatabaseURL == "" {
		return "", nil
	}
	owner, err := pg.RoleOf(c.MigrateDatabaseURL)
	if err != nil {
		return "", err
	}
	app, err := pg.RoleOf(c.DatabaseURL)
	if err != nil || app == owner {
		return "", err
	}
	return app, nil
}

// migrate applies the platform's and the service's migrations on a pool of its own, without
// statement timeouts (a migration may rewrite a large table), then grants the run-time role.
func migrate(ctx context.Context, cfg Config, migrations fs.FS) error {
	dsn := cfg.MigrateDatabaseURL
	if dsn == "" {
		dsn = cfg.DatabaseURL
	}
	role, err := cfg.AppRole()
	if err != nil {
		return err
	}
	pool, err := pg.Connect(ctx, dsn, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := pg.Migrate(ctx, pool, migrations); err != nil {
		var pgErr *pgconn.PgError
		if cfg.MigrateDatabaseURL == "" && errors.As(err, &pgErr) && pgErr.Code == "42501" {
			return fmt.Errorf("%w (the role of ACCRUE_DATABASE_URL may not migrate: set ACCRUE_MIGRATE_DATABASE_URL to the owner's DSN, or run `%s migrate` with it)", err, cfg.Name)
		}
		return err
	}
	if role != "" {
		return pg.GrantApp(ctx, pool, role)
	}
	return nil
}

// pruneInbox forgets the events the consumers applied more than InboxRetention ago.
func (b *Base) pruneInbox(ctx context.Context) {
	n, err := stream.PruneInbox(ctx, b.Pool, b.Cfg.InboxRetention, inboxPruneBatch)
	if err != nil {
		b.Log.WarnContext(ctx, "inbox prune failed", "err", err)
		return
	}
	if n > 0 {
		b.Log.InfoContext(ctx, "inbox pruned", "rows", n)
	}
}

func (b *Base) sampleDeadLetters(ctx context.Context) {
	for _, c := range b.consumers {
		if err := c.SampleDeadLetters(ctx); err != nil && ctx.Err() == nil {
			b.Log.WarnContext(ctx, "dead-letter sample failed", "err", err)
		}
	}
}
