// Package dispatchtest holds the dispatcher's end-to-end tests on real Postgres and Redis: events
// published through a real outbox and relay, consumed by the dispatcher's consumer group, fanned
// out and delivered to local receivers that verify Standard Webhooks signatures with their own
// implementation of the spec. It has no non-test code.
package dispatchtest
