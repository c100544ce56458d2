-- Package sets are kept only while a host uses them: one agent sending a new
-- 200,000-package inventory after another grew the database by tens of megabytes each
-- time, because the inventory history held every set it had ever named. The history now
-- keeps the set's hash as an identifier only (no foreign key), so a set no host points
-- at can be deleted with its members.
CREATE TABLE inventory_history_new (
    id               TEXT PRIMARY KEY,
    host_id          TEXT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
    received_at      INTEGER NOT NULL,
    state_hash       TEXT NOT NULL,
    package_set_hash TEXT NOT NULL
);
INSERT INTO inventory_history_new (id, host_id, received_at, state_hash, package_set_hash)
    SELECT id, host_id, received_at, state_hash, package_set_hash FROM inventory_history;
DROP TABLE inventory_history;
ALTER TABLE inventory_history_new RENAME TO inventory_history;
CREATE INDEX inventory_history_host ON inventory_history(host_id, received_at);

DELETE FROM package_sets
    WHERE NOT EXISTS (SELECT 1 FROM hosts h WHERE h.package_set_hash = package_sets.hash);
