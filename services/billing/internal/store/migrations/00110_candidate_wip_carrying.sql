-- +goose Up
-- Foreign-currency contracts (issue 14 item 5). A candidate's WIP is posted in the functional
-- currency at the rate of its work date; an invoice in the contract currency relieves that
-- carrying amount (not the amount at the issue date's rate) and books the difference as FX
-- gain or loss. invoice_candidates.wip_amount is the functional WIP the candidate carries as
-- posted (re-rating moves it with the WIP adjustment); invoice_lines.wip_amount is the
-- functional WIP a posted invoice line relieved of its candidate (a credit-note line: the
-- negative it put back), NULL on drafts, fee lines and lines that relieved their own amount
-- (readers take COALESCE(wip_amount, amount)); candidate_write_offs.wip_amount is the
-- functional WIP a write-off of work over a cap relieved.
--
-- Backfill: until this migration a contract had to be in its legal entity's functional
-- currency, so a candidate's amount is its WIP (rate 1) and a line's amount its relief. That
-- claim is not assumed: a candidate in another currency (none is expected) takes the WIP its
-- posting entry put in 1200 plus its bill adjustments, as the ledger holds it, and a posted
-- line of such a candidate its pro-rata share of it.
ALTER TABLE invoice_candidates ADD COLUMN wip_amount numeric;
UPDATE invoice_candidates c SET wip_amount = c.amount
FROM contracts k JOIN legal_entities le ON le.id = k.legal_entity_id
WHERE k.id = c.contract_id AND le.functional_currency = c.currency_code;
UPDATE invoice_candidates c SET wip_amount = COALESCE((
    SELECT sum(jl.debit - jl.credit) FROM journal_entries je JOIN journal_lines jl ON jl.entry_id = je.id
    WHERE jl.account_code = '1200' AND je.source_id = c.source_id
      AND ((je.source_type = c.source_type AND je.source_version = c.source_version) OR je.source_type = 'bill_adjustment')), c.amount)
WHERE c.wip_amount IS NULL;
ALTER TABLE invoice_candidates ALTER COLUMN wip_amount SET NOT NULL;

ALTER TABLE invoice_lines ADD COLUMN wip_amount numeric;
UPDATE invoice_lines l SET wip_amount = round(c.wip_amount * l.amount / c.amount, 2)
FROM invoices i, invoice_candidates c
WHERE i.id = l.invoice_id AND i.status = 'POSTED' AND c.id = l.candidate_id AND c.amount <> 0 AND c.wip_amount <> c.amount;
ALTER TABLE candidate_write_offs ADD COLUMN wip_amount numeric;
UPDATE candidate_write_offs w SET wip_amount = round(c.wip_amount * w.amount / c.amount, 2)
FROM invoice_candidates c WHERE c.id = w.candidate_id AND c.amount <> 0 AND c.wip_amount <> c.amount;

-- +goose Down
ALTER TABLE candidate_write_offs DROP COLUMN wip_amount;
ALTER TABLE invoice_lines DROP COLUMN wip_amount;
ALTER TABLE invoice_candidates DROP COLUMN wip_amount;
