-- Photo attachments of visits, work orders and work-order timeline entries. The files live on
-- disk under random names; a row exists only for a file that was written first. The parent's
-- area path is copied for lists, but reads check the parent itself, so an attachment is never
-- visible where its parent is not.

CREATE TABLE attachments (
    id             INTEGER PRIMARY KEY,
    parent_kind    TEXT NOT NULL CHECK (parent_kind IN ('visit', 'work_order', 'work_order_event')),
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
CREATE INDEX attachments_parent ON attachments (parent_kind, parent_id, id);
CREATE INDEX attachments_scope ON attachments (area_path, id);
