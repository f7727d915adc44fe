// Package app holds the billing service's use cases: one file per use case or small group, each
// running in one transaction (Store.InTx) that writes the change, its event (outbox) and its
// audit record together. Use cases depend only on the Store interface declared here (store.go),
// never on pgx or the store package; transports (grpcapi, events) call one use case each.
//
// # Areas and how billing grows
//
// Each area of billing has a domain package, use-case files here and store files in
// internal/store, and names what it needs of the database in its own small interface in
// store.go, which Store embeds:
//
//	area            domain package         use cases (app)                  store interface
//	legal entities  internal/legalentity   legal_entities.go                LegalEntityStore
//	contracts       internal/contract      contract_*.go                    ContractStore
//	ledger          internal/ledger        periods.go, ledger_reads.go,     LedgerStore
//	                                       exchange_rates.go
//	posting         internal/ledger        posting.go, parked.go            PostingStore
//	replicas        internal/ledger        replicas.go                      ReplicaStore
//	ERP export      internal/erpexport     journal_export.go                JournalExportStore
//	supplier cost   internal/suppliercost  suppliercost_*.go                SupplierCostStore
//
// The areas still to come add their own rows the same way, never grow an existing area's files:
// internal/invoice (invoices from invoice candidates; invoice_*.go, InvoiceStore), internal/tax
// (tax_*.go, TaxStore), internal/payment (receivables and payments; payment_*.go, PaymentStore),
// internal/revenue (revenue recognition; revenue_*.go, RevenueStore), and internal/close (period
// close; close_*.go, CloseStore). Rules live in the domain package (no I/O there), the use
// case orders the steps in one transaction, and the store owns the SQL and the row format.
// Event payloads are built with wire; stream names and event types are the generated constants.
//
// A Service is safe for concurrent use.
package app
