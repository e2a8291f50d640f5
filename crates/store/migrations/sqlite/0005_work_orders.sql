-- Work orders (工单): a configurable category tree with a default handling unit and SLA, the
-- orders themselves (the domain aggregate's fields as columns, so the store can rebuild it), and
-- the timeline of every transition. Durations are whole microseconds; timestamps as elsewhere.

CREATE TABLE work_order_categories (
    id           INTEGER PRIMARY KEY,
    code         TEXT NOT NULL UNIQUE,
    name_zh      TEXT NOT NULL,
    name_en      TEXT NOT NULL,
    parent_id    INTEGER REFERENCES work_order_categories (id),
    default_unit TEXT,
    sla_seconds  BIGINT NOT NULL CHECK (sla_seconds BETWEEN 60 AND 31622400),
    priority     TEXT NOT NULL DEFAULT 'normal'
                 CHECK (priority IN ('urgent', 'high', 'normal', 'low'))
);

-- Urban-management classes (数字城管) and common community categories. SLAs: 2 h for life or
-- property, 24 h for utilities, 7 days in general, 15 days for complex matters.
INSERT INTO work_order_categories (code, name_zh, name_en, default_unit, sla_seconds, priority) VALUES
    ('city_environment', '市容环境', 'City appearance and environment', '城市管理执法队', 604800, 'normal'),
    ('advertising', '宣传广告', 'Advertising and posters', '城市管理执法队', 604800, 'normal'),
    ('construction', '施工管理', 'Construction management', '住房和城乡建设局', 604800, 'normal'),
    ('street_order', '街面秩序', 'Street order', '城市管理执法队', 604800, 'normal'),
    ('emergency', '突发事件', 'Emergencies', '应急管理局', 7200, 'urgent'),
    ('extended', '扩展事件', 'Other urban-management matters', '街道综合执法队', 1296000, 'normal'),
    ('facility_repair', '设施报修', 'Facility repairs', '物业服务中心', 604800, 'normal'),
    ('utilities', '水电气暖', 'Water, power, gas and heating', '公用事业服务中心', 86400, 'high'),
    ('neighbour_dispute', '邻里纠纷', 'Neighbour disputes', '社区人民调解委员会', 1296000, 'normal'),
    ('sanitation', '环境卫生', 'Sanitation', '环卫所', 604800, 'normal'),
    ('safety_hazard', '安全隐患', 'Safety hazards', '社区应急服务站', 7200, 'urgent'),
    ('resident_service', '为民服务', 'Services for residents', '社区党群服务中心', 604800, 'normal');

INSERT INTO work_order_categories (code, name_zh, name_en, parent_id, default_unit, sla_seconds, priority)
    SELECT 'streetlight', '路灯', 'Street lights', id, '路灯管理所', 86400, 'normal'
    FROM work_order_categories WHERE code = 'facility_repair';

CREATE TABLE work_orders (
    id                   INTEGER PRIMARY KEY,
    category_id          INTEGER NOT NULL REFERENCES work_order_categories (id),
    source               TEXT NOT NULL
                         CHECK (source IN ('grid_worker', 'resident', 'hotline', 'alert', 'visit')),
    title                TEXT NOT NULL,
    description          TEXT NOT NULL,
    household_id         INTEGER REFERENCES households (id),
    place_id             INTEGER REFERENCES places (id),
    area_id              INTEGER NOT NULL REFERENCES areas (id),
    area_path            TEXT NOT NULL,
    state                TEXT NOT NULL CHECK (state IN ('reported', 'accepted', 'dispatched',
                         'in_progress', 'resolved', 'closed', 'rejected', 'suspended')),
    priority             TEXT NOT NULL CHECK (priority IN ('urgent', 'high', 'normal', 'low')),
    sla_seconds          BIGINT NOT NULL,
    unit                 TEXT,
    reported_at          TEXT NOT NULL,
    last_at              TEXT NOT NULL,
    accepted_at          TEXT,
    stopped_at           TEXT,
    suspended_since      TEXT,
    resume_to            TEXT,
    suspended_total_us   BIGINT NOT NULL DEFAULT 0,
    stopped_total_us     BIGINT NOT NULL DEFAULT 0,
    extended_total_us    BIGINT NOT NULL DEFAULT 0,
    escalation_level     INTEGER NOT NULL DEFAULT 0 CHECK (escalation_level BETWEEN 0 AND 3),
    rework_count         INTEGER NOT NULL DEFAULT 0,
    extension_count      INTEGER NOT NULL DEFAULT 0,
    suspension_count     INTEGER NOT NULL DEFAULT 0,
    pending_kind         TEXT CHECK (pending_kind IN ('suspension', 'extension')),
    pending_reason       TEXT,
    pending_by_us        BIGINT,
    pending_requested_at TEXT,
    closed_at            TEXT,
    satisfaction         TEXT CHECK (satisfaction IN ('satisfied', 'basically_satisfied', 'dissatisfied')),
    follow_up_done       INTEGER NOT NULL DEFAULT 0 CHECK (follow_up_done IN (0, 1)),
    -- Derived on every write, for lists and the escalation job: when an open order counts as
    -- overdue (strictly after this), and when its next escalation falls due (strictly after).
    due_at               TEXT,
    overdue_from         TEXT,
    escalate_at          TEXT,
    reported_by_id       INTEGER REFERENCES users (id),
    reported_by          TEXT NOT NULL,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);
CREATE INDEX work_orders_scope ON work_orders (area_path, id);
CREATE INDEX work_orders_state ON work_orders (state, area_path);
CREATE INDEX work_orders_category ON work_orders (category_id);
CREATE INDEX work_orders_unit ON work_orders (unit) WHERE unit IS NOT NULL;
CREATE INDEX work_orders_overdue ON work_orders (overdue_from) WHERE overdue_from IS NOT NULL;
CREATE INDEX work_orders_escalate ON work_orders (escalate_at) WHERE escalate_at IS NOT NULL;

CREATE TABLE work_order_events (
    id            INTEGER PRIMARY KEY,
    work_order_id INTEGER NOT NULL REFERENCES work_orders (id),
    at            TEXT NOT NULL,
    actor_id      INTEGER REFERENCES users (id),
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    from_state    TEXT,
    to_state      TEXT NOT NULL,
    reason        TEXT,
    note          TEXT,
    unit          TEXT,
    lapsed        TEXT,
    area_path     TEXT NOT NULL
);
CREATE INDEX work_order_events_order ON work_order_events (work_order_id, id);
CREATE INDEX work_order_events_scope ON work_order_events (area_path, at);
