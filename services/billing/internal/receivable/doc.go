// Package receivable holds the rules of what customers owe and pay: payment terms (instalments
// of a percentage due N days after the issue date), an invoice's schedule of due amounts,
// payments and their application to instalments (explicit or oldest due first), the write-off
// of a small remainder within the legal entity's tolerance, realized FX gain or loss, and the
// AR aging buckets. No I/O here: the store reads instalments and payments and writes what these
// functions decide. Values are safe to share; nothing here is mutated concurrently.
//
// Amounts are kept twice: in the invoice's (transaction) currency, which is what the customer
// sees, and in the legal entity's functional currency, which is what the ledger holds. Each
// instalment carries its share of the receivable booked at the invoice-date rate; whatever
// settles an instalment completely relieves exactly what is left of that share, so the open
// functional amounts of all instalments always equal the receivable account's balance.
package receivable
