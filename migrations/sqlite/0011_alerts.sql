-- Teachers' alerts, stored (issue 12): each condition (at risk, stuck on a skill) once by its
-- key KIND:learner[:skill], with when the store first kept it and whether a teacher
-- acknowledged (dismissed) it. reasons: the risk model's reasons as a JSON list.

CREATE TABLE alerts (
    key             TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    learner_id      TEXT NOT NULL REFERENCES learners (id) ON DELETE CASCADE,
    skill_id        TEXT,
    root_cause_id   TEXT,
    since_us        INTEGER NOT NULL,
    message         TEXT NOT NULL,
    risk            REAL CHECK (risk IS NULL OR (risk >= 0 AND risk <= 1)),
    reasons         TEXT NOT NULL DEFAULT '[]',
    raised_us       INTEGER NOT NULL,
    acknowledged_us INTEGER,
    acknowledged_by TEXT
) WITHOUT ROWID;
CREATE INDEX alerts_learner ON alerts (learner_id, since_us DESC);
