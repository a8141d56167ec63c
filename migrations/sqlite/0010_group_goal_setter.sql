-- Who set each class goal (issue 12: learners read their class goals, with who set them).
-- A user id, not a foreign key: a teacher who leaves keeps their goals; NULL for goals set
-- before this migration (their setter was not recorded).
ALTER TABLE group_goals ADD COLUMN set_by TEXT;
