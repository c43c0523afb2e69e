-- Partitioned correlation (several detect workers, partitions_corr.go):
-- the journal of each committed batch's matches by partition, written in
-- the batch's commit; each partition's correlator state with the last
-- journal entry it includes; the partition count every worker shares; and
-- leases, which give a partition (or the once-only tasks) to one worker at
-- a time. Lease times are the database's clock, one for every machine.
CREATE TABLE correlation_part_journal (
	seq      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	part     integer NOT NULL,
	batch_id bytea NOT NULL,
	data     bytea NOT NULL
);
CREATE INDEX correlation_part_journal_part ON correlation_part_journal (part, seq);

CREATE TABLE correlation_part_state (
	part        integer PRIMARY KEY,
	data        bytea,
	journal_seq bigint NOT NULL DEFAULT 0,
	updated     bigint NOT NULL
);

CREATE TABLE correlation_partitioning (
	id         integer PRIMARY KEY CHECK (id = 1),
	partitions integer NOT NULL
);

CREATE TABLE leases (
	name    text PRIMARY KEY,
	owner   text NOT NULL,
	expires timestamptz NOT NULL
);
