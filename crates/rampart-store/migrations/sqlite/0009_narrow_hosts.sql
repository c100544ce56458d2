-- The hosts table stays narrow: the latest inventory document (tens of kilobytes, with
-- every package) moves to its own table, read only when one host's document is asked
-- for. Every estate-wide query that reads a hosts row (the host list, the compliance
-- due check, the dashboard's counts) otherwise walks a page or more per host.
CREATE TABLE host_inventories (
    host_id  TEXT PRIMARY KEY REFERENCES hosts(id) ON DELETE CASCADE,
    document TEXT NOT NULL
);
INSERT INTO host_inventories (host_id, document)
    SELECT id, inventory FROM hosts WHERE inventory IS NOT NULL;
ALTER TABLE hosts DROP COLUMN inventory;

-- A stale snapshot becomes due when its host checks in again (the store marks it then),
-- so the due check reads indexes only: snapshots never written, and those whose
-- next_evaluation_at has come. Snapshots already waiting for that are marked now.
UPDATE host_compliance SET next_evaluation_at = 0
    WHERE stale = 1
      AND evaluated_at < (SELECT h.last_seen FROM hosts h WHERE h.id = host_compliance.host_id);
