-- Entrustments (委托) and key custody (钥匙托管), W1.
--
-- entrustments: the resident's consent to let named staff act for them. The terms (purpose,
-- period, what staff may do, channel, named staff in entrustment_staff) are what the resident
-- confirms; `terms_hash` is the BLAKE3 hash of their canonical text and starts the key chain.
-- The current holder columns are kept in step with key_events for lists (the key cabinet view,
-- overdue keys) and can always be rebuilt from the chain. The resident's link and one-time codes
-- are stored only as keyed hashes.

-- Photos of an entrustment (the finished work, a key hand-over). SQLite cannot change a CHECK in
-- place, so the table is rebuilt; nothing references attachments by foreign key yet
-- (key_events, below, will).
CREATE TABLE attachments_next (
    id             INTEGER PRIMARY KEY,
    parent_kind    TEXT NOT NULL CHECK (parent_kind IN ('visit', 'work_order', 'work_order_event', 'entrustment')),
    parent_id      INTEGER NOT NULL,
    area_path      TEXT NOT NULL,
    content_type   TEXT NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
    byte_size      BIGINT NOT NULL CHECK (byte_size > 0),
    content_hash   TEXT NOT NULL,
    stored_name    TEXT NOT NULL UNIQUE,
    thumbnail_name TEXT NOT NULL UNIQUE,
    width          INTEGER NOT NULL CHECK (width > 0),
    height         INTEGER NOT NULL CHECK (height > 0),
    kept_location  INTEGER NOT NULL DEFAULT 0 CHECK (kept_location IN (0, 1)),
    uploaded_by_id INTEGER REFERENCES users (id),
    uploaded_by    TEXT NOT NULL,
    created_at     TEXT NOT NULL
);
INSERT INTO attachments_next SELECT * FROM attachments;
DROP TABLE attachments;
ALTER TABLE attachments_next RENAME TO attachments;
CREATE INDEX attachments_parent ON attachments (parent_kind, parent_id, id);
CREATE INDEX attachments_scope ON attachments (area_path, id);

-- The entrustments themselves (see the top of this file).
CREATE TABLE entrustments (
    id                    INTEGER PRIMARY KEY,
    household_id          INTEGER NOT NULL REFERENCES households (id),
    dwelling_id           INTEGER NOT NULL REFERENCES places (id),
    resident_name         TEXT NOT NULL,
    contact_phone_cipher  BLOB NOT NULL,
    contact_phone_masked  TEXT NOT NULL,
    purpose               TEXT NOT NULL,
    permissions           TEXT NOT NULL,
    channel               TEXT NOT NULL CHECK (channel IN ('phone_call', 'sms', 'wechat')),
    starts_at             TEXT NOT NULL,
    ends_at               TEXT NOT NULL,
    state                 TEXT NOT NULL CHECK (state IN ('requested', 'awaiting_confirmation',
                          'active', 'completed', 'revoked', 'expired', 'cancelled')),
    last_at               TEXT NOT NULL,
    confirmed_at          TEXT,
    ended_at              TEXT,
    campaign_request_id   INTEGER REFERENCES campaign_requests (id),
    terms_hash            BLOB NOT NULL,
    chain_head            BLOB NOT NULL,
    key_events            INTEGER NOT NULL DEFAULT 0,
    holder                TEXT NOT NULL DEFAULT 'not_yet',
    holder_user_id        INTEGER REFERENCES users (id),
    cabinet_slot          TEXT,
    expected_return       TEXT,
    link_hash             BLOB UNIQUE,
    code_hash             BLOB,
    code_expires_at       TEXT,
    code_attempts         INTEGER NOT NULL DEFAULT 0,
    codes_today           INTEGER NOT NULL DEFAULT 0,
    codes_day             TEXT,
    view_hash             BLOB,
    view_expires_at       TEXT,
    overdue_order_id      INTEGER REFERENCES work_orders (id),
    created_by_id         INTEGER REFERENCES users (id),
    created_by            TEXT NOT NULL,
    area_path             TEXT NOT NULL,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX entrustments_scope ON entrustments (area_path, id);
CREATE INDEX entrustments_household ON entrustments (household_id);
CREATE INDEX entrustments_holding ON entrustments (holder, area_path) WHERE holder IN ('staff', 'cabinet', 'contractor');

CREATE TABLE entrustment_staff (
    entrustment_id INTEGER NOT NULL REFERENCES entrustments (id),
    user_id        INTEGER NOT NULL REFERENCES users (id),
    PRIMARY KEY (entrustment_id, user_id)
);
CREATE INDEX entrustment_staff_user ON entrustment_staff (user_id);

-- The custody chain: append-only. Each row's hash covers its canonical text and the previous
-- row's hash (the first row's "previous" is the terms hash); the receipt code is read from it.
CREATE TABLE key_events (
    id                      INTEGER PRIMARY KEY,
    entrustment_id          INTEGER NOT NULL REFERENCES entrustments (id),
    seq                     INTEGER NOT NULL CHECK (seq >= 1),
    kind                    TEXT NOT NULL CHECK (kind IN ('received_from_resident', 'stored',
                            'taken_from_cabinet', 'lent_to_contractor', 'returned_to_custody',
                            'returned_to_resident', 'lost', 'correction')),
    at                      TEXT NOT NULL,
    actor_id                INTEGER NOT NULL REFERENCES users (id),
    actor                   TEXT NOT NULL,
    witness                 TEXT CHECK (witness IN ('colleague', 'resident', 'contractor')),
    witness_id              INTEGER REFERENCES users (id),
    cabinet_slot            TEXT,
    contractor_name         TEXT,
    contractor_company      TEXT,
    contractor_phone_cipher BLOB,
    contractor_phone_masked TEXT,
    expected_return         TEXT,
    supervisor_id           INTEGER REFERENCES users (id),
    note                    TEXT,
    corrects                INTEGER,
    photo_digest            TEXT,
    attachment_id           INTEGER REFERENCES attachments (id),
    late                    INTEGER NOT NULL DEFAULT 0 CHECK (late IN (0, 1)),
    prev_hash               BLOB NOT NULL,
    hash                    BLOB NOT NULL,
    receipt_code            TEXT NOT NULL,
    area_path               TEXT NOT NULL,
    created_at              TEXT NOT NULL,
    UNIQUE (entrustment_id, seq)
);
CREATE INDEX key_events_receipt ON key_events (receipt_code);

-- The work order a key kept too long raises.
INSERT INTO work_order_categories (code, name_zh, name_en, default_unit, sla_seconds, priority)
VALUES ('key_custody_overdue', '托管钥匙超期未还', 'Entrusted key overdue', '社区居委会', 86400, 'high');

-- A key kept too long tells the people answerable for it.
CREATE TABLE notifications_next (
    id                  INTEGER PRIMARY KEY,
    idempotency_key     TEXT NOT NULL UNIQUE,
    event               TEXT NOT NULL CHECK (event IN ('work_order_assigned', 'work_order_escalated',
                        'work_order_resolved', 'assist_requested', 'campaign_request', 'key_overdue')),
    channel             TEXT NOT NULL CHECK (channel IN ('in_app', 'log')),
    recipient_id        INTEGER NOT NULL REFERENCES users (id),
    work_order_id       INTEGER REFERENCES work_orders (id),
    assist_request_id   INTEGER,
    level               INTEGER,
    campaign_id         INTEGER REFERENCES campaigns (id),
    campaign_request_id INTEGER REFERENCES campaign_requests (id),
    entrustment_id      INTEGER REFERENCES entrustments (id),
    title               TEXT NOT NULL,
    area_path           TEXT NOT NULL,
    state               TEXT NOT NULL DEFAULT 'pending'
                        CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     TEXT NOT NULL,
    last_error          TEXT,
    created_at          TEXT NOT NULL,
    delivered_at        TEXT,
    read_at             TEXT,
    CHECK (work_order_id IS NOT NULL OR campaign_id IS NOT NULL OR entrustment_id IS NOT NULL)
);
INSERT INTO notifications_next (id, idempotency_key, event, channel, recipient_id, work_order_id,
    assist_request_id, level, campaign_id, campaign_request_id, title, area_path, state, attempts,
    next_attempt_at, last_error, created_at, delivered_at, read_at)
SELECT id, idempotency_key, event, channel, recipient_id, work_order_id, assist_request_id, level,
    campaign_id, campaign_request_id, title, area_path, state, attempts, next_attempt_at,
    last_error, created_at, delivered_at, read_at
FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_next RENAME TO notifications;
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE state = 'pending';
CREATE INDEX notifications_inbox ON notifications (recipient_id, channel, state, read_at, id);
CREATE INDEX notifications_order ON notifications (work_order_id);
