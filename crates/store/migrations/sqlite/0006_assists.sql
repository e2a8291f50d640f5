-- Assist requests (协助): one row per colleague asked for help on a work order. The order's
-- area path is copied so that assignees' lists are filtered by scope like every fact row.
-- Timeline entries about an assist name it, so the order's history says who helped.

CREATE TABLE assists (
    id              INTEGER PRIMARY KEY,
    work_order_id   INTEGER NOT NULL REFERENCES work_orders (id),
    requested_by_id INTEGER NOT NULL REFERENCES users (id),
    assignee_id     INTEGER NOT NULL REFERENCES users (id),
    -- The role a team request named, when the assignee was asked as one of a team.
    team_role       TEXT,
    message         TEXT NOT NULL,
    state           TEXT NOT NULL
                    CHECK (state IN ('requested', 'accepted', 'declined', 'done', 'cancelled')),
    decline_reason  TEXT,
    done_note       TEXT,
    requested_at    TEXT NOT NULL,
    answered_at     TEXT,
    finished_at     TEXT,
    area_path       TEXT NOT NULL,
    CHECK (requested_by_id <> assignee_id)
);
CREATE INDEX assists_assignee ON assists (assignee_id, id);
CREATE INDEX assists_requester ON assists (requested_by_id, id);
CREATE INDEX assists_order ON assists (work_order_id, id);
CREATE INDEX assists_scope ON assists (area_path, id);
-- A colleague is asked once while a request to them is open: asking twice is the same request.
CREATE UNIQUE INDEX assists_open ON assists (work_order_id, assignee_id)
    WHERE state IN ('requested', 'accepted');

ALTER TABLE work_order_events ADD COLUMN assist_id INTEGER REFERENCES assists (id);
