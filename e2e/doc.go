// Package e2e tests Accrue end to end, the way a user runs it: the real binaries as child
// processes, a real Postgres and a real Redis (see internal/harness). Each test starts its own
// Accrue and asserts what a caller of the REST gateway, an operator reading logs and metrics, or
// a downstream service would see.
//
//	go test -race -count=1 ./e2e/...   (from the repository root; `make deps` starts Postgres and Redis)
package e2e
