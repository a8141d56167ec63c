-- What a practice screen needs of an item (issue 12, item 4): the question (prompt), the
-- choices (a JSON array of strings; empty: a free answer), the answer key (a JSON array of the
-- accepted answers, never shown to a learner before answering), hints in the order to reveal
-- them (a JSON array) and the explanation shown after answering. Existing items get none.

ALTER TABLE items ADD COLUMN prompt TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN choices TEXT NOT NULL DEFAULT '[]' CHECK (json_type(choices) = 'array');
ALTER TABLE items ADD COLUMN answers TEXT NOT NULL DEFAULT '[]' CHECK (json_type(answers) = 'array');
ALTER TABLE items ADD COLUMN hints TEXT NOT NULL DEFAULT '[]' CHECK (json_type(hints) = 'array');
ALTER TABLE items ADD COLUMN explanation TEXT NOT NULL DEFAULT '';
