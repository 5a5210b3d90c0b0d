-- depends: 0011_kyc_review
-- KYC retention (DOMAIN.md): a case's photographs go 90 days after its decision, its data 5 years after the
-- relationship ends, an approval lapses after 365 days. The case store names files by a CIDv1 of their bytes.

-- What the terminal's ledger says about each case (its kyc_submitted record, from a verified block): the envelope's
-- hash the upload must match, and the customer's account the desk linked (a pseudonymous id, nothing else).
CREATE TABLE kyc_submissions (
    case_id       uuid PRIMARY KEY,
    terminal_id   text NOT NULL REFERENCES terminals (id),
    sha256        text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    account_id    text,
    submitted_at  timestamptz NOT NULL
);
CREATE INDEX kyc_submissions_account ON kyc_submissions (account_id) WHERE account_id IS NOT NULL;

ALTER TABLE kyc_cases ADD COLUMN blob text;                  -- the stored file's CID (NULL: named by sha256, as before)
ALTER TABLE kyc_cases ADD COLUMN ended_at timestamptz;       -- when the case stopped being in force
ALTER TABLE kyc_cases ADD COLUMN images_deleted_at timestamptz;
ALTER TABLE kyc_cases ADD COLUMN data_deleted_at timestamptz;
CREATE INDEX kyc_cases_retention ON kyc_cases (decided_at) WHERE data_deleted_at IS NULL AND decided_at IS NOT NULL;
UPDATE kyc_cases SET ended_at = decided_at WHERE status IN ('rejected', 'resubmission_requested', 'expired');
