-- HQ schema: the chain (franchises, nodes, terminals, blocks, records), the books materialised from the records,
-- staff, audit. Constraints make double counting impossible: one row per (terminal, height), per (terminal, seq),
-- per sale id, per sale's mint, per check, per refund id.
-- The bulk tables written by ingest (records, sales and what hangs off a sale) carry primary keys but no foreign
-- keys: ingest writes a block's rows together in one transaction, and a per-row foreign-key check tripled the cost
-- of each COPY (measured: tests/bench/test_bench_hq.py).

CREATE TABLE franchises (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE nodes (
    id            bigserial PRIMARY KEY,
    franchise_id  bigint NOT NULL REFERENCES franchises (id),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    node_type     text NOT NULL CHECK (node_type IN ('own', 'franchise')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (franchise_id, name)
);

CREATE TABLE terminals (
    id                  text PRIMARY KEY CHECK (id ~ '^[0-9A-Z]{4,32}$'),
    node_id             bigint NOT NULL REFERENCES nodes (id),
    name                text NOT NULL,
    account_xpub        text NOT NULL,
    signing_public_key  bytea NOT NULL CHECK (length(signing_public_key) = 33),
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
    enrolled_at         timestamptz NOT NULL DEFAULT now(),
    revoked_at          timestamptz
);

CREATE TABLE enrollment_codes (
    code_hash      bytea PRIMARY KEY,
    node_id        bigint NOT NULL REFERENCES nodes (id),
    terminal_name  text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    used_at        timestamptz,
    terminal_id    text REFERENCES terminals (id)
);

CREATE TABLE blocks (
    terminal_id    text NOT NULL REFERENCES terminals (id),
    height         bigint NOT NULL CHECK (height >= 0),
    hash           bytea NOT NULL,
    prev_hash      bytea NOT NULL,
    header         bytea NOT NULL,
    signature      bytea NOT NULL,
    first_seq      bigint NOT NULL,
    record_count   integer NOT NULL,
    created_at_ms  bigint NOT NULL,
    received_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (terminal_id, height),
    UNIQUE (terminal_id, hash)
);

-- The exact signed bytes of each record (canonical JSON). Its payload as jsonb is the view record_payloads:
-- parsing every record into jsonb at ingest cost more than storing it, and the books below already hold the facts.
CREATE TABLE records (
    terminal_id    text NOT NULL,
    seq            bigint NOT NULL,
    block_height   bigint NOT NULL,
    type           text NOT NULL,
    created_at_ms  bigint NOT NULL,
    body           bytea NOT NULL,
    PRIMARY KEY (terminal_id, seq)
);

CREATE VIEW record_payloads AS
    SELECT terminal_id, seq, block_height, type, created_at_ms,
           (convert_from(body, 'UTF8')::jsonb) -> 'payload' AS payload
    FROM records;

CREATE TABLE shifts (
    shift_id       uuid PRIMARY KEY,
    terminal_id    text NOT NULL REFERENCES terminals (id),
    opened_by      text NOT NULL,
    opened_at      timestamptz NOT NULL,
    float_amount   bigint NOT NULL CHECK (float_amount >= 0),
    closed_by      text,
    closed_at      timestamptz,
    counted_cash   bigint,
    expected_cash  bigint,
    variance       bigint
);

CREATE TABLE sales (
    sale_id         uuid PRIMARY KEY,
    terminal_id     text NOT NULL,
    node_id         bigint NOT NULL,
    shift_id        uuid NOT NULL,
    check_id        text NOT NULL UNIQUE,
    cashier         text NOT NULL,
    created_at      timestamptz NOT NULL,
    subtotal        bigint NOT NULL,
    discount        bigint NOT NULL,
    total           bigint NOT NULL CHECK (total >= 0),
    cash_amount     bigint NOT NULL,
    card_amount     bigint NOT NULL,
    change_given    bigint NOT NULL,
    status          text NOT NULL,
    node_type       text NOT NULL,
    policy_version  integer NOT NULL,
    minted          bigint NOT NULL,
    record_seq      bigint NOT NULL,
    CHECK (subtotal - discount = total),
    CHECK (cash_amount + card_amount = total)
);
CREATE INDEX sales_created ON sales (created_at);

CREATE TABLE sale_items (
    sale_id     uuid NOT NULL,
    line_no     integer NOT NULL,
    item_id     text NOT NULL,
    name        text NOT NULL,
    quantity    integer NOT NULL CHECK (quantity BETWEEN 1 AND 999),
    unit_price  bigint NOT NULL CHECK (unit_price >= 0),
    PRIMARY KEY (sale_id, line_no)
);

CREATE TABLE payments (
    sale_id       uuid NOT NULL,
    line_no       integer NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('cash', 'card')),
    amount        bigint NOT NULL CHECK (amount > 0),
    tendered      bigint NOT NULL,
    change_given  bigint NOT NULL,
    reference     text NOT NULL,
    PRIMARY KEY (sale_id, line_no)
);

CREATE TABLE checks (
    check_id              text PRIMARY KEY,
    sale_id               uuid NOT NULL UNIQUE,
    claim_hash            text NOT NULL,
    claim_salt            text NOT NULL,
    claim_hash_alg        text NOT NULL,
    claim_hash_iterations integer NOT NULL,
    claim_address         text NOT NULL,
    claimed_at            timestamptz,
    claimed_to            text
);

-- One row per sale: the ST it minted and each party's part (owner, franchisee, charity, customer).
CREATE TABLE token_mints (
    sale_id           uuid PRIMARY KEY,
    policy_version    integer NOT NULL,
    minted            bigint NOT NULL CHECK (minted >= 0),
    owner             bigint NOT NULL CHECK (owner >= 0),
    franchisee        bigint NOT NULL CHECK (franchisee >= 0),
    charity           bigint NOT NULL CHECK (charity >= 0),
    customer          bigint NOT NULL CHECK (customer >= 0),
    customer_address  text,
    CHECK (owner + franchisee + charity + customer = minted)
);

CREATE TABLE refunds (
    refund_id    uuid PRIMARY KEY,
    sale_id      uuid NOT NULL REFERENCES sales (sale_id),
    terminal_id  text NOT NULL REFERENCES terminals (id),
    amount       bigint NOT NULL CHECK (amount > 0),
    method       text NOT NULL,
    reason       text NOT NULL,
    approved_by  text NOT NULL,
    created_at   timestamptz NOT NULL
);

CREATE TABLE token_reversals (
    refund_id  uuid NOT NULL REFERENCES refunds (refund_id),
    party      text NOT NULL,
    amount     bigint NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (refund_id, party)
);

CREATE TABLE alerts (
    id               bigserial PRIMARY KEY,
    terminal_id      text,
    kind             text NOT NULL,
    detail           jsonb NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    acknowledged_at  timestamptz
);

CREATE TABLE menu_items (
    id          text PRIMARY KEY,
    data        jsonb NOT NULL,
    active      boolean NOT NULL DEFAULT true,
    update_seq  bigint NOT NULL
);

CREATE TABLE token_policies (
    version     integer PRIMARY KEY,
    data        jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    update_seq  bigint NOT NULL
);

-- Every change a terminal must pull gets the next number: the updates cursor.
CREATE SEQUENCE update_seq;

CREATE TABLE request_nonces (
    terminal_id  text NOT NULL,
    nonce        text NOT NULL,
    seen_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (terminal_id, nonce)
);

CREATE TABLE staff_users (
    id             bigserial PRIMARY KEY,
    username       text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9._-]{3,40}$'),
    password_hash  text NOT NULL,
    role           text NOT NULL CHECK (role IN ('hq_admin', 'auditor', 'compliance')),
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE audit_log (
    id      bigserial PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT now(),
    actor   text NOT NULL,
    action  text NOT NULL,
    target  text,
    detail  jsonb NOT NULL DEFAULT '{}'
);
