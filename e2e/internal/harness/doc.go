// Package harness runs Accrue the way a user does, for end-to-end tests: the real binaries
// (five services, the gateway, accruectl) as child processes, against a real Postgres and a real
// Redis. Nothing is mocked.
//
// Main (called from TestMain) builds the binaries once. Start gives a test its own Env: five
// fresh databases, its own Redis stream prefix, its own signing key, free ports, and every
// process started and ready. Everything is torn down when the test ends; when it failed, the
// tail of each process log is printed.
//
// The internal links run as in production: a CA of the Env's own and a certificate per process
// (mutual TLS on every gRPC link; tests calling a service directly use GRPCTransport, the
// harness's own "e2e" certificate), an event signing key per service (EventKeysDir; Sign signs an
// event a test injects as if its producer had published it), and a token only for the services
// that call others, with only those calls' scopes (accruectl service-scopes).
//
// The gateway of every Env knows the webhook sources in WebhookSources on every webhook route,
// each pair with its own random secret (ACCRUE_WEBHOOK_SECRETS_FILE): PostWebhook and
// WebhookHeadersFor sign deliveries with the secret of the path's route, SignWebhook signs with
// any secret (forgeries, stale timestamps). Each webhook route has its own token with only its
// scopes (ACCRUE_WEBHOOK_TOKEN_DIR); the gateway's rate limits are off unless a test sets them
// (WithEnv), and its metrics are on its admin listener (MetricsAddr("gateway")).
//
// An Env belongs to the test that started it: its helpers fail that test (t.Fatal), so call them
// from that test's goroutine. Different tests may run in parallel, each with its own Env.
//
// The servers used are ACCRUE_TEST_DATABASE_URL (an administration DSN, default
// postgres://postgres@127.0.0.1:5432/postgres) and ACCRUE_TEST_REDIS_ADDR (default
// 127.0.0.1:6379); `make deps` starts them. The administration user owns each service database and
// applies its migrations; the services connect as AppRole, which the migrations grant only what a
// service needs (as in production, see pg.GrantApp). ACCRUE_E2E_RACE=1 builds the binaries with -race;
// ACCRUE_E2E_BIN_DIR=<dir> builds into (and reuses) that directory instead of a fresh temporary
// one, so unchanged binaries are not linked again; ACCRUE_E2E_KEEP=1 keeps the work directory
// (logs, keys) of failed tests; ACCRUE_E2E_MAX_ENVS bounds how many Envs run at once (default 2,
// whatever -parallel says, to stay within Postgres's connection limit); ACCRUE_E2E_SHARED=0 skips
// the check that the shared servers answer, for runs whose tests start their own (make chaos);
// ACCRUE_E2E_TRACES=1 turns tracing on in every Env, exporting to a collector of its own that
// counts the spans (StartTraceCollector and WithTraces give a test the spans themselves).
package harness
