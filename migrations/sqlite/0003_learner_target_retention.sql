-- A learner's desired retention for spaced review (issue 5): NULL means the default (0.9,
-- graph.models.DEFAULT_TARGET_RETENTION). The stores validate the allowed range with a message
-- naming the value; this CHECK is only a backstop that any stored value is a probability, so
-- narrowing or widening the Python range never needs another migration.

ALTER TABLE learners ADD COLUMN target_retention REAL
    CHECK (target_retention IS NULL OR (target_retention > 0 AND target_retention < 1));
