-- Identity and the audit trail: users with area assignments, sessions and API tokens (only
-- hashes of their secrets are stored), and an append-only, hash-chained audit trail.

CREATE TABLE users (
    id                  INTEGER PRIMARY KEY,
    username            TEXT NOT NULL UNIQUE,
    display_name        TEXT NOT NULL,
    role                TEXT NOT NULL,
    password_hash       TEXT NOT NULL,
    failed_logins       INTEGER NOT NULL DEFAULT 0,
    locked_until        TEXT,
    disabled_at         TEXT,
    password_changed_at TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);

CREATE TABLE user_areas (
    user_id INTEGER NOT NULL REFERENCES users (id),
    area_id INTEGER NOT NULL REFERENCES areas (id),
    PRIMARY KEY (user_id, area_id)
);

CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    token_hash   BLOB NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    csrf_token   TEXT NOT NULL,
    client_addr  TEXT,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    revoked_at   TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    token_hash   BLOB NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    name         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Append-only: each row's hash covers its content and the previous row's hash. The single
-- head row serializes appends on both backends.
CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor_id    INTEGER,
    actor       TEXT NOT NULL,
    role        TEXT,
    action      TEXT NOT NULL,
    object_type TEXT,
    object_id   INTEGER,
    area_path   TEXT,
    reason      TEXT,
    outcome     TEXT NOT NULL,
    request_id  TEXT,
    client_addr TEXT,
    prev_hash   BLOB NOT NULL,
    hash        BLOB NOT NULL
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_object ON audit_events (object_type, object_id);
CREATE INDEX audit_events_actor ON audit_events (actor_id, at);

CREATE TABLE audit_head (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    last_id   INTEGER NOT NULL,
    last_hash BLOB NOT NULL
);

INSERT INTO audit_head (id, last_id, last_hash) VALUES (1, 0, zeroblob(32));
