-- 6: behavioural baselines merged from several detect workers
-- (baseline.go): a model's revision, incremented by every save and
-- stamped on the values it wrote, so that a worker reads back only what
-- the others saved since its last read. What was saved before is
-- revision 1, which a first read (after 0) returns.

ALTER TABLE baseline_models ADD COLUMN rev bigint NOT NULL DEFAULT 1;
ALTER TABLE baseline_values ADD COLUMN rev bigint NOT NULL DEFAULT 1;
CREATE INDEX baseline_values_rev ON baseline_values (workspace, model, rev);
