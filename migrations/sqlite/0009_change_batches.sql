-- Curriculum edits that say what they change and can be undone (issue 12, item 3).
-- Each change-log entry records its transaction (batch: the seq of the batch's first entry)
-- and the entity as it was and as it became (JSON, NULL: did not exist). Entries written
-- before this migration keep NULLs: their batch is their own seq and they cannot be undone.
ALTER TABLE change_log ADD COLUMN batch INTEGER;
ALTER TABLE change_log ADD COLUMN before_json TEXT;
ALTER TABLE change_log ADD COLUMN after_json TEXT;
CREATE INDEX change_log_batch ON change_log (batch, seq);

-- Deleting a skill archives the data that goes with it (learners' mastery rows and goals, class
-- goals), under the deleting batch, so that undoing the delete puts it back. JSON lists, one
-- row per skill.
CREATE TABLE curriculum_archive (
    batch       INTEGER NOT NULL,
    skill_id    TEXT NOT NULL,
    mastery     TEXT NOT NULL,
    goals       TEXT NOT NULL,
    class_goals TEXT NOT NULL,
    PRIMARY KEY (batch, skill_id)
) WITHOUT ROWID;
