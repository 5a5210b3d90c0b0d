-- depends: 0003_terminal_books
-- KYC cases as terminals upload them: sealed envelopes (sync/protocol/kyc.py) stored on disk, named by the SHA-256 of
-- their bytes (content-addressed); here only what HQ can say without opening them. Review comes later.
CREATE TABLE kyc_cases (
    terminal_id    text NOT NULL REFERENCES terminals (id),
    case_id        uuid NOT NULL,
    sha256         text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size           integer NOT NULL CHECK (size > 0),
    level          text NOT NULL CHECK (level IN ('basic', 'enhanced')),
    created_at_ms  bigint NOT NULL,
    received_at    timestamptz NOT NULL DEFAULT now(),
    status         text NOT NULL DEFAULT 'submitted',
    PRIMARY KEY (terminal_id, case_id)
);
