-- depends: 0016_menu_modifiers
-- Camera footage as evidence (issue 21): every segment a till's verified chain recorded (its hash, its times, the
-- record and block that hold it); what staff asked for; and what a till uploaded, checked against that hash and kept
-- content-addressed with the KYC cases (`blob` is the file's CID), with its key sealed to HQ's KYC key.
CREATE TABLE camera_segments (
    terminal_id    text NOT NULL REFERENCES terminals (id),
    sha256         text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    camera_id      text NOT NULL,
    file           text NOT NULL,
    started_at_ms  bigint NOT NULL,
    ended_at_ms    bigint NOT NULL,
    frames         integer NOT NULL,
    size           bigint NOT NULL CHECK (size >= 0),
    record_seq     bigint NOT NULL,
    block_height   bigint NOT NULL,
    received       bigint NOT NULL DEFAULT 0,  -- bytes of an upload under way
    blob           text,                       -- the bytes are here, and hash to sha256
    key_envelope   bytea,                      -- the segment's key, sealed to HQ's KYC key; it opened the bytes
    stored_at      timestamptz,                -- both: the footage can be played
    missing_at     timestamptz,                -- the till no longer holds it (retention deleted it first)
    refused_at     timestamptz,                -- an upload did not hash to the ledger's value
    deleted_at     timestamptz,                -- HQ's retention deleted the bytes and key (the proof remains)
    PRIMARY KEY (terminal_id, sha256)
);
CREATE INDEX camera_segments_by_time ON camera_segments (terminal_id, camera_id, started_at_ms);
CREATE INDEX camera_segments_stored ON camera_segments (stored_at) WHERE blob IS NOT NULL;

-- A till's cameras as its camera_configured / camera_removed records name them (for the console's pages).
CREATE TABLE terminal_cameras (
    terminal_id  text NOT NULL REFERENCES terminals (id),
    camera_id    text NOT NULL,
    name         text NOT NULL,
    kind         text NOT NULL,
    removed      boolean NOT NULL DEFAULT false,
    PRIMARY KEY (terminal_id, camera_id)
);

CREATE TABLE evidence_requests (
    id            bigserial PRIMARY KEY,
    terminal_id   text NOT NULL REFERENCES terminals (id),
    camera_id     text NOT NULL,
    from_ms       bigint NOT NULL,
    to_ms         bigint NOT NULL CHECK (to_ms >= from_ms),
    alert_id      bigint REFERENCES alerts (id),
    reason        text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    requested_by  text NOT NULL,
    requested_at  timestamptz NOT NULL DEFAULT now(),
    hold_reason   text CHECK (length(hold_reason) BETWEEN 1 AND 500),  -- kept past retention (a case, the police)
    held_by       text,
    held_at       timestamptz
);
CREATE INDEX evidence_requests_by_camera ON evidence_requests (terminal_id, camera_id);
