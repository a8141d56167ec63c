-- Class goals (issue 12, teacher dashboard): the skills a teacher assigns to a whole group,
-- in order, each optionally due by a time and with a note. Deleting the group or the skill
-- deletes the goal.

CREATE TABLE group_goals (
    group_id  TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    skill_id  TEXT NOT NULL REFERENCES skills (id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    due_us    INTEGER,
    note      TEXT NOT NULL,
    PRIMARY KEY (group_id, skill_id)
) WITHOUT ROWID;
