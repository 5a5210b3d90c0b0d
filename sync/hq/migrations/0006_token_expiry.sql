-- depends: 0005_token_ledger
-- A check's customer share not claimed within 365 days of the sale expires into the redistribution pool, once:
-- the ledger entry that moved it is named here.
ALTER TABLE checks ADD COLUMN expired_seq bigint REFERENCES token_ledger (seq);

-- All ST the chain has minted so far, kept on its head (the customer cap's denominator without a sum per claim).
ALTER TABLE token_ledger_head ADD COLUMN minted bigint NOT NULL DEFAULT 0;
UPDATE token_ledger_head SET minted = (SELECT coalesce(sum(m.minted), 0) FROM token_mints m
                                       WHERE m.ledger_seq IS NOT NULL);

-- The yearly redistribution of the pool (sync/hq/redistribution.py): once per year, named by its ledger entry.
CREATE TABLE token_redistributions (
    year        integer PRIMARY KEY CHECK (year BETWEEN 2000 AND 2999),
    ledger_seq  bigint REFERENCES token_ledger (seq),
    paid        bigint NOT NULL CHECK (paid >= 0),
    kept        bigint NOT NULL CHECK (kept >= 0),
    at          timestamptz NOT NULL DEFAULT now()
);
