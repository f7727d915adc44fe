// Package timeexpense is the time & expense domain: entries and expense items, weekly timesheets
// and their approval workflow, corrections as a reversal plus a replacement (never an edit), the
// rules an entry must meet when it is recorded or imported, and how the ledger's answers (posting
// statuses) supersede one another. It does no I/O and imports neither pgx nor generated protobuf
// code; its values are safe to share once built.
//
// The rules that need state (projects, legal-entity policies, closed periods, daily totals) run
// against a Replica and a DailyHours the caller loads: one entry's worth for the API, a whole
// batch's worth for an import, so both paths apply exactly the same rules.
package timeexpense
