-- The serving tracer model belongs to the store (issue 11, item 9): two stores served from
-- one model registry directory each have their own, and switching one leaves the other alone.
-- One row at most; no row, or a NULL key, means BKT with population defaults ('bkt-default').

CREATE TABLE serving_model (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    model_key  TEXT,
    updated_us INTEGER NOT NULL
);

-- Switches of the serving model run as background jobs; any server process reports on them.
CREATE TABLE tracer_activations (
    id          TEXT PRIMARY KEY,
    model_key   TEXT NOT NULL,
    previous    TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('running', 'succeeded', 'failed')),
    progress    REAL NOT NULL CHECK (progress >= 0 AND progress <= 1),
    message     TEXT NOT NULL,
    error       TEXT,
    started_us  INTEGER NOT NULL,
    updated_us  INTEGER NOT NULL,
    finished_us INTEGER,
    changed     INTEGER NOT NULL,
    learners    INTEGER NOT NULL,
    attempts    INTEGER NOT NULL,
    passes      INTEGER NOT NULL,
    missed      INTEGER NOT NULL
) WITHOUT ROWID;
