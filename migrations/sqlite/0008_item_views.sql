-- Views of lessons, videos and readings (issue 12, item 4): not answers, so no score and never
-- traced. Idempotent on the client's view id, like attempts; item_id is not a foreign key (as
-- attempts.item_id is not), so deleting an item keeps the learner's history.

CREATE TABLE item_views (
    view_id    TEXT PRIMARY KEY,
    learner_id TEXT NOT NULL REFERENCES learners (id) ON DELETE CASCADE,
    item_id    TEXT NOT NULL,
    ts_us      INTEGER NOT NULL,
    seconds    INTEGER CHECK (seconds IS NULL OR seconds >= 0),
    progress   REAL NOT NULL CHECK (progress >= 0 AND progress <= 1)
) WITHOUT ROWID;
CREATE INDEX item_views_learner_time ON item_views (learner_id, ts_us DESC, view_id DESC);
