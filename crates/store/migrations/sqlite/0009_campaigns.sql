-- Campaigns (专项行动 / 摸排): door-to-door work over a target list frozen from the registry.
--
-- campaigns: the plan. `rule` (the target rule, JSON) is kept after launch so the list can be
-- explained and newcomers found; `tag_classes` is the bitmask of sensitivity classes the rule's
-- tags belong to, so a campaign over united-front tags is invisible to roles that may not see
-- them. `target_count` is the frozen denominator (launch plus on-demand additions).
CREATE TABLE campaigns (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('sweep', 'delivery', 'care_check')),
    purpose       TEXT,
    state         TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'active', 'closed')),
    area_id       INTEGER NOT NULL REFERENCES areas (id),
    area_path     TEXT NOT NULL,
    starts_on     TEXT NOT NULL,
    ends_on       TEXT NOT NULL,
    owner_id      INTEGER REFERENCES users (id),
    owner         TEXT NOT NULL,
    rule          TEXT NOT NULL,
    form          TEXT NOT NULL,
    tag_classes   INTEGER NOT NULL DEFAULT 0,
    desk_user_id  INTEGER REFERENCES users (id),
    public_token  TEXT UNIQUE,
    target_count  INTEGER NOT NULL DEFAULT 0,
    launched_at   TEXT,
    closed_at     TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    CHECK (ends_on >= starts_on)
);
CREATE INDEX campaigns_scope ON campaigns (area_path, id);

-- One row per target: a household (sweep) or a person (delivery, care check). Place columns
-- are copied at launch so the doors-left list orders by building and floor without joins.
CREATE TABLE campaign_items (
    id                 INTEGER PRIMARY KEY,
    campaign_id        INTEGER NOT NULL REFERENCES campaigns (id),
    household_id       INTEGER REFERENCES households (id),
    person_id          INTEGER REFERENCES persons (id),
    dwelling_id        INTEGER REFERENCES places (id),
    building_id        INTEGER REFERENCES places (id),
    floor              INTEGER,
    address            TEXT NOT NULL DEFAULT '',
    area_path          TEXT NOT NULL,
    assignee_id        INTEGER REFERENCES users (id),
    mode               TEXT NOT NULL DEFAULT 'door' CHECK (mode IN ('door', 'contactless')),
    status             TEXT NOT NULL DEFAULT 'pending'
                       CHECK (status IN ('pending', 'done', 'not_home', 'refused', 'not_found', 'follow_up')),
    slot_starts_on     TEXT,
    slot_ends_on       TEXT,
    slot_note          TEXT,
    answers            TEXT,
    note               TEXT,
    attempts           INTEGER NOT NULL DEFAULT 0,
    last_attempt_at    TEXT,
    added_after_launch INTEGER NOT NULL DEFAULT 0 CHECK (added_after_launch IN (0, 1)),
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    CHECK (household_id IS NOT NULL OR person_id IS NOT NULL),
    CHECK ((slot_starts_on IS NULL) = (slot_ends_on IS NULL))
);
CREATE UNIQUE INDEX campaign_items_household ON campaign_items (campaign_id, household_id) WHERE person_id IS NULL;
CREATE UNIQUE INDEX campaign_items_person ON campaign_items (campaign_id, person_id) WHERE person_id IS NOT NULL;
CREATE INDEX campaign_items_scope ON campaign_items (campaign_id, area_path, status);
CREATE INDEX campaign_items_doors ON campaign_items (campaign_id, building_id, floor, dwelling_id, id);
CREATE INDEX campaign_items_assignee ON campaign_items (assignee_id, status, campaign_id);

-- Every outcome recorded at a door, oldest first: "not home twice, then done" stays visible.
CREATE TABLE campaign_attempts (
    id          INTEGER PRIMARY KEY,
    item_id     INTEGER NOT NULL REFERENCES campaign_items (id),
    outcome     TEXT NOT NULL CHECK (outcome IN ('done', 'not_home', 'refused', 'not_found', 'follow_up', 'reopened')),
    mode        TEXT NOT NULL CHECK (mode IN ('door', 'contactless')),
    answers     TEXT,
    note        TEXT,
    visit_id    INTEGER REFERENCES visits (id),
    by_id       INTEGER REFERENCES users (id),
    by_name     TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX campaign_attempts_item ON campaign_attempts (item_id, id);

-- Residents' pre-registrations through the campaign's public page. The dwelling as the resident
-- typed it is kept for staff to resolve requests that matched no item; the phone is sealed like
-- every personal number, and the client address only as a keyed hash (for abuse limits).
CREATE TABLE campaign_requests (
    id                   INTEGER PRIMARY KEY,
    campaign_id          INTEGER NOT NULL REFERENCES campaigns (id),
    item_id              INTEGER REFERENCES campaign_items (id),
    reference            TEXT NOT NULL UNIQUE,
    kind                 TEXT NOT NULL CHECK (kind IN ('act_for_me', 'reschedule', 'other')),
    message              TEXT,
    contact_name         TEXT NOT NULL,
    contact_phone_cipher BLOB NOT NULL,
    contact_phone_masked TEXT NOT NULL,
    phone_matches        INTEGER NOT NULL DEFAULT 0 CHECK (phone_matches IN (0, 1)),
    building_id          INTEGER REFERENCES places (id),
    unit_label           TEXT,
    dwelling_label       TEXT NOT NULL,
    handler_id           INTEGER REFERENCES users (id),
    state                TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'handled')),
    handled_by           TEXT,
    handled_at           TEXT,
    client_hash          BLOB NOT NULL,
    area_path            TEXT NOT NULL,
    created_at           TEXT NOT NULL
);
CREATE INDEX campaign_requests_campaign ON campaign_requests (campaign_id, state, id);
CREATE INDEX campaign_requests_item ON campaign_requests (item_id) WHERE item_id IS NOT NULL;
CREATE INDEX campaign_requests_client ON campaign_requests (client_hash, created_at);
CREATE INDEX campaign_requests_handler ON campaign_requests (handler_id, state);

-- A campaign outcome is also a visit on the household's history (record once).
ALTER TABLE visits ADD COLUMN campaign_item_id INTEGER REFERENCES campaign_items (id);

-- Notifications are no longer only about work orders: a resident's pre-registration tells the
-- staff member named for it. SQLite cannot change a CHECK in place, so the table is rebuilt.
CREATE TABLE notifications_next (
    id                  INTEGER PRIMARY KEY,
    idempotency_key     TEXT NOT NULL UNIQUE,
    event               TEXT NOT NULL CHECK (event IN ('work_order_assigned', 'work_order_escalated',
                        'work_order_resolved', 'assist_requested', 'campaign_request')),
    channel             TEXT NOT NULL CHECK (channel IN ('in_app', 'log')),
    recipient_id        INTEGER NOT NULL REFERENCES users (id),
    work_order_id       INTEGER REFERENCES work_orders (id),
    assist_request_id   INTEGER,
    level               INTEGER,
    campaign_id         INTEGER REFERENCES campaigns (id),
    campaign_request_id INTEGER REFERENCES campaign_requests (id),
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
    CHECK (work_order_id IS NOT NULL OR campaign_id IS NOT NULL)
);
INSERT INTO notifications_next (id, idempotency_key, event, channel, recipient_id, work_order_id,
    assist_request_id, level, title, area_path, state, attempts, next_attempt_at, last_error,
    created_at, delivered_at, read_at)
SELECT id, idempotency_key, event, channel, recipient_id, work_order_id, assist_request_id, level,
    title, area_path, state, attempts, next_attempt_at, last_error, created_at, delivered_at, read_at
FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_next RENAME TO notifications;
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE state = 'pending';
CREATE INDEX notifications_inbox ON notifications (recipient_id, channel, state, read_at, id);
CREATE INDEX notifications_order ON notifications (work_order_id);
