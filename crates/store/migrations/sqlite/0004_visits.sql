-- Home visits (走访). A visit to a household or to one person; the household's last visit that
-- reached someone is kept on the household so "not visited in N days" is an index range.

CREATE TABLE visits (
    id           INTEGER PRIMARY KEY,
    household_id INTEGER REFERENCES households (id),
    person_id    INTEGER REFERENCES persons (id),
    visitor_id   INTEGER REFERENCES users (id),
    visitor      TEXT NOT NULL,
    visited_at   TEXT NOT NULL,
    outcome      TEXT NOT NULL CHECK (outcome IN ('at_home', 'not_home', 'refused', 'phone')),
    purpose      TEXT,
    notes        TEXT,
    observations TEXT,
    area_path    TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    CHECK (household_id IS NOT NULL OR person_id IS NOT NULL)
);
CREATE INDEX visits_household ON visits (household_id, visited_at) WHERE household_id IS NOT NULL;
CREATE INDEX visits_person ON visits (person_id, visited_at) WHERE person_id IS NOT NULL;
CREATE INDEX visits_scope ON visits (area_path, visited_at);

ALTER TABLE households ADD COLUMN last_visited_at TEXT;
CREATE INDEX households_due ON households (area_path, last_visited_at) WHERE ended_on IS NULL;
