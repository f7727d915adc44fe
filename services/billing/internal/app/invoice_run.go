package app

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/accrue/accrue/internal/platform/audit"
	"github.com/accrue/accrue/internal/platform/auth"
	"github.com/accrue/accrue/internal/platform/civil"
	"github.com/accrue/accrue/internal/platform/fault"
	"github.com/accrue/accrue/services/billing/internal/contract"
	"github.com/accrue/accrue/services/billing/internal/invoice"
)

// RunChunk is how many contracts an invoice run proposes for in one transaction: large enough
// that the reads of a chunk are a handful of set-wise queries and its writes one batch and one
// commit, small enough that a chunk holds its contracts' locks briefly and a contract that fails
// costs little to redo on its own.
const RunChunk = 100

// RunWorkers is how many chunks of a run are proposed at once: two, so that one chunk's reads and
// commit overlap another's work in Go (a run is one caller; more workers would take connections
// and cores from everything else).
const RunWorkers = 2

// ProposeInvoices is the invoice run of a legal entity: for each of its contracts (or of
// contractIDs, all of which must be its contracts: CONTRACT_NOT_FOUND otherwise, before anything
// is written) it proposes a draft up to cutOff exactly as ProposeInvoice would, and returns per
// contract, by id, the draft or why there is none (NOTHING_TO_BILL; INVOICE_RUN_CONTRACT_BUSY for
// a contract another proposal or change held at that moment, which the run does not wait for; or
// the reason of the error that stopped that contract alone).
//
// Contracts are proposed for RunChunk at a time (RunWorkers chunks at once), each chunk in a
// transaction of its own (outside the caller's: see Store.Detach), committed when done: a chunk
// locks its contracts (SKIP LOCKED), reads what they need set-wise (ProposalBases) and writes its
// drafts in one batch. A chunk that fails is proposed again contract by contract, so one failing
// contract does not hold back the others. A run stopped midway (cancelled, database down) returns its error and keeps the chunks
// already committed: running it again proposes only what they did not.
func (s *Service) ProposeInvoices(ctx context.Context, legalEntityID string, cutOff civil.Date, contractIDs []string) (run invoice.Run, err error) {
	if err := auth.CheckLegalEntity(ctx, legalEntityID); err != nil {
		return run, err
	}
	ctx = s.store.Detach(ctx)
	if _, err := s.store.LegalEntity(ctx, legalEntityID); err != nil {
		return run, err
	}
	ids, err := s.store.ContractIDs(ctx, legalEntityID)
	if err != nil {
		return run, err
	}
	if len(contractIDs) > 0 {
		own := make(map[string]bool, len(ids))
		for _, id := range ids {
			own[id] = true
		}
		ids = slices.Compact(slices.Sorted(slices.Values(contractIDs)))
		for _, id := range ids {
			if !own[id] {
				return run, contract.ErrNotFound.With("contract "+id+" is not a contract of the legal entity", "contract_id", id)
			}
		}
	}
	chunks := make([][]invoice.RunOutcome, (len(ids)+RunChunk-1)/RunChunk)
	next := make(chan int)
	errs := make(chan error, RunWorkers)
	var wg sync.WaitGroup
	for range RunWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				chunk := ids[i*RunChunk : min((i+1)*RunChunk, len(ids))]
				out, err := s.proposeOrRetry(ctx, legalEntityID, chunk, cutOff)
				if err != nil {
					errs <- err
					return
				}
				chunks[i] = out
			}
		}()
	}
	stopped := false
	for i := range chunks {
		if stopped {
			break
		}
		select {
		case next <- i:
		case err := <-errs:
			errs <- err
			stopped = true
		}
	}
	close(next)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return run, err
	}
	run = invoice.Run{LegalEntityID: legalEntityID, CutOff: cutOff, Outcomes: make([]invoice.RunOutcome, 0, len(ids))}
	for _, out := range chunks {
		run.Outcomes = append(run.Outcomes, out...)
	}
	proposed, failed := run.Proposed()
	err = s.store.Audit(ctx, audit.Record{Action: "invoice.run", EntityType: "legal_entity", EntityID: legalEntityID,
		Details: map[string]any{"cut_off": cutOff.String(), "contracts": len(ids), "proposed": proposed, "failed": failed}})
	return run, err
}

// proposeOrRetry proposes for a chunk and, when the chunk fails as a whole, for each of its
// contracts on its own (a contract whose proposal fails gets its reason). Only an error that stops
// the run (stopsRun) is returned.
func (s *Service) proposeOrRetry(ctx context.Context, legalEntityID string, chunk []string, cutOff civil.Date) ([]invoice.RunOutcome, error) {
	out, err := s.proposeChunk(ctx, legalEntityID, chunk, cutOff)
	if err == nil {
		return out, nil
	}
	if stopsRun(ctx, err) {
		return nil, err
	}
	s.log.WarnContext(ctx, "invoice run: a chunk failed; proposing its contracts one by one", "legal_entity_id", legalEntityID,
		"first_contract_id", chunk[0], "contracts", len(chunk), "error", err)
	out = make([]invoice.RunOutcome, 0, len(chunk))
	for _, id := range chunk {
		one, err := s.proposeChunk(ctx, legalEntityID, []string{id}, cutOff)
		if err != nil {
			if stopsRun(ctx, err) {
				return nil, err
			}
			one = []invoice.RunOutcome{s.failed(ctx, id, err)}
		}
		out = append(out, one...)
	}
	return out, nil
}

// proposeChunk proposes for the contracts ids of legalEntityID in one transaction (see
// ProposeInvoices). An error is the chunk's: nothing of it was written.
func (s *Service) proposeChunk(ctx context.Context, legalEntityID string, ids []string, cutOff civil.Date) (out []invoice.RunOutcome, err error) {
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		out = out[:0] // a fresh transaction is retried on serialization failures
		heads, err := s.store.TryLockContracts(ctx, ids)
		if err != nil {
			return err
		}
		locked := make(map[string]contract.Head, len(heads))
		held := make([]string, 0, len(heads))
		for _, h := range heads {
			locked[h.ID] = h
			held = append(held, h.ID)
		}
		bases, err := s.store.ProposalBases(ctx, held, cutOff)
		if err != nil {
			return err
		}
		rates, err := s.store.TaxRates(ctx, legalEntityID)
		if err != nil {
			return err
		}
		var invs []invoice.Invoice
		var recs []audit.Record
		for _, id := range ids {
			h, ok := locked[id]
			if !ok {
				out = append(out, outcome(id, invoice.ErrContractBusy))
				continue
			}
			if bases[id] == nil || h.LegalEntityID != legalEntityID { // moved since the run listed it
				out = append(out, outcome(id, contract.ErrNotFound.With("contract "+id+" is no longer a contract of the legal entity")))
				continue
			}
			inv, err := s.draft(ctx, h, *bases[id], cutOff, len(rates) > 0)
			if errors.Is(err, invoice.ErrNothingToBill) {
				out = append(out, outcome(id, err))
				continue
			}
			if err != nil {
				return err
			}
			invs, recs = append(invs, inv), append(recs, proposedRecord(inv))
			head := inv
			head.Lines = nil
			out = append(out, invoice.RunOutcome{ContractID: id, Invoice: &head, LineCount: len(inv.Lines)})
		}
		return s.store.InsertInvoices(ctx, invs, recs...)
	})
	return out, err
}

// stopsRun reports whether err stops the whole run rather than one chunk: the caller gave up, or
// the database is unavailable (a retry of the run picks up where it stopped).
func stopsRun(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return true
	}
	fe, ok := fault.As(err)
	return ok && fe.Kind == fault.Unavailable
}

// failed is the outcome of a contract whose proposal failed on its own: its reason, or
// INTERNAL (the error logged, not shown) for an error without one.
func (s *Service) failed(ctx context.Context, contractID string, err error) invoice.RunOutcome {
	if fe, ok := fault.As(err); ok && fe.Kind != fault.Internal {
		return outcome(contractID, fe)
	}
	s.log.ErrorContext(ctx, "invoice run: proposing for a contract failed", "contract_id", contractID, "error", err)
	return invoice.RunOutcome{ContractID: contractID, Reason: "INTERNAL", Message: "proposing for this contract failed; see the billing log"}
}

// outcome is a contract's outcome without a draft, with the reason and message of err (a fault).
func outcome(contractID string, err error) invoice.RunOutcome {
	o := invoice.RunOutcome{ContractID: contractID, Reason: fault.ReasonOf(err)}
	if fe, ok := fault.As(err); ok {
		o.Message = fe.Message
	}
	return o
}
