-- depends: 0004_kyc_cases
-- HQ's token ledger (docs/protocol.md section 11): every movement of ST is an entry of one append-only chain, each
-- entry's hash covering the previous one and signed with HQ's Ed25519 key. Balances are a view over the entries'
-- moves, kept in token_balances in the same transaction as the entry. Customers' accounts are P-256 keys held in
-- their browsers; claims turn a check's customer share into an account's balance exactly once.

CREATE TABLE token_ledger (
    seq        bigint PRIMARY KEY CHECK (seq >= 1),
    kind       text NOT NULL CHECK (kind IN ('mint', 'claim', 'transfer', 'reversal', 'expiry', 'redistribution')),
    body       bytea NOT NULL,          -- the entry's canonical JSON: what its hash covers
    hash       text NOT NULL UNIQUE,
    signature  text NOT NULL,
    at         timestamptz NOT NULL DEFAULT now()
);

-- The chain's head, one row: appending locks it, so entries get consecutive numbers and each links to the last.
CREATE TABLE token_ledger_head (
    id    integer PRIMARY KEY CHECK (id = 1),
    seq   bigint NOT NULL,
    hash  text NOT NULL
);
INSERT INTO token_ledger_head (id, seq, hash) VALUES (1, 0, repeat('0', 64));

-- Who holds what: owner, franchisee:<franchise id>, charity, unclaimed (customer shares not claimed yet),
-- redistribution (expired shares waiting for the yearly payout), and customer accounts (HC...).
CREATE TABLE token_balances (
    holder   text PRIMARY KEY,
    balance  bigint NOT NULL CHECK (balance >= 0)
);

-- A mint enters the ledger once.
ALTER TABLE token_mints ADD COLUMN ledger_seq bigint REFERENCES token_ledger (seq);
CREATE INDEX token_mints_not_in_ledger ON token_mints (sale_id) WHERE ledger_seq IS NULL;

CREATE TABLE accounts (
    account_id  text PRIMARY KEY CHECK (account_id ~ '^HC[0-9A-Z]{32}$'),
    public_key  text NOT NULL UNIQUE,   -- base64url of the 65-byte uncompressed P-256 point
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- A signed request's nonce is used once per account.
CREATE TABLE account_nonces (
    account_id  text NOT NULL,
    nonce       text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, nonce)
);

-- A check's share is claimed once: the primary key says so, whatever races.
CREATE TABLE claims (
    check_id    text PRIMARY KEY REFERENCES checks (check_id),
    claim_id    uuid NOT NULL UNIQUE,
    account_id  text NOT NULL REFERENCES accounts (account_id),
    amount      bigint NOT NULL CHECK (amount > 0),
    ledger_seq  bigint NOT NULL REFERENCES token_ledger (seq),
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX claims_account ON claims (account_id);

-- Wrong codes per check: five lock it for an hour.
CREATE TABLE claim_attempts (
    check_id      text PRIMARY KEY,
    failures      integer NOT NULL DEFAULT 0,
    locked_until  timestamptz
);

-- Which entries touch which holder (an account's history without scanning the chain).
CREATE TABLE token_ledger_holders (
    holder  text NOT NULL,
    seq     bigint NOT NULL REFERENCES token_ledger (seq),
    delta   bigint NOT NULL,
    PRIMARY KEY (holder, seq)
);
