-- learngraph embedded store: the initial schema.
-- Timestamps are integer microseconds since the Unix epoch (UTC) so they sort and round-trip
-- exactly. List-valued fields keep their order through a "position" column.

CREATE TABLE skills (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    topic       TEXT NOT NULL DEFAULT '',
    area        TEXT NOT NULL DEFAULT '',
    tags        TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX skills_topic ON skills (topic, id);
CREATE INDEX skills_area ON skills (area, id);

CREATE TABLE prerequisites (
    source   TEXT NOT NULL REFERENCES skills (id) ON DELETE CASCADE,
    target   TEXT NOT NULL REFERENCES skills (id) ON DELETE CASCADE,
    strength REAL NOT NULL CHECK (strength >= 0 AND strength <= 1),
    PRIMARY KEY (source, target),
    CHECK (source <> target)
) WITHOUT ROWID;
CREATE INDEX prerequisites_target ON prerequisites (target, source);

CREATE TABLE items (
    id               TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    title            TEXT NOT NULL,
    body             TEXT NOT NULL DEFAULT '',
    url              TEXT NOT NULL DEFAULT '',
    difficulty       REAL NOT NULL CHECK (difficulty >= 0 AND difficulty <= 1),
    expected_seconds INTEGER NOT NULL CHECK (expected_seconds >= 0)
);
CREATE INDEX items_kind ON items (kind, id);

CREATE TABLE item_skills (
    item_id  TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    skill_id TEXT NOT NULL REFERENCES skills (id) ON DELETE CASCADE,
    weight   REAL NOT NULL CHECK (weight > 0 AND weight <= 1),
    position INTEGER NOT NULL,
    PRIMARY KEY (item_id, skill_id)
) WITHOUT ROWID;
CREATE INDEX item_skills_skill ON item_skills (skill_id, item_id);

CREATE TABLE learners (
    id           TEXT PRIMARY KEY,
    display_name TEXT NOT NULL
);

CREATE TABLE learner_goals (
    learner_id TEXT NOT NULL REFERENCES learners (id) ON DELETE CASCADE,
    skill_id   TEXT NOT NULL REFERENCES skills (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    PRIMARY KEY (learner_id, skill_id)
) WITHOUT ROWID;
CREATE INDEX learner_goals_skill ON learner_goals (skill_id);

CREATE TABLE users (
    id           TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    role         TEXT NOT NULL
);

CREATE TABLE groups (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE group_teachers (
    group_id   TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    teacher_id TEXT NOT NULL,
    position   INTEGER NOT NULL,
    PRIMARY KEY (group_id, teacher_id)
) WITHOUT ROWID;
CREATE INDEX group_teachers_teacher ON group_teachers (teacher_id, group_id);

CREATE TABLE group_learners (
    group_id   TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    learner_id TEXT NOT NULL REFERENCES learners (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    PRIMARY KEY (group_id, learner_id)
) WITHOUT ROWID;
CREATE INDEX group_learners_learner ON group_learners (learner_id, group_id);

-- item_id is deliberately not a foreign key: removing an item keeps the learning history.
CREATE TABLE attempts (
    attempt_id       TEXT PRIMARY KEY,
    learner_id       TEXT NOT NULL REFERENCES learners (id) ON DELETE CASCADE,
    item_id          TEXT NOT NULL,
    score            REAL NOT NULL CHECK (score >= 0 AND score <= 1),
    ts_us            INTEGER NOT NULL,
    response_time_ms INTEGER,
    hints_used       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX attempts_learner_time ON attempts (learner_id, ts_us DESC, attempt_id DESC);

CREATE TABLE mastery (
    learner_id    TEXT NOT NULL REFERENCES learners (id) ON DELETE CASCADE,
    skill_id      TEXT NOT NULL REFERENCES skills (id) ON DELETE CASCADE,
    probability   REAL NOT NULL CHECK (probability >= 0 AND probability <= 1),
    uncertainty   REAL NOT NULL,
    updated_us    INTEGER NOT NULL,
    model_version TEXT NOT NULL,
    PRIMARY KEY (learner_id, skill_id)
) WITHOUT ROWID;

CREATE TABLE tracer_states (
    learner_id    TEXT NOT NULL REFERENCES learners (id) ON DELETE CASCADE,
    model_version TEXT NOT NULL,
    state         BLOB NOT NULL,
    PRIMARY KEY (learner_id, model_version)
) WITHOUT ROWID;

CREATE TABLE change_log (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    actor     TEXT NOT NULL,
    at_us     INTEGER NOT NULL,
    action    TEXT NOT NULL,
    entity    TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    detail    TEXT NOT NULL DEFAULT '{}'
);
