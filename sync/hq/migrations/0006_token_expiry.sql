-- depends: 0005_token_ledger
-- A check's customer share not claimed within 365 days of the sale expires into the redistribution pool, once:
-- the ledger entry that moved it is named here.
ALTER TABLE checks ADD COLUMN expired_seq bigint REFERENCES token_ledger (seq);
