-- A version counter on every saved tracer state (issue 11, item 3): each write of a state
-- bumps it, and the online update writes only if it is still the version it read
-- (compare-and-set, graph.store.GraphStore.save_traced), so two server processes tracing one
-- learner never overwrite each other's answers. States saved before this migration start at 0.

ALTER TABLE tracer_states ADD COLUMN version INTEGER NOT NULL DEFAULT 0 CHECK (version >= 0);
