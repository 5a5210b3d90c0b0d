-- depends: 0010_screening_lists
-- KYC review at HQ: each case's screening result and risk (derived, nothing personal), the reviewers' decision with
-- its reason, and the four-eyes approval of a high-risk case. Personal data stays in the sealed envelope.
ALTER TABLE kyc_cases ADD COLUMN risk_score integer CHECK (risk_score BETWEEN 0 AND 100);
ALTER TABLE kyc_cases ADD COLUMN risk_level text CHECK (risk_level IN ('low', 'medium', 'high'));
ALTER TABLE kyc_cases ADD COLUMN risk_parts jsonb;
ALTER TABLE kyc_cases ADD COLUMN screened_at timestamptz;
ALTER TABLE kyc_cases ADD COLUMN first_approver text;       -- a high-risk case's first approval, awaiting a second
ALTER TABLE kyc_cases ADD COLUMN decided_by text;
ALTER TABLE kyc_cases ADD COLUMN decided_at timestamptz;
ALTER TABLE kyc_cases ADD COLUMN decision_reason text;
ALTER TABLE kyc_cases ADD CONSTRAINT kyc_cases_status_check
    CHECK (status IN ('submitted', 'approved', 'rejected', 'resubmission_requested', 'expired'));
CREATE UNIQUE INDEX kyc_cases_case_id ON kyc_cases (case_id);

CREATE TABLE kyc_hits (
    case_id           uuid NOT NULL REFERENCES kyc_cases (case_id),
    list_format       text NOT NULL,
    ref               text NOT NULL,
    kind              text NOT NULL,
    score             integer NOT NULL,
    parts             jsonb NOT NULL,
    matched_name      text NOT NULL,
    dismissed_by      text,
    dismissed_reason  text,
    dismissed_at      timestamptz,
    PRIMARY KEY (case_id, list_format, ref)
);

-- Decisions reach the terminal that took the case through its updates feed, in this order.
CREATE SEQUENCE kyc_decision_seq;
ALTER TABLE kyc_cases ADD COLUMN decision_seq bigint UNIQUE;

-- What a transfer needs to know of the case, set when a compliance officer first reads it: the customer's account
-- (a pseudonymous key id) and whether they were 18 or older then (not the date of birth).
ALTER TABLE kyc_cases ADD COLUMN account_id text;
ALTER TABLE kyc_cases ADD COLUMN adult boolean;
CREATE INDEX kyc_cases_account ON kyc_cases (account_id) WHERE status = 'approved';

-- A new list version asks for every approved customer to be screened again; a compliance officer runs it (the
-- cases are decrypted in their request, as every read is).
ALTER TABLE kyc_cases ADD COLUMN rescreen_due boolean NOT NULL DEFAULT false;
