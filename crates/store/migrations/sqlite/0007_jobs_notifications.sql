-- Background jobs and the notifications outbox.
--
-- jobs: one row per job, claimed with a lease (lease_owner, lease_until) so that several servers
-- on one database never run the same job at once, and a job whose runner died is taken over once
-- its lease lapses. `key` is unique: enqueueing a job twice is a no-op. Periodic jobs stay
-- 'pending' and are moved to their next run_at after each run; one-off jobs end 'done' or, after
-- max_attempts failures, 'failed' with the last error kept.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,
    key          TEXT NOT NULL UNIQUE,
    state        TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
    run_at       TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
    last_error   TEXT,
    lease_owner  TEXT,
    lease_until  TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX jobs_due ON jobs (run_at) WHERE state = 'pending';

-- One row per event × recipient × channel, written in the same transaction as the event.
-- idempotency_key is unique, so a retried event never duplicates; delivery is claimed with a
-- lease (next_attempt_at moved ahead) and retried with backoff. Rows hold ids and the order's
-- title (staff-written), never residents' personal data.
CREATE TABLE notifications (
    id                INTEGER PRIMARY KEY,
    idempotency_key   TEXT NOT NULL UNIQUE,
    event             TEXT NOT NULL CHECK (event IN ('work_order_assigned', 'work_order_escalated',
                      'work_order_resolved', 'assist_requested')),
    channel           TEXT NOT NULL CHECK (channel IN ('in_app', 'log')),
    recipient_id      INTEGER NOT NULL REFERENCES users (id),
    work_order_id     INTEGER NOT NULL REFERENCES work_orders (id),
    -- The assist request, for assist_requested (its table comes with assists).
    assist_request_id INTEGER,
    -- The escalation level reached, for work_order_escalated.
    level             INTEGER,
    title             TEXT NOT NULL,
    area_path         TEXT NOT NULL,
    state             TEXT NOT NULL DEFAULT 'pending'
                      CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   TEXT NOT NULL,
    last_error        TEXT,
    created_at        TEXT NOT NULL,
    delivered_at      TEXT,
    read_at           TEXT
);
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE state = 'pending';
CREATE INDEX notifications_inbox ON notifications (recipient_id, channel, state, read_at, id);
CREATE INDEX notifications_order ON notifications (work_order_id);
