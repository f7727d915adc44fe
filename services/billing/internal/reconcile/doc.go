// Package reconcile is continuous reconciliation's domain: the runs, their totals and findings,
// and the comparisons that turn what time & expense approved, what the ledger posted and what
// was billed or left unbilled into findings naming the offending ids. It does no I/O; the app
// gathers the facts (from billing's store, time & expense's API and every service's outbox and
// inbox) and stores the run. Values are safe to share once built.
package reconcile
