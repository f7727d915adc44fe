// Package platform is the root of Accrue's shared platform library: the mechanisms every service
// uses (gRPC server and interceptors, authentication, Postgres and migrations, the outbox and its
// relay, stream consumers, idempotency keys, the exception queue, audit records, logging, metrics).
// It knows nothing of any business domain; services import it, never the other way round.
package platform
