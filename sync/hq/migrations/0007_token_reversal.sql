-- depends: 0006_token_expiry
-- A refund takes back the tokens of the part of the sale it refunds (DOMAIN.md): one `reversal` entry in HQ's token
-- ledger per refund, named here. The parties' shares go to the `reversed` holder (out of circulation); the
-- customer's share only as far as it is still unclaimed (what a customer already claimed stays theirs).
ALTER TABLE refunds ADD COLUMN ledger_seq bigint REFERENCES token_ledger (seq);
CREATE INDEX refunds_not_in_ledger ON refunds (terminal_id, refund_id) WHERE ledger_seq IS NULL;

-- What of a sale's customer share the `unclaimed` holder still holds: set when the mint enters the chain, lowered by
-- its claim, expiry and reversals (verify-ledger re-derives it from the entries).
ALTER TABLE token_mints ADD COLUMN customer_held bigint CHECK (customer_held >= 0);
UPDATE token_mints m SET customer_held = CASE
    WHEN EXISTS (SELECT 1 FROM checks c WHERE c.terminal_id = m.terminal_id AND c.sale_id = m.sale_id
                 AND (c.claimed_at IS NOT NULL OR c.expired_seq IS NOT NULL))
    THEN m.customer - coalesce((SELECT cl.amount FROM claims cl JOIN checks c ON c.check_id = cl.check_id
                                WHERE c.terminal_id = m.terminal_id AND c.sale_id = m.sale_id), 0)
                    - coalesce((SELECT (convert_from(l.body, 'UTF8')::jsonb ->> 'amount')::bigint FROM checks c
                                JOIN token_ledger l ON l.seq = c.expired_seq
                                WHERE c.terminal_id = m.terminal_id AND c.sale_id = m.sale_id), 0)
    ELSE m.customer END
WHERE m.ledger_seq IS NOT NULL;

-- ST taken out of circulation by reversals (the caps are shares of minted - reversed).
ALTER TABLE token_ledger_head ADD COLUMN reversed bigint NOT NULL DEFAULT 0;
