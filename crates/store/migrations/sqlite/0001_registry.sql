-- The registry: areas, places, households, persons, tags.
-- Every fact row carries `area_path`, the materialized path of its grid ("/1/2/5/9/14/"), so a
-- caller's scope is an indexed range on that column. Dates are 'YYYY-MM-DD' text and
-- timestamps fixed-width UTC text, so that text order is time order.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE areas (
    id         INTEGER PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    level      TEXT NOT NULL CHECK (level IN ('city', 'district', 'subdistrict', 'community', 'grid')),
    parent_id  INTEGER REFERENCES areas (id),
    path       TEXT NOT NULL UNIQUE,
    boundary   TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX areas_parent ON areas (parent_id, code);

CREATE TABLE places (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('compound', 'building', 'unit', 'dwelling')),
    parent_id  INTEGER REFERENCES places (id),
    area_id    INTEGER NOT NULL REFERENCES areas (id),
    area_path  TEXT NOT NULL,
    label      TEXT NOT NULL,
    floor      INTEGER,
    address    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK ((kind = 'compound') = (parent_id IS NULL))
);
CREATE UNIQUE INDEX places_child_label ON places (parent_id, label) WHERE parent_id IS NOT NULL;
CREATE UNIQUE INDEX places_compound_label ON places (area_id, label) WHERE parent_id IS NULL;
CREATE INDEX places_scope ON places (area_path, kind, id);

CREATE TABLE households (
    id          INTEGER PRIMARY KEY,
    dwelling_id INTEGER REFERENCES places (id),
    area_id     INTEGER NOT NULL REFERENCES areas (id),
    area_path   TEXT NOT NULL,
    started_on  TEXT NOT NULL,
    ended_on    TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX households_scope ON households (area_path, id);
CREATE INDEX households_dwelling ON households (dwelling_id);

CREATE TABLE persons (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL,
    sex              TEXT NOT NULL,
    birth_date       TEXT,
    id_number_cipher BLOB,
    id_number_hash   BLOB,
    id_number_masked TEXT,
    phone_cipher     BLOB,
    phone_hash       BLOB,
    phone_masked     TEXT,
    phone_tail       TEXT,
    residence_type   TEXT,
    household_id     INTEGER REFERENCES households (id),
    city_id          INTEGER NOT NULL REFERENCES areas (id),
    area_id          INTEGER NOT NULL REFERENCES areas (id),
    area_path        TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE UNIQUE INDEX persons_id_number ON persons (city_id, id_number_hash);
CREATE INDEX persons_scope ON persons (area_path, id);
CREATE INDEX persons_scope_birth ON persons (area_path, birth_date);
CREATE INDEX persons_phone_hash ON persons (phone_hash);
CREATE INDEX persons_phone_tail ON persons (phone_tail, area_path);
CREATE INDEX persons_household ON persons (household_id);

-- Name search: every key a person can be found by (name, given name, pinyin readings,
-- initials), matched by prefix.
CREATE TABLE person_search_keys (
    key       TEXT NOT NULL,
    person_id INTEGER NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    area_path TEXT NOT NULL,
    PRIMARY KEY (key, person_id)
) WITHOUT ROWID;
CREATE INDEX person_search_keys_person ON person_search_keys (person_id);

CREATE TABLE household_members (
    id             INTEGER PRIMARY KEY,
    household_id   INTEGER NOT NULL REFERENCES households (id),
    person_id      INTEGER NOT NULL REFERENCES persons (id),
    relation       TEXT NOT NULL,
    residence_type TEXT NOT NULL,
    started_on     TEXT NOT NULL,
    ended_on       TEXT,
    area_path      TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX household_members_household ON household_members (household_id, started_on);
CREATE INDEX household_members_person ON household_members (person_id);
CREATE UNIQUE INDEX household_members_current ON household_members (person_id) WHERE ended_on IS NULL;

CREATE TABLE tags (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name_zh     TEXT NOT NULL,
    name_en     TEXT NOT NULL,
    sensitivity TEXT NOT NULL CHECK (sensitivity IN ('care', 'control', 'united_front', 'health')),
    subject     TEXT NOT NULL CHECK (subject IN ('person', 'household')),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE tag_assignments (
    id           INTEGER PRIMARY KEY,
    tag_id       INTEGER NOT NULL REFERENCES tags (id),
    person_id    INTEGER REFERENCES persons (id),
    household_id INTEGER REFERENCES households (id),
    area_path    TEXT NOT NULL,
    started_on   TEXT NOT NULL,
    ended_on     TEXT,
    note         TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    CHECK ((person_id IS NULL) <> (household_id IS NULL))
);
-- Current assignments (ended_on IS NULL) drive cohorts and dashboards: covering indexes.
CREATE INDEX tag_assignments_cohort ON tag_assignments (tag_id, area_path, person_id, household_id) WHERE ended_on IS NULL;
CREATE INDEX tag_assignments_counts ON tag_assignments (area_path, tag_id) WHERE ended_on IS NULL;
CREATE INDEX tag_assignments_person ON tag_assignments (person_id) WHERE person_id IS NOT NULL;
CREATE INDEX tag_assignments_household ON tag_assignments (household_id) WHERE household_id IS NOT NULL;
CREATE UNIQUE INDEX tag_assignments_one_current_person ON tag_assignments (tag_id, person_id) WHERE ended_on IS NULL AND person_id IS NOT NULL;
CREATE UNIQUE INDEX tag_assignments_one_current_household ON tag_assignments (tag_id, household_id) WHERE ended_on IS NULL AND household_id IS NOT NULL;
