-- +goose Up
-- Bill-rate re-rating (ledger.SourceBillAdjustment): an amendment of a contract's bill rates
-- re-rates the open candidates of its time and lists the invoiced ones for a decision.
CREATE INDEX invoice_candidates_contract ON invoice_candidates (contract_id) WHERE source_type = 'time_entry' AND status IN ('OPEN', 'INVOICED');
CREATE INDEX journal_entries_bill_adjusted ON journal_entries (source_id) WHERE source_type = 'bill_adjustment';
-- The contract version whose rates a candidate carries after a re-rate (NULL: as posted).
ALTER TABLE invoice_candidates ADD COLUMN rated_contract_version bigint;

-- Invoiced candidates whose bill rate changed afterwards: what a credit note / rebill would
-- need now (one row per candidate, the latest amendment's figures; removed when a later one
-- brings the rate back to what was invoiced).
CREATE TABLE rebill_decisions (
    candidate_id      uuid PRIMARY KEY REFERENCES invoice_candidates (id),
    contract_id       uuid        NOT NULL,
    contract_version  bigint      NOT NULL,
    project_id        uuid        NOT NULL,
    source_id         text        NOT NULL,
    source_date       date        NOT NULL,
    quantity          numeric     NOT NULL,
    currency_code     char(3)     NOT NULL,
    invoiced_rate     numeric     NOT NULL,
    invoiced_amount   numeric     NOT NULL,
    rerated_rate      numeric     NOT NULL,
    rerated_amount    numeric     NOT NULL,
    delta             numeric     NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rebill_decisions_contract ON rebill_decisions (contract_id, candidate_id);

-- +goose Down
DROP TABLE rebill_decisions;
ALTER TABLE invoice_candidates DROP COLUMN rated_contract_version;
DROP INDEX journal_entries_bill_adjusted;
DROP INDEX invoice_candidates_contract;
